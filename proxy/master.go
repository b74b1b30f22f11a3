package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Master keeps the PID that systemd or a pidfile watches, and the
// listening sockets. It runs the proxy in a worker process (this binary
// again) that inherits the sockets; a reload starts a new worker on the
// same sockets and, once it is ready, tells the old one to drain. No
// socket is closed in between, so the kernel's accept queue carries every
// connection across.
type Master struct {
	ConfigPath   string        // re-read on reload
	Args         []string      // the worker's arguments (the master's own)
	Log          *slog.Logger  //
	ReadyTimeout time.Duration // for a new worker; 0 = 10s

	files    map[string]*os.File // listening sockets by key
	specs    []listenSpec        // of the running config
	text     []byte              // the running config, for restarts
	gen      uint64              // successful reloads
	draining []*worker
}

// WorkerArgv0 is a worker's argv[0], so ps and the journal show its role;
// the command names its process "netns-proxy" as well.
const WorkerArgv0 = "netns-proxy: worker"

type worker struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

// ReadConfig reads and validates a config file, keeping its text for the
// worker.
func ReadConfig(path string) (*Config, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1)) // Load refuses more
	if err != nil {
		return nil, nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	cfg, err := Load(bytes.NewReader(text))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, text, nil
}

// Run binds the sockets of cfg, starts the first worker and then serves
// signals until ctx is done: hup reloads, an unexpected worker exit
// restarts the worker on the same sockets, with backoff. Both signals are
// acted on in every state: a reload while no worker runs (a restart
// backing off) starts one at once if the new config works. On ctx done it
// stops the workers, waits for them to drain and returns.
func (m *Master) Run(ctx context.Context, cfg *Config, text []byte, hup <-chan os.Signal) error {
	files, specs, err := bindFiles(cfg, nil)
	if err != nil {
		return err
	}
	m.files, m.specs, m.text = files, specs, text
	defer closeFiles(m.files)
	cur, err := m.start(ctx, m.text, m.files)
	if err != nil {
		if ctx.Err() != nil {
			m.stop(nil)
			return nil
		}
		return err
	}
	notifyReady()
	var retry <-chan time.Time // while no worker runs: the next try
	backoff := time.Duration(0)
	later := func() {
		backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
		retry = time.After(backoff)
	}
	for {
		var exit <-chan struct{}
		if cur != nil {
			exit = cur.done
		}
		select {
		case <-ctx.Done():
			m.stop(cur)
			return nil
		case <-hup:
			if cur = m.reload(ctx, cur); cur != nil {
				retry, backoff = nil, 0
			}
		case <-exit:
			later()
			m.Log.Error("worker exited unexpectedly; restarting it", "pid", cur.cmd.Process.Pid, "status", cur.cmd.ProcessState.String(), "retry_in", backoff)
			cur = nil
		case <-retry:
			w, err := m.start(ctx, m.text, m.files)
			if err != nil {
				later()
				m.Log.Error("restarting worker", "err", err, "retry_in", backoff)
				continue
			}
			cur, retry, backoff = w, nil, 0
		}
	}
}

