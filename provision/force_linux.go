package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// forceClean is stop --force for a namespace whose state file cannot be
// read: it removes what the kernel shows by our naming and identity rules
// and nothing else — /run/netns/NAME if it is a real namespace mount (its
// processes ended first; the veths and macvlans inside go with it), the
// /etc/netns/NAME files that carry start's header, then the state file.
// Host-side hairpin shims cannot be told from another's without the state:
// they are left, with a warning.
func forceClean(ctx context.Context, name string, d *safefile.Dir, opt Options) error {
	opt.log("%s: state file unreadable: removing what netns-daemon-start's names and identities show", name)
	k := newKernel(&Spec{Name: name}, func(m string) { opt.log("%s: warning: %s", name, m) })
	defer k.close()
	id, err := statNS(NetnsPath(name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("stopping %q: %s: %w: nothing deleted", name, NetnsPath(name), err)
	default:
		if err := killInside(ctx, name, id, opt); err != nil {
			return err
		}
		r := &record{Kind: "netns", obj: nsObj{}, NS: &id, Done: true}
		if err := (nsObj{}).remove(k, r); err != nil {
			return err
		}
	}
	if etc, err := etcDir(k); err == nil {
		header := []byte("# written by netns-daemon-start for namespace " + name + "\n")
		for _, f := range []string{"resolv.conf", "hosts"} {
			b, err := etc.ReadFile(f, maxEtcFile)
			if err == nil && bytes.HasPrefix(b, header) {
				_ = etc.RemoveIfContent(f, b)
			}
		}
		etc.Close()
		_ = (dirObj{}).remove(k, &record{}) // warns itself
	}
	k.warn("hairpin shims in the host namespace, if any, are left: without the state they cannot be told from another's")
	return removeState(d, name)
}
