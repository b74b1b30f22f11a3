package provision

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// ErrCommandNotFound marks a daemon command that is not there; the command
// line exits 127 for it, as shells do.
var ErrCommandNotFound = errors.New("command not found")

// Command is a daemon ready to be exec'd inside a namespace. NewCommand
// checks everything it can, so that bad input fails before anything is
// provisioned.
type Command struct {
	Netns string   // the namespace to enter
	Path  string   // the resolved executable
	Args  []string // argv, Args[0] as given
	Env   []string
	Exec  ExecSpec

	uid, gid int   // -1: keep
	groups   []int // supplementary groups, set when uid or gid is

	pidDir  *safefile.Dir // the pidfile's directory, opened by NewCommand
	pidName string
}

// NewCommand resolves args[0] in PATH, user and group (with the user's
// supplementary groups, as initgroups(3) does), opens the pidfile's
// directory (no symlink anywhere in its path) and checks that chdir exists.
func NewCommand(netnsName string, args []string, es ExecSpec) (*Command, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: no command to exec", ErrInvalidSpec)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("looking up %q: %w", args[0], ErrCommandNotFound)
		}
		return nil, fmt.Errorf("%w: looking up %q: %w", ErrInvalidSpec, args[0], err)
	}
	c := &Command{Netns: netnsName, Path: path, Args: args, Env: os.Environ(), Exec: es, uid: -1, gid: -1}
	if err := c.resolveCreds(); err != nil {
		return nil, err
	}
	if err := c.openPidDir(); err != nil {
		return nil, err
	}
	if es.Chdir != "" {
		if fi, err := os.Stat(es.Chdir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: chdir %q: not a directory", ErrInvalidSpec, es.Chdir)
		}
	}
	return c, nil
}

// openPidDir opens the pidfile's directory now, before anything is made:
// the pidfile is written as root, in a directory the service user may own,
// so it is written relative to this descriptor and never through a symlink
// (see safefile).
func (c *Command) openPidDir() error {
	pf := c.Exec.Pidfile
	if pf == "" {
		return nil
	}
	dir, base := filepath.Split(pf)
	if base == "" || base == "." || base == ".." {
		return fmt.Errorf("%w: pidfile %q: want a file name", ErrInvalidSpec, pf)
	}
	if dir == "" {
		dir = "."
	}
	d, err := safefile.OpenDir(resolveRootLinks(filepath.Clean(dir)))
	if err != nil {
		return fmt.Errorf("%w: pidfile %q: %w", ErrInvalidSpec, pf, err)
	}
	c.pidDir, c.pidName = d, base
	return nil
}

// writePidfile writes pid atomically; whatever is at the name (a symlink
// planted by the directory's owner, say) is replaced, never written through.
func (c *Command) writePidfile(pid []byte) error {
	if c.pidDir == nil {
		return nil
	}
	if err := c.pidDir.WriteFile(c.pidName, pid, 0o644); err != nil {
		return fmt.Errorf("writing pidfile %s: %w", c.Exec.Pidfile, err)
	}
	return nil
}

// removePidfile removes the pidfile only if it still holds pid.
func (c *Command) removePidfile(pid []byte) {
	if c.pidDir != nil {
		_ = c.pidDir.RemoveIfContent(c.pidName, pid) // best effort: we may no longer be root
	}
}

func (c *Command) resolveCreds() error {
	es := c.Exec
	if es.User != "" {
		u, err := lookupUser(es.User)
		if err != nil {
			return fmt.Errorf("%w: looking up user %q: %w", ErrInvalidSpec, es.User, err)
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		ids, err := u.GroupIds()
		if err != nil {
			ids = []string{u.Gid} // no group database entry: the primary group only
		}
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				c.groups = append(c.groups, g)
			}
		}
	}
	if es.Group != "" {
		g, err := lookupGroup(es.Group)
		if err != nil {
			return fmt.Errorf("%w: looking up group %q: %w", ErrInvalidSpec, es.Group, err)
		}
		c.gid, _ = strconv.Atoi(g.Gid)
		c.groups = append(c.groups, c.gid)
	}
	return nil
}

// lookupUser takes a name or a numeric id; an id without a passwd entry is
// used as is, with a primary group of the same number.
func lookupUser(s string) (*user.User, error) {
	u, err := user.Lookup(s)
	if err == nil {
		return u, nil
	}
	if _, nerr := strconv.Atoi(s); nerr != nil {
		return nil, err
	}
	if u, err := user.LookupId(s); err == nil {
		return u, nil
	}
	return &user.User{Uid: s, Gid: s, Username: s}, nil
}

func lookupGroup(s string) (*user.Group, error) {
	g, err := user.LookupGroup(s)
	if err == nil {
		return g, nil
	}
	if _, nerr := strconv.Atoi(s); nerr != nil {
		return nil, err
	}
	if g, err := user.LookupGroupId(s); err == nil {
		return g, nil
	}
	return &user.Group{Gid: s, Name: s}, nil
}

// Environ is what exec mode adds to the daemon's environment: the
// namespace's name, its inbound and outbound addresses and its gateways
// (space-separated CIDRs and IPs).
func Environ(s *Spec) []string {
	var in, out, gw []string
	if s.Inbound != nil {
		in = s.Inbound.Addresses
	}
	if s.Outbound != nil {
		out = s.Outbound.Addresses
		for _, g := range []string{s.Outbound.Gateway, s.Outbound.Gateway6} {
			if g != "" {
				gw = append(gw, g)
			}
		}
	}
	return []string{
		"NETNS_NAME=" + s.Name,
		"NETNS_INBOUND_ADDRS=" + strings.Join(in, " "),
		"NETNS_OUTBOUND_ADDRS=" + strings.Join(out, " "),
		"NETNS_GATEWAY=" + strings.Join(gw, " "),
	}
}

// SetNetnsEnv puts s's NETNS_* variables (Environ) into the command's
// environment in place of every inherited NETNS_* one: the prefix is ours,
// and getenv(3) returns the first of two equal keys, so an inherited
// NETNS_GATEWAY must not stay beside the real one.
func (c *Command) SetNetnsEnv(s *Spec) { c.Env = withNetnsEnv(c.Env, Environ(s)) }

func withNetnsEnv(env, ours []string) []string {
	out := make([]string, 0, len(env)+len(ours))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NETNS_") {
			out = append(out, kv)
		}
	}
	return append(out, ours...)
}
