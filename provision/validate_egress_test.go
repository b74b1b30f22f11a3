package provision

import "testing"

func f(b bool) *bool { return &b }

// The egress keys' refused values run with the rest (TestValidateRefuses).
func init() {
	badCases = append(badCases, []badCase{
		{"egress", "reply_via off the inbound subnet", in(func(i *Iface) { i.ReplyVia = "10.9.0.1" }), "inbound.reply_via", q("10.9.0.1")},
		{"egress", "reply_via of the wrong family", in(func(i *Iface) { i.ReplyVia = "fd00:1::1" }), "inbound.reply_via", q("fd00:1::1")},
		{"egress", "reply_via the namespace's own", in(func(i *Iface) { i.ReplyVia = "10.1.0.5" }), "inbound.reply_via", q("10.1.0.5")},
		{"egress", "reply_via6 off the subnet", in(func(i *Iface) { i.ReplyVia6 = "fd00:9::1" }), "inbound.reply_via6", q("fd00:9::1")},
		{"egress", "reply_via on outbound", out(func(i *Iface) { i.ReplyVia = "10.2.0.1" }), "outbound.reply_via", q("10.2.0.1")},
		{"egress", "masquerade on inbound", in(func(i *Iface) { i.Masquerade = "eth0" }), "inbound.masquerade", q("eth0")},
		{"egress", "masquerade on a macvlan", out(func(i *Iface) { i.Kind, i.Parent, i.Masquerade = KindMacvlan, "eth1", "eth0" }), "outbound.masquerade", q("eth0")},
		{"egress", "masquerade bad name", out(func(i *Iface) { i.Masquerade = "eth/0" }), "outbound.masquerade", q("eth/0")},
		{"egress", "masquerade out of its own peer", out(func(i *Iface) { i.Peer, i.Masquerade = "up0", "up0" }), "outbound.masquerade", q("up0")},
		{"egress", "masquerade with no IPv4", out(func(i *Iface) {
			i.Addresses, i.Gateway, i.Routes, i.Masquerade = []string{"fd00:2::5/64"}, "", nil, "eth0"
		}), "outbound.masquerade", q("eth0")},
		{"egress", "only an unknown interface", func(s *Spec) { s.Egress.Only = []string{"out0", "eth0"} }, "egress.only[1]", q("eth0")},
		{"egress", "only empty", func(s *Spec) { s.Egress.Only = []string{} }, "egress.only", "empty"},
		{"egress", "ipv6 off with IPv6 addresses", func(s *Spec) { s.Egress.IPv6 = f(false) }, "egress.ipv6", "inbound.addresses[1]"},
		{"egress", "publish proto", func(s *Spec) { s.Publish = []Publish{{"sctp", "0.0.0.0:80", "10.1.0.5:80"}} }, "publish[0].proto", q("sctp")},
		{"egress", "publish port 0", func(s *Spec) { s.Publish = []Publish{{"tcp", "0.0.0.0:0", "10.1.0.5:80"}} }, "publish[0].host", q("0.0.0.0:0")},
		{"egress", "publish port too big", func(s *Spec) { s.Publish = []Publish{{"tcp", "0.0.0.0:65536", "10.1.0.5:80"}} }, "publish[0].host", q("0.0.0.0:65536")},
		{"egress", "publish no port", func(s *Spec) { s.Publish = []Publish{{"tcp", "0.0.0.0", "10.1.0.5:80"}} }, "publish[0].host", q("0.0.0.0")},
		{"egress", "publish IPv6 host", func(s *Spec) { s.Publish = []Publish{{"tcp", "[::]:80", "10.1.0.5:80"}} }, "publish[0].host", q("[::]:80")},
		{"egress", "publish to a foreign address", func(s *Spec) { s.Publish = []Publish{{"tcp", "0.0.0.0:80", "10.1.0.9:80"}} }, "publish[0].to", q("10.1.0.9:80")},
		{"egress", "publish to the host side", func(s *Spec) { s.Publish = []Publish{{"udp", "0.0.0.0:80", "10.1.0.1:80"}} }, "publish[0].to", q("10.1.0.1:80")},
		{"egress", "publish to port 0", func(s *Spec) { s.Publish = []Publish{{"udp", "0.0.0.0:80", "10.1.0.5:0"}} }, "publish[0].to", q("10.1.0.5:0")},
		{"egress", "publish twice", func(s *Spec) {
			s.Publish = []Publish{{"tcp", "0.0.0.0:80", "10.1.0.5:80"}, {"tcp", "0.0.0.0:80", "10.2.0.5:80"}}
		}, "publish[1].host", q("0.0.0.0:80")},
		{"egress", "publish under a wildcard", func(s *Spec) {
			s.Publish = []Publish{{"tcp", "0.0.0.0:80", "10.1.0.5:80"}, {"tcp", "192.0.2.1:80", "10.2.0.5:80"}}
		}, "publish[1].host", q("192.0.2.1:80")},
	}...)
}

func TestValidateAcceptsEgress(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Spec)
	}{
		{"the issue's example", func(s *Spec) {
			s.Inbound.ReplyVia, s.Inbound.ReplyVia6 = "10.1.0.1", "fd00:1::1"
			s.Outbound.Masquerade = "eth0"
			s.Egress = Egress{Only: []string{"out0"}, IPv6: f(true)}
			s.Publish = []Publish{{"tcp", "0.0.0.0:8080", "10.1.0.5:80"}, {"udp", "0.0.0.0:8080", "10.1.0.5:80"}}
		}},
		{"only lo and both", func(s *Spec) { s.Egress.Only = []string{"lo", "in0", "out0"} }},
		{"ipv6 off on an IPv4 spec", func(s *Spec) {
			s.Inbound.Addresses = s.Inbound.Addresses[:1]
			s.Outbound.Addresses, s.Outbound.Gateway6 = s.Outbound.Addresses[:1], ""
			s.Egress.IPv6 = f(false)
		}},
		{"two host addresses on one port", func(s *Spec) {
			s.Publish = []Publish{{"tcp", "192.0.2.1:80", "10.1.0.5:80"}, {"tcp", "192.0.2.2:80", "10.1.0.5:81"}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := validSpec()
			c.mod(s)
			s.Normalize()
			if err := s.Validate(); err != nil {
				t.Errorf("got %v; want it accepted", err)
			}
		})
	}
}
