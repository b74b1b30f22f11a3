package provision

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadRejectsUnknownKeys(t *testing.T) {
	_, err := Load(strings.NewReader("[inbound]\naddress = [\"10.0.0.1/24\"]\n"))
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "inbound.address") {
		t.Fatalf("got %v; want an unknown key error naming inbound.address", err)
	}
}

func TestDerivedPeerNamesFit(t *testing.T) {
	s := &Spec{Name: "a-very-long-service-name", Inbound: &Iface{}, Outbound: &Iface{}}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Inbound.Peer) > 15 || s.Inbound.Peer == s.Outbound.Peer {
		t.Fatalf("derived peers %q, %q: want distinct names of at most 15 characters", s.Inbound.Peer, s.Outbound.Peer)
	}
}

func TestLoadRefusesHugeFiles(t *testing.T) {
	ok := "[inbound]\naddresses = [\"10.1.0.5/24\"]\n"
	pad := strings.Repeat("#", MaxSpecSize-len(ok)) + "\n" // a comment line: still valid TOML
	if _, err := Load(strings.NewReader(pad[1:] + ok)); err != nil {
		t.Fatalf("a spec of exactly %d bytes: %v", MaxSpecSize, err)
	}
	endless := &hashes{}
	_, err := Load(endless)
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("an endless spec: got %v; want ErrInvalidSpec saying it is larger than 1048576 bytes", err)
	}
	if endless.n > 2*MaxSpecSize {
		t.Errorf("Load read %d bytes of an endless spec; want at most about %d", endless.n, MaxSpecSize)
	}
}

// hashes is an endless TOML comment, counting what is read of it.
type hashes struct{ n int }

func (h *hashes) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = '#'
	}
	h.n += len(b)
	return len(b), nil
}
