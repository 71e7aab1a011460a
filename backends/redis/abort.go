package redis

// go-redis bounds a blocked read by its read timeout only: cancelling the
// call's context does not interrupt it (a server under CLIENT PAUSE, or a
// slow Lua script, would hold Ctrl-C for the whole socket timeout). The
// connections are therefore dialled here and remembered; a hook watches
// each call's context and, once it is done, sets a deadline in the past on
// every connection of the client, so the blocked read returns at once, and
// the call reports the context's error. Every connection: go-redis does
// not say which one a call holds, so a call running alongside under
// another context fails too (the command is stopping anyway; a context
// that is cancelled while the command goes on must not be used for Redis
// calls). A call that must finish after an interrupt runs under
// inFlight's context: while one runs, the abort waits for it.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
)

// aborter dials a client's connections and aborts them all while a call
// whose context is done is still running.
type aborter struct {
	mu        sync.Mutex
	conns     map[*abortConn]struct{}
	pending   int // calls whose context is done and that have not returned
	protected int // inFlight calls running: the abort waits for them
	timeout   time.Duration
	tls       *tls.Config
	// handshakes are the TLS handshakes under way or that got no
	// answer, by address: a timeout while one is there was waiting for it.
	// One that timed out stays until a handshake with its server
	// succeeds: go-redis dials in the background, and the call whose
	// deadline ended the wait may report first (a later timeout of a
	// server that has not answered a handshake yet is blamed on TLS too).
	handshakes map[string]int
}

func newAborter(dialTimeout time.Duration, conf *tls.Config) *aborter {
	return &aborter{conns: map[*abortConn]struct{}{}, timeout: dialTimeout, tls: conf, handshakes: map[string]int{}}
}

// dial is go-redis' own dialer (plain or TLS), its connections wrapped.
func (a *aborter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: a.timeout, KeepAliveConfig: net.KeepAliveConfig{Enable: true}}
	var c net.Conn
	var err error
	if a.tls == nil {
		c, err = nd.DialContext(ctx, network, addr)
	} else {
		start := time.Now()
		if c, err = nd.DialContext(ctx, network, addr); err == nil {
			c, err = a.handshake(ctx, c, addr, start)
		}
	}
	if err != nil {
		return nil, err
	}
	ac := &abortConn{Conn: c, a: a}
	a.mu.Lock()
	a.conns[ac] = struct{}{}
	aborting := a.pending > 0 && a.protected == 0
	a.mu.Unlock()
	if aborting {
		c.SetDeadline(time.Unix(1, 0))
	}
	return ac, nil
}

// handshake runs the TLS handshake on c within the dial timeout from
// start, when the dial began. A
// plaintext Redis never answers a ClientHello (it waits for the end of an
// inline command that never comes), so a handshake that gets no answer
// says so, naming the server.
func (a *aborter) handshake(ctx context.Context, c net.Conn, addr string, start time.Time) (net.Conn, error) {
	conf := a.tls
	if conf.ServerName == "" { // as tls.Dialer does: the name from the address
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		conf = conf.Clone()
		conf.ServerName = host
	}
	hctx := ctx
	if a.timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithDeadline(ctx, start.Add(a.timeout))
		defer cancel()
	}
	tc := tls.Client(c, conf)
	a.mu.Lock()
	a.handshakes[addr]++
	a.mu.Unlock()
	err := tc.HandshakeContext(hctx)
	switch {
	case err == nil: // the server speaks TLS: earlier stalls were something else
		a.mu.Lock()
		delete(a.handshakes, addr)
		a.mu.Unlock()
	case !backends.IsTimeout(err):
		a.mu.Lock()
		if a.handshakes[addr]--; a.handshakes[addr] <= 0 {
			delete(a.handshakes, addr)
		}
		a.mu.Unlock()
	}
	if err != nil {
		c.Close()
		if backends.IsTimeout(err) {
			if a.timeout > 0 && time.Since(start) >= a.timeout-time.Millisecond {
				// The dial timeout (go-redis' context for the dial ends with
				// it), not the command's --deadline, which came sooner.
				err = os.ErrDeadlineExceeded
			}
			err = &backends.StallError{Reason: handshakeStall(addr), Err: err}
		}
		return nil, err
	}
	return tc, nil
}

