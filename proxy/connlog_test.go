package proxy

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// The hand-formatted connection line must be byte for byte slog's, in
// both formats, or say it cannot (and slog formats it).
func TestConnLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 12, 2, 14, 9, 55, 120_456_789, time.FixedZone("", 3600))
	terms := []string{"closed", "client timeout", `server "a"=b`, `back\slash`, "", "<&>", "no server: dial tcp 10.0.0.1:80: connect: connection refused"}
	for _, json := range []bool{false, true} {
		for _, term := range terms {
			for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
				var want bytes.Buffer
				h := newLineHandler(&want, json).WithAttrs([]slog.Attr{slog.Int("pid", 4242), slog.String("role", "worker x")}).(*lineHandler)
				f := connFields{client: "10.0.0.2:40000", clientNS: "", peer: "[fd00::2]:5", frontend: "web", backend: "b-1",
					server: "-", in: 123, out: 1 << 40, connect: 1500 * time.Microsecond, total: 3*time.Second + 7, term: term}
				r := slog.NewRecord(at, level, "connection", 0)
				r.AddAttrs(slog.String("client", f.client), slog.String("client_ns", f.clientNS), slog.String("peer", f.peer),
					slog.String("frontend", f.frontend), slog.String("backend", f.backend), slog.String("server", f.server),
					slog.Int64("bytes_in", f.in), slog.Int64("bytes_out", f.out), slog.Duration("connect", f.connect),
					slog.Duration("total", f.total), slog.String("term", f.term))
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				got, ok := h.appendConn([]byte("x"), at, level, &f)
				if !ok {
					t.Fatalf("json=%v term %q: not formatted by hand", json, term)
				}
				if string(got[1:]) != want.String() {
					t.Errorf("json=%v term %q:\n got %s\nwant %s", json, term, got[1:], want.String())
				}
			}
		}
	}
	// Outside printable ASCII: slog's, untouched buffer.
	h := newLineHandler(&bytes.Buffer{}, false)
	f := connFields{term: "caf\u00e9\n"}
	if b, ok := h.appendConn([]byte("keep"), at, slog.LevelInfo, &f); ok || string(b) != "keep" {
		t.Errorf("non-ASCII term: ok=%v buffer %q, want false and %q", ok, b, "keep")
	}
	// A group leaves the hand formatter out.
	if connLogOf(slog.New(newLineHandler(&bytes.Buffer{}, false).WithGroup("g"))) != nil {
		t.Error("a logger with a group is formatted by hand")
	}
}