// reload validates the new config and hands over to a new worker; on any
// error the running worker (if one runs) keeps serving. cur is nil while
// a restart backs off: then a working config starts a worker at once.
func (m *Master) reload(ctx context.Context, cur *worker) *worker {
	notifyReloading()
	defer notifyReady()
	failed := "reload failed; the running config keeps serving"
	if cur == nil {
		failed = "reload failed; still restarting the worker with the last good config"
	}
	cfg, text, err := ReadConfig(m.ConfigPath)
	if err != nil {
		m.Log.Error(failed, "err", err)
		return cur
	}
	fresh, specs, err := bindFiles(cfg, m.files)
	if err != nil {
		m.Log.Error(failed, "err", err)
		return cur
	}
	m.logRecreated(specs, fresh)
	keep := map[string]*os.File{}
	for _, sp := range specs {
		if f := m.files[sp.key]; f != nil {
			keep[sp.key] = f
		}
	}
	maps.Copy(keep, fresh)
	m.gen++
	w, err := m.start(ctx, text, keep)
	if err != nil {
		m.gen--
		closeFiles(fresh)
		m.Log.Error(failed, "err", err)
		return cur
	}
	if cur != nil {
		_ = cur.cmd.Process.Signal(syscall.SIGTERM) // stops accepting, drains up to grace
		m.draining = append(slices.DeleteFunc(m.draining, exited), cur)
	}
	for k, f := range m.files {
		if keep[k] == nil { // removed by the new config; the old worker closed its copy
			f.Close()
		}
	}
	m.files, m.specs, m.text = keep, specs, text
	m.Log.Info("reloaded", "generation", m.gen, "pid", w.cmd.Process.Pid, "listeners", len(keep), "new", len(fresh))
	return w
}

// logRecreated says which new sockets replace ones whose namespace was
// deleted and made again under the same name.
func (m *Master) logRecreated(specs []listenSpec, fresh map[string]*os.File) {
	old := map[string]string{}
	for _, sp := range m.specs {
		old[sp.loose] = sp.key
	}
	for _, sp := range specs {
		if k, ok := old[sp.loose]; ok && k != sp.key && fresh[sp.key] != nil {
			m.Log.Warn("namespace was re-created; binding in the new one", "namespace", sp.ns, "listener", sp.owner, "address", sp.addr.String(), "old", k, "new", sp.key)
		}
	}
}

func exited(w *worker) bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// stop tells every worker to drain and waits for them.
func (m *Master) stop(cur *worker) {
	notifyStopping()
	closeFiles(m.files) // first, so the workers' close is the last: no new connection is queued
	ws := m.draining
	if cur != nil {
		ws = append(ws, cur)
	}
	for _, w := range ws {
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range ws {
		<-w.done
	}
	m.Log.Info("master stopped")
}

// start runs a worker with the sockets in files and waits until it says it
// is serving; one that fails or is too slow is killed.
func (m *Master) start(ctx context.Context, text []byte, files map[string]*os.File) (*worker, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	defer readyR.Close()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	keys := slices.Sorted(maps.Keys(files))
	cmd := exec.Command("/proc/self/exe", m.Args...)
	cmd.Args[0] = WorkerArgv0
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = workerAttr()
	cmd.ExtraFiles = []*os.File{readyW, cfgR}
	for _, k := range keys {
		cmd.ExtraFiles = append(cmd.ExtraFiles, files[k])
	}
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool {
		// The master's own protocol variables, never the operator's
		// knobs (NETNS_PROXY_DATAPATH and friends reach the worker).
		k, _, _ := strings.Cut(e, "=")
		return k == "NOTIFY_SOCKET" || k == envWorker || k == envFDNames || k == envGeneration
	}), envWorker+"=1", envFDNames+"="+keysOf(keys), fmt.Sprintf("%s=%d", envGeneration, m.gen))
	err = cmd.Start()
	readyW.Close()
	cfgR.Close()
	if err != nil {
		cfgW.Close()
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	go func() { _, _ = cfgW.Write(text); cfgW.Close() }()
	w := &worker{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(w.done) }()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(readyR).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- err
	}()
	timeout := m.ReadyTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	select {
	case err = <-ready:
	case <-time.After(timeout):
		err = errors.New("not ready in time")
	case <-ctx.Done():
		err = errors.New("stopping")
	}
	if err != nil {
		_ = cmd.Process.Kill()
		<-w.done
		return nil, fmt.Errorf("starting worker (pid %d): %w (%s)", cmd.Process.Pid, err, cmd.ProcessState)
	}
	m.Log.Info("worker ready", "pid", cmd.Process.Pid, "generation", m.gen)
	return w, nil
}
