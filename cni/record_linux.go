package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/containernetworking/cni/pkg/types"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/safefile"
	"github.com/netns-daemon/netns-daemon/provision"
)

// The attachment record (StateDir/NAME.attachment) says which network,
// container and interface an engine state belongs to: GC needs that, and
// it makes a hash collision an error instead of a takeover.

func stateDir() (*safefile.Dir, error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", StateDir, err)
	}
	return safefile.OpenDir(StateDir)
}

func readRecord(d *safefile.Dir, file string) (attachment, error) {
	var a attachment
	b, err := d.ReadFile(file, 64<<10)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	return a, err
}

// claim writes a's record, refusing a record of another attachment under
// the same name and an ADD again for a live attachment; the state of an
// attachment whose namespace is gone (a missed DEL) is cleaned up first.
func claim(ctx context.Context, a attachment, ns xnetns.ID) error {
	d, err := stateDir()
	if err != nil {
		return types.NewError(types.ErrIOFailure, err.Error(), "")
	}
	defer d.Close()
	if old, err := readRecord(d, a.recordFile()); err == nil && old != a {
		return types.NewError(types.ErrInternal, fmt.Sprintf("%s/%s belongs to container %q, interface %q on network %q: state names collide",
			StateDir, a.recordFile(), old.ContainerID, old.IfName, old.Network), "")
	}
	st, err := provision.ReadState(a.name())
	if err != nil {
		return withCode(err)
	}
	if st != nil {
		if id := recordedNS(st); id != nil && *id == ns {
			return types.NewError(ErrAttachmentTwin, fmt.Sprintf("container %q, interface %q is attached to network %q already: DEL it first", a.ContainerID, a.IfName, a.Network), "")
		}
		if err := provision.StopDetached(ctx, a.name(), provision.Options{}); err != nil {
			return withCode(fmt.Errorf("cleaning up a stale attachment: %w", err))
		}
	}
	b, _ := json.Marshal(a)
	if err := d.WriteFile(a.recordFile(), b, 0o644); err != nil {
		return types.NewError(types.ErrIOFailure, fmt.Sprintf("writing %s/%s: %v", StateDir, a.recordFile(), err), "")
	}
	return nil
}

func removeRecord(a attachment) {
	if d, err := safefile.OpenDir(StateDir); err == nil {
		_ = d.Remove(a.recordFile()) // best effort: a record without state is collected by GC
		d.Close()
	}
}

// records lists the attachments of network.
func records(network string) ([]attachment, error) {
	entries, err := os.ReadDir(StateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", StateDir, err)
	}
	d, err := safefile.OpenDir(StateDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []attachment
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".attachment") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		a, err := readRecord(d, e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading %s/%s: %w", StateDir, e.Name(), err)
		}
		if a.Network == network && a.recordFile() == e.Name() {
			out = append(out, a)
		}
	}
	return out, nil
}
