package proxy

import (
	"fmt"
	"os"

	"github.com/coreos/go-systemd/v22/daemon"
)

// sdNotify tells systemd (Type=notify) about the master's state. The
// library is used for its socket handling (abstract names, credentials);
// without $NOTIFY_SOCKET it does nothing.
func sdNotify(state string) {
	daemon.SdNotify(false, state) //nolint:errcheck // best effort, as sd_notify(3)
}

func notifyReady() { sdNotify(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid())) }

// notifyReloading carries MONOTONIC_USEC, which Type=notify-reload
// (systemd 253+) requires to match the reload to its READY=1.
func notifyReloading() {
	sdNotify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
}

func notifyStopping() { sdNotify("STOPPING=1") }
