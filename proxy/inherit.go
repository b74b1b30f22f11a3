package proxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// What a master passes its worker: environment variables naming the
// sockets (as LISTEN_FDNAMES does) and fixed descriptors.
const (
	envWorker     = "NETNS_PROXY_WORKER"     // "1" in a worker
	envFDNames    = "NETNS_PROXY_FDNAMES"    // listener keys, comma-separated, fd 5 onwards
	envGeneration = "NETNS_PROXY_GENERATION" // reloads so far
	fdReady       = 3                        // worker writes "ready\n" here once serving
	fdConfig      = 4                        // the config the master validated
	fdListeners   = 5
)

// IsWorker reports whether this process was started by a master.
func IsWorker() bool { return os.Getenv(envWorker) == "1" }

// Inherited is what a worker got from its master.
type Inherited struct {
	Config  *Config
	Options Options
}

// Inherit reads the config and sockets a master passed. The config comes
// through a pipe, not the file, so the worker runs exactly what the master
// validated even if the file changes in between.
func Inherit() (*Inherited, error) {
	cf := os.NewFile(fdConfig, "config")
	text, err := io.ReadAll(cf)
	cf.Close()
	if err != nil {
		return nil, fmt.Errorf("reading config from master: %w", err)
	}
	cfg, err := Load(strings.NewReader(string(text)))
	if err != nil {
		return nil, fmt.Errorf("config from master: %w", err)
	}
	in := &Inherited{Config: cfg, Options: Options{Listeners: map[string]*net.TCPListener{}}}
	in.Options.Generation, _ = strconv.ParseUint(os.Getenv(envGeneration), 10, 64)
	if names := os.Getenv(envFDNames); names != "" {
		for i, key := range strings.Split(names, ",") {
			f := os.NewFile(uintptr(fdListeners+i), key)
			ln, err := net.FileListener(f) // dups; the inherited fd is closed below
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("taking over listener %s: %w", key, err)
			}
			tl := ln.(*net.TCPListener)
			noAcceptKeepAlive(tl)
			in.Options.Listeners[key] = tl
		}
	}
	ready := os.NewFile(fdReady, "ready")
	in.Options.Ready = func() {
		_, _ = io.WriteString(ready, "ready\n")
		ready.Close()
	}
	for _, k := range []string{envWorker, envFDNames, envGeneration} {
		os.Unsetenv(k) // not for anything this worker might start
	}
	return in, nil
}