// stalled says which TLS handshake a timeout was waiting for, if one is
// under way or got no answer: go-redis dials in the background, and a call
// whose context ends first reports only the context's error.
func (a *aborter) stalled() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr := range a.handshakes {
		return handshakeStall(addr)
	}
	return ""
}

func handshakeStall(addr string) string {
	return fmt.Sprintf("no answer to the TLS handshake from %s: is it serving TLS on that port? (a plaintext Redis never answers one; use redis://)", addr)
}

// start counts a call whose context is done and expires every connection
// (once no inFlight call runs).
func (a *aborter) start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending++
	a.expireLocked()
}

func (a *aborter) expireLocked() {
	if a.pending == 0 || a.protected > 0 {
		return
	}
	for c := range a.conns {
		c.Conn.SetDeadline(time.Unix(1, 0))
	}
}

func (a *aborter) end() {
	a.mu.Lock()
	a.pending--
	a.mu.Unlock()
}

// aborting reports whether connections must stay expired.
func (a *aborter) aborting() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending > 0 && a.protected == 0
}

// inFlightKey marks the context of a call that must finish after an
// interrupt.
type inFlightKey struct{}

// inFlight is backends.InFlight, marked so the aborter lets the call
// finish.
func inFlight(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	fctx, cancel := backends.InFlight(ctx, d)
	return context.WithValue(fctx, inFlightKey{}, true), cancel
}

// watch runs call; if ctx is done before it returns, the client's
// connections are expired and the call's error becomes ctx's.
func (a *aborter) watch(ctx context.Context, call func() error) error {
	if ctx.Value(inFlightKey{}) != nil {
		a.mu.Lock()
		a.protected++
		a.mu.Unlock()
		defer func() {
			a.mu.Lock()
			a.protected--
			a.expireLocked() // the abort waited for this call
			a.mu.Unlock()
		}()
		return call()
	}
	if ctx.Done() == nil {
		return call()
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		a.start()
		close(fired)
	})
	err := call()
	if !stop() {
		<-fired
		a.end()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = cerr
			}
		}
	}
	return err
}

// hook is the go-redis hook that watches every command and pipeline.
func (a *aborter) hook() goredis.Hook { return abortHook{a} }

type abortHook struct{ a *aborter }

func (h abortHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h abortHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := h.a.watch(ctx, func() error { return next(ctx, cmd) })
		if err != nil && cmd.Err() != nil && errors.Is(err, context.Canceled) && !errors.Is(cmd.Err(), context.Canceled) {
			cmd.SetErr(err)
		}
		return err
	}
}

func (h abortHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := h.a.watch(ctx, func() error { return next(ctx, cmds) })
		if err != nil && errors.Is(err, context.Canceled) {
			for _, cmd := range cmds {
				if cmd.Err() != nil && !errors.Is(cmd.Err(), context.Canceled) {
					cmd.SetErr(err)
				}
			}
		}
		return err
	}
}

// abortConn keeps a deadline in the past while an abort is under way, so
// go-redis setting its own before the next read does not undo it.
type abortConn struct {
	net.Conn
	a *aborter
}

func (c *abortConn) fix(t time.Time) time.Time {
	if c.a.aborting() {
		return time.Unix(1, 0)
	}
	return t
}

func (c *abortConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.fix(t)) }
func (c *abortConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.fix(t)) }
func (c *abortConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.fix(t)) }

func (c *abortConn) Close() error {
	c.a.mu.Lock()
	delete(c.a.conns, c)
	c.a.mu.Unlock()
	return c.Conn.Close()
}
