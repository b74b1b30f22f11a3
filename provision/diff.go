package provision

import "strings"

// A change is one step of a reconcile: add an object, delete one, or set
// one in place (a sysctl's value, a file's content).
type change struct {
	op  string // "add", "del" or "set"
	obj object
	was object // for "set": what is there now
}

// diff is what turns the objects start made (have, in the order made) into
// the ones the spec now asks for (want). An object whose settings changed
// is deleted and added again, unless it changes in place; what a deleted
// object takes along (a link's addresses) is added again without a delete
// of its own. Pure: the dry-run renders it, the engine applies it.
func diff(have, want []object) []change {
	wantBy := map[string]object{}
	for _, w := range want {
		wantBy[w.key()] = w
	}
	dropped := map[string]bool{}
	for _, h := range have {
		if w, ok := wantBy[h.key()]; !ok || !sameObject(h, w) && !inPlace(h) {
			dropped[h.key()] = true
		}
	}
	for grew := true; grew; { // owners come before what they own, but be sure
		grew = false
		for _, h := range have {
			if !dropped[h.key()] && dropped[h.owner()] {
				dropped[h.key()], grew = true, true
			}
		}
	}
	var out []change
	haveBy := map[string]object{}
	for i := len(have) - 1; i >= 0; i-- {
		h := have[i]
		haveBy[h.key()] = h
		if dropped[h.key()] && !dropped[h.owner()] {
			out = append(out, change{op: "del", obj: h})
		}
	}
	for _, w := range want {
		h, ok := haveBy[w.key()]
		switch {
		case !ok || dropped[w.key()]:
			out = append(out, change{op: "add", obj: w})
		case !sameObject(h, w):
			out = append(out, change{op: "set", obj: w, was: h})
		}
	}
	return out
}

// render is a change as the equivalent command.
func (c change) render(n names) string {
	if c.op == "del" {
		return undoCommand(c.obj, n)
	}
	if t, ok := c.obj.(nftObj); ok && c.op == "set" {
		return t.renderReplace(n)
	}
	return c.obj.render(n)
}

// undoCommand renders what deleting o does.
func undoCommand(o object, n names) string {
	switch o := o.(type) {
	case nsObj:
		return "ip netns del " + n.ns
	case unrouteObj:
		return o.undo(n)
	case linkObj:
		if o.Kind == KindExisting {
			return "# " + o.Name + " is left in place"
		}
		if o.Kind == KindDevice {
			return ipn(n.ns, "link set dev %s netns %s", o.Name, hostOrInit(n)) + " # back as " + o.Parent
		}
		return ipn(n.ns, "link del %s", o.Name)
	case addrObj:
		return ipn(sideName(n, o.Side), "addr del %s dev %s", o.CIDR, o.Dev)
	case routeObj:
		return strings.Replace(o.render(n), "route add", "route del", 1)
	case shimObj:
		return ipn(n.host, "link del %s", o.Name)
	case sysctlObj:
		return "ip netns exec " + n.ns + " sysctl -qw " + o.Key + "=(the value before)"
	case dirObj:
		return "rmdir " + EtcNetnsDir + "/" + n.ns + " (if start made it and it is empty)"
	case ruleObj:
		return strings.Replace(o.render(n), "rule add", "rule del", 1)
	case nftObj:
		return o.nftIn(n) + "delete table " + o.Family + " " + o.Name
	case hostSysctlObj:
		return hostExec(n) + "sysctl -qw " + o.Key + "=(the value before)"
	case fileObj:
		return "rm " + EtcNetnsDir + "/" + n.ns + "/" + o.Name + " (if it still holds what start wrote)"
	}
	return "delete " + o.key()
}

func hostOrInit(n names) string {
	if n.host == "" {
		return "1"
	}
	return n.host
}
