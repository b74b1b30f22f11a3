package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
	gen      uint64              // successful reloads
	draining []*worker
}

type worker struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

// ReadConfig reads and validates a config file, keeping its text for the
// worker.
func ReadConfig(path string) (*Config, []byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Load(strings.NewReader(string(text)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, text, nil
}

// Run binds the sockets of cfg, starts the first worker and then serves
// signals until ctx is done: hup reloads, an unexpected worker exit
// restarts the worker on the same sockets. On ctx done it stops the
// workers, waits for them to drain and returns.
func (m *Master) Run(ctx context.Context, cfg *Config, text []byte, hup <-chan os.Signal) error {
	files, err := bindFiles(cfg, nil)
	if err != nil {
		return err
	}
	m.files = files
	defer closeFiles(m.files)
	cur, err := m.start(text, m.files)
	if err != nil {
		return err
	}
	notifyReady()
	for {
		select {
		case <-ctx.Done():
			m.stop(cur)
			return nil
		case <-hup:
			cur = m.reload(cur)
		case <-cur.done:
			m.Log.Error("worker exited unexpectedly; restarting it", "pid", cur.cmd.Process.Pid, "status", cur.cmd.ProcessState.String())
			if cur = m.restart(ctx, text); cur == nil {
				m.stop(nil)
				return nil
			}
		}
	}
}

// restart retries starting a worker with backoff until it is up or ctx
// is done (then nil).
func (m *Master) restart(ctx context.Context, text []byte) *worker {
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		w, err := m.start(text, m.files)
		if err == nil {
			return w
		}
		m.Log.Error("restarting worker", "err", err)
	}
}

// reload validates the new config and hands over to a new worker; on any
// error the running worker keeps serving.
func (m *Master) reload(cur *worker) *worker {
	notifyReloading()
	defer notifyReady()
	cfg, text, err := ReadConfig(m.ConfigPath)
	if err != nil {
		m.Log.Error("reload failed; the running config keeps serving", "err", err)
		return cur
	}
	fresh, err := bindFiles(cfg, m.files)
	if err != nil {
		m.Log.Error("reload failed; the running config keeps serving", "err", err)
		return cur
	}
	keep := map[string]*os.File{}
	for _, sp := range cfg.listenSpecs() {
		if f := m.files[sp.key]; f != nil {
			keep[sp.key] = f
		}
	}
	maps.Copy(keep, fresh)
	m.gen++
	w, err := m.start(text, keep)
	if err != nil {
		m.gen--
		closeFiles(fresh)
		m.Log.Error("reload failed; the running config keeps serving", "err", err)
		return cur
	}
	cur.cmd.Process.Signal(syscall.SIGTERM) // stops accepting, drains up to grace
	m.draining = append(slices.DeleteFunc(m.draining, exited), cur)
	for k, f := range m.files {
		if keep[k] == nil { // removed by the new config; the old worker closed its copy
			f.Close()
		}
	}
	m.files = keep
	m.Log.Info("reloaded", "generation", m.gen, "pid", w.cmd.Process.Pid, "listeners", len(keep), "new", len(fresh))
	return w
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
		w.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range ws {
		<-w.done
	}
	m.Log.Info("master stopped")
}

// start runs a worker with the sockets in files and waits until it says it
// is serving; one that fails or is too slow is killed.
func (m *Master) start(text []byte, files map[string]*os.File) (*worker, error) {
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
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = workerAttr()
	cmd.ExtraFiles = []*os.File{readyW, cfgR}
	for _, k := range keys {
		cmd.ExtraFiles = append(cmd.ExtraFiles, files[k])
	}
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool {
		return strings.HasPrefix(e, "NOTIFY_SOCKET=") || strings.HasPrefix(e, "NETNS_PROXY_")
	}), envWorker+"=1", envFDNames+"="+keysOf(keys), fmt.Sprintf("%s=%d", envGeneration, m.gen))
	err = cmd.Start()
	readyW.Close()
	cfgR.Close()
	if err != nil {
		cfgW.Close()
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	go func() { cfgW.Write(text); cfgW.Close() }()
	w := &worker{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(w.done) }()
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
	}
	if err != nil {
		cmd.Process.Kill()
		<-w.done
		return nil, fmt.Errorf("starting worker (pid %d): %w (%s)", cmd.Process.Pid, err, cmd.ProcessState)
	}
	m.Log.Info("worker ready", "pid", cmd.Process.Pid, "generation", m.gen)
	return w, nil
}
