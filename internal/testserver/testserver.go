// Package testserver starts private cache servers (memcached, redis-server)
// on loopback ports for tests, once per test binary, and stops them when the
// binary exits. Tests never touch servers they did not start.
package testserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Missing fails the test under CI=true and skips it elsewhere, with a
// message that says what to install.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but missing (run the README's test command, which installs it)", what)
	}
	t.Skipf("skipping: %s is missing (the README's test command installs it)", what)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitDial waits until network/addr accepts connections.
func WaitDial(network, addr string, d time.Duration) error { return waitDial(network, addr, d, nil) }

// waitDial is WaitDial that gives up at once when exited is closed (the
// server process ended: it will never listen).
func waitDial(network, addr string, d time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			select {
			case <-exited: // someone else's listener: ours exited
				return fmt.Errorf("%s %s: the server exited, and another process listens there", network, addr)
			default:
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s did not start: %w", network, addr, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("%s %s: the server exited before it listened", network, addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Proc is a server process started by a test binary.
type Proc struct {
	Addr   string // host:port or socket path
	Cmd    *exec.Cmd
	Dir    string
	exited chan struct{} // closed once the process has ended and been waited for
}

var (
	procsMu sync.Mutex
	procs   []*Proc
)

// Start runs a server binary with args and waits for addr to accept
// connections. The process is remembered so StopAll can end it.
func Start(network, addr, bin string, args ...string) (*Proc, error) {
	return StartEnv(network, addr, bin, nil, args...)
}

// StartEnv is Start with extra environment variables (NAME=value) for the
// server process alone; the test process's environment is left as it is.
// A server that exits before it listens fails at once, with its log.
func StartEnv(network, addr, bin string, env []string, args ...string) (*Proc, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "cachectl-"+filepath.Base(bin)+"-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Addr: addr, Cmd: cmd, Dir: dir, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	if err := waitDial(network, addr, 10*time.Second, p.exited); err != nil {
		cmd.Process.Kill()
		<-p.exited
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		p.Stop()
		return nil, fmt.Errorf("%w; log: %s", err, log)
	}
	return p, nil
}

// Stop kills the process and removes its directory; it may be called
// more than once.
func (p *Proc) Stop() {
	p.Cmd.Process.Kill()
	<-p.exited
	os.RemoveAll(p.Dir)
}

// StopAll stops every server this binary started; call it from TestMain.
func StopAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for _, p := range procs {
		p.Stop()
	}
	procs = nil
}
