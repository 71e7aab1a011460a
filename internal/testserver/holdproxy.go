package testserver

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// HoldProxy forwards TCP connections to a server. Once armed, the first
// bytes from the server that contain a given string are held back: the
// proxy calls the armed function (a test cancels its context there), waits
// Hold, then forwards them. The server has executed the command by then;
// only its reply is late, as when an interrupt comes while a batch's
// replies are on their way.
type HoldProxy struct {
	Addr string
	Hold time.Duration

	mu       sync.Mutex
	match    []byte
	fn       func()
	reqMatch []byte
	reqFn    func()
}

// NewHoldProxy listens on 127.0.0.1 and forwards to target until the test ends.
func NewHoldProxy(t testing.TB, target string) *HoldProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &HoldProxy{Addr: ln.Addr().String(), Hold: 300 * time.Millisecond}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(2)
			go func() { defer conns.Done(); p.requests(s, c); s.Close() }()
			go func() { defer conns.Done(); p.replies(c, s); c.Close() }()
		}
	}()
	return p
}

// Arm makes the next server bytes containing match wait for fn and Hold.
func (p *HoldProxy) Arm(match string, fn func()) {
	p.mu.Lock()
	p.match, p.fn = []byte(match), fn
	p.mu.Unlock()
}

// OnRequest makes the proxy call fn once it has forwarded the next client
// bytes containing match: the server has the command by then.
func (p *HoldProxy) OnRequest(match string, fn func()) {
	p.mu.Lock()
	p.reqMatch, p.reqFn = []byte(match), fn
	p.mu.Unlock()
}

func (p *HoldProxy) requests(s, c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
			p.mu.Lock()
			var fn func()
			if p.reqFn != nil && bytes.Contains(buf[:n], p.reqMatch) {
				fn, p.reqFn = p.reqFn, nil
			}
			p.mu.Unlock()
			if fn != nil {
				fn()
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *HoldProxy) replies(c, s net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			p.mu.Lock()
			var fn func()
			if p.fn != nil && bytes.Contains(buf[:n], p.match) {
				fn, p.fn = p.fn, nil
			}
			p.mu.Unlock()
			if fn != nil {
				fn()
				time.Sleep(p.Hold)
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
