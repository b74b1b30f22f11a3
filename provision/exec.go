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
}

// NewCommand resolves args[0] in PATH, user and group (with the user's
// supplementary groups, as initgroups(3) does) and checks that the pidfile's
// directory and chdir exist.
func NewCommand(netnsName string, args []string, es ExecSpec) (*Command, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: no command to exec", ErrInvalidSpec)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("looking up %q: %w", args[0], ErrCommandNotFound)
		}
		return nil, fmt.Errorf("%w: looking up %q: %v", ErrInvalidSpec, args[0], err)
	}
	c := &Command{Netns: netnsName, Path: path, Args: args, Env: os.Environ(), Exec: es, uid: -1, gid: -1}
	if err := c.resolveCreds(); err != nil {
		return nil, err
	}
	if es.Pidfile != "" {
		if fi, err := os.Stat(filepath.Dir(es.Pidfile)); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: pidfile %q: directory %s does not exist", ErrInvalidSpec, es.Pidfile, filepath.Dir(es.Pidfile))
		}
	}
	if es.Chdir != "" {
		if fi, err := os.Stat(es.Chdir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: chdir %q: not a directory", ErrInvalidSpec, es.Chdir)
		}
	}
	return c, nil
}

func (c *Command) resolveCreds() error {
	es := c.Exec
	if es.User != "" {
		u, err := lookupUser(es.User)
		if err != nil {
			return fmt.Errorf("%w: looking up user %q: %v", ErrInvalidSpec, es.User, err)
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
			return fmt.Errorf("%w: looking up group %q: %v", ErrInvalidSpec, es.Group, err)
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

// setEnv returns env with each KEY=VALUE of add replacing any earlier KEY.
func setEnv(env, add []string) []string {
	keys := map[string]bool{}
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	out := make([]string, 0, len(env)+len(add))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, add...)
}
