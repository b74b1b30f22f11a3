package proxy

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// raiseFileLimit lifts RLIMIT_NOFILE so conns connections (two sockets each,
// plus splice pipes while data moves) fit, as HAProxy does from maxconn.
// Go already raised the soft limit to the hard one; root may go further, up
// to fs.nr_open. Failure is not fatal: accept backs off on EMFILE.
func raiseFileLimit(conns int) {
	want := uint64(conns)*3 + 1024
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= want {
		return
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = min(want, n)
		}
	}
	if want > lim.Max {
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: want, Max: want}) == nil {
			return
		}
		want = lim.Max
	}
	_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: want, Max: lim.Max})
}
