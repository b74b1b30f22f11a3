package proxy

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// The connection line is the one log line per connection: on the event
// loop it is formatted by hand, byte for byte as slog's text or JSON
// handler would, into the loop's buffer, and written once per loop turn.
// Through slog it cost about a tenth of the proxy's user time plus a
// write(2) and the handler's lock, which two loops fought over. Anything
// the hand formatter does not know (a group, a value kind, a string with
// bytes outside printable ASCII) goes through slog as before.

// lineHandler is slog's handler plus what the hand formatter needs.
type lineHandler struct {
	slog.Handler
	w    *os.File // nil: writes cannot bypass the handler
	json bool
	pre  []byte // the handler's attrs, formatted
	ok   bool   // pre holds all of them
}

func newLineHandler(w io.Writer, json bool) *lineHandler {
	h := &lineHandler{json: json, ok: true}
	if json {
		h.Handler = slog.NewJSONHandler(w, nil)
	} else {
		h.Handler = slog.NewTextHandler(w, nil)
	}
	h.w, _ = w.(*os.File)
	return h
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.Handler = h.Handler.WithAttrs(as)
	n.pre = append([]byte(nil), h.pre...)
	for _, a := range as {
		var ok bool
		n.pre, ok = n.appendAttr(n.pre, a)
		n.ok = n.ok && ok
	}
	return &n
}

// WithGroup leaves the hand formatter out: it formats no groups.
func (h *lineHandler) WithGroup(name string) slog.Handler { return h.Handler.WithGroup(name) }

// connLog is what a loop needs to log connections by hand; nil if it
// cannot.
func connLogOf(log *slog.Logger) *lineHandler {
	h, ok := log.Handler().(*lineHandler)
	if !ok || !h.ok || h.w == nil {
		return nil
	}
	return h
}

func (h *lineHandler) enabled(level slog.Level) bool {
	return h.Enabled(context.Background(), level)
}

// connFields are the connection line's values, in order.
type connFields struct {
	client, clientNS, peer, frontend, backend, server string
	in, out                                           int64
	connect, total                                    time.Duration
	term                                              string
}

// appendConn appends the line, or returns ok = false with b as it was.
func (h *lineHandler) appendConn(b []byte, now time.Time, level slog.Level, f *connFields) ([]byte, bool) {
	n := len(b)
	if h.json {
		b = append(b, `{"time":"`...)
		b = now.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"`...)
		b = append(b, level.String()...)
		b = append(b, `","msg":"connection"`...)
	} else {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, now)
		b = append(b, " level="...)
		b = append(b, level.String()...)
		b = append(b, " msg=connection"...)
	}
	b = append(b, h.pre...)
	ok := true
	str := func(k, v string) {
		if ok {
			b, ok = h.appendAttr(b, slog.String(k, v))
		}
	}
	num := func(k string, v int64) { b, _ = h.appendAttr(b, slog.Int64(k, v)) }
	str("client", f.client)
	str("client_ns", f.clientNS)
	str("peer", f.peer)
	str("frontend", f.frontend)
	str("backend", f.backend)
	str("server", f.server)
	num("bytes_in", f.in)
	num("bytes_out", f.out)
	if h.json {
		num("connect", int64(f.connect))
		num("total", int64(f.total))
	} else {
		b = append(b, " connect="...)
		b = append(b, f.connect.String()...)
		b = append(b, " total="...)
		b = append(b, f.total.String()...)
	}
	str("term", f.term)
	if !ok {
		return b[:n], false
	}
	if h.json {
		b = append(b, '}')
	}
	return append(b, '\n'), true
}

// appendAttr formats a string or integer attribute as the handler would.
func (h *lineHandler) appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	v := a.Value.Resolve()
	var ok bool
	if h.json {
		b = append(b, ',')
		if b, ok = appendJSONString(b, a.Key); !ok {
			return b, false
		}
		b = append(b, ':')
	} else {
		b = append(b, ' ')
		if b, ok = appendTextString(b, a.Key); !ok {
			return b, false
		}
		b = append(b, '=')
	}
	switch v.Kind() {
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindString:
		if h.json {
			return appendJSONString(b, v.String())
		}
		return appendTextString(b, v.String())
	}
	return b, false
}

// appendTextString is slog's text quoting for printable ASCII: quoted if
// empty or holding a space, '=' or '"'.
func appendTextString(b []byte, s string) ([]byte, bool) {
	quote := s == ""
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f:
			return b, false
		case c == ' ' || c == '=' || c == '"':
			quote = true
		}
	}
	if quote {
		return strconv.AppendQuote(b, s), true
	}
	return append(b, s...), true
}

// appendJSONString is slog's JSON string for printable ASCII.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f:
			return b, false
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}

// appendRFC3339Millis is slog's text time: RFC 3339, milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the 4th digit
}
