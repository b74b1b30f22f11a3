// Package proxy is netns-proxy: a TCP proxy whose listeners and servers live
// in named network namespaces, speaking PROXY protocol v1/v2 with the NETNS
// TLV the way HAProxy does (HAProxy's doc/network-namespaces.txt).
//
// Namespaces: every namespace the config names is opened once, at start,
// from /run/netns (netns_linux.go); a name received in a PROXY header is
// only a key into that table. A socket is born in its namespace: the
// thread is locked and switched before socket(2) and switched back in the
// Dialer/ListenConfig Control hook, so connect and accept then run on
// ordinary goroutines. If switching back fails the thread stays locked
// and dies with its goroutine.
//
// Data paths: a frontend that needs nothing but TCP (no PROXY header in or
// out, no transparent source, no server address from the header) is
// served by the event loops (evloop_linux.go): one goroutine per CPU with
// its own edge-triggered epoll set does accept4, a non-blocking connect
// from a socket born in its namespace, and the relay (copied through the
// loop's buffer while small, spliced once large: evcopy_linux.go); a
// connection is a slot in a loop's table, new ones go to the loop holding
// fewest (evhand_linux.go), a busy loop sleeps in epoll_wait and an idle
// one in Go's poller (evwait_linux.go), and timeouts are checked once a
// tick. Every other frontend takes the
// goroutine path below (NETNS_PROXY_DATAPATH=goroutines: all of them).
//
// Goroutine path: an accept loop per listener takes a max_connections slot
// before Accept (back-pressure). A goroutine per new connection reads the
// optional PROXY header, picks and dials a server (failing over), sends
// the outgoing header and ends; two goroutines then copy, one per
// direction, with splice(2) through pipes pooled and held only while data
// moves. A direction idle for a second parks in one process-wide epoll set
// and its goroutine ends, so an idle connection keeps only its heap state:
// no goroutine, no stack, no pipe (park_linux.go). Idle timeouts are
// judged with TCP_INFO, which sees both directions of a socket.
//
// Stop: the context ends accepting; connections drain for up to grace and
// the rest are closed.
package proxy
