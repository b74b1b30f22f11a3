package proxy

import (
	"net"
	"reflect"
	"unsafe"
)

// noAcceptKeepAlive makes a listener from net.FileListener accept as one
// from listenIn does: without keepalive. FileListener leaves the
// listener's ListenConfig zero, so every accepted connection would cost
// four setsockopt calls (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT) and carry keepalive probes that listeners the worker binds
// itself do not. The net package offers no way to set it, so this reaches
// the unexported field; if a Go release renames it, nothing changes but
// the cost (the test notices).
func noAcceptKeepAlive(ln *net.TCPListener) bool {
	v := reflect.ValueOf(ln).Elem().FieldByName("lc")
	if !v.IsValid() || v.Type() != reflect.TypeFor[net.ListenConfig]() || !v.CanAddr() {
		return false
	}
	lc := (*net.ListenConfig)(unsafe.Pointer(v.UnsafeAddr()))
	lc.KeepAlive = -1
	return true
}
