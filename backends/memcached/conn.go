package memcached

// A small text-protocol connection for what gomemcache does not offer:
// per-server stats, flush_all with per-server errors, meta commands (TTL),
// lru_crawler metadump, and pipelined bulk writes. Written by hand: it is
// a few commands of memcached's documented protocol.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/memcached/selector"
)

type conn struct {
	c       net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	to      time.Duration
	ctx     context.Context
	stop    func() bool
	replies int // reply lines read during the current use
}

// dialServer connects to s. Every read and write is bounded by timeout
// (and by ctx's deadline); cancelling ctx interrupts a blocked read.
func dialServer(ctx context.Context, s selector.Server, timeout time.Duration) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, s.Network, s.Addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), to: timeout}
	cn.bind(ctx)
	return cn, nil
}

// bind makes ctx the context of the connection's next use: its deadline
// bounds every read and write, and cancelling it interrupts a blocked one.
func (c *conn) bind(ctx context.Context) {
	c.ctx, c.replies = ctx, 0
	c.rebind(ctx)
}

// rebind switches the context that bounds the connection's I/O without
// starting a new use (the reply count is kept). Its stop waits for an
// AfterFunc already started, so that a later deadline is never undone by it.
func (c *conn) rebind(ctx context.Context) {
	c.ctx = ctx
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.c.SetDeadline(time.Unix(1, 0))
	})
	c.stop = func() bool {
		if stop() {
			return true
		}
		<-fired
		return false
	}
	c.extend()
}

// inFlight runs fn, which writes commands and reads all their replies,
// so that an interrupt (ctx cancelled, or its deadline reached) does not
// drop replies the server is sending anyway: once started, fn runs under
// context.WithoutCancel(ctx), each read and write still bounded by the
// operation timeout, and the whole of fn by twice that. The connection is
// bound to ctx again afterwards.
func (c *conn) inFlight(fn func() error) error {
	ctx := c.ctx
	fctx, cancel := backends.InFlight(ctx, 2*c.to)
	defer cancel()
	c.stop()
	c.rebind(fctx)
	err := fn()
	c.stop()
	c.rebind(ctx)
	return err
}

// unbind ends a use. It reports whether the connection is fit for another:
// the context never expired its deadline and no reply is left unread.
func (c *conn) unbind() bool {
	return c.stop() && c.r.Buffered() == 0 && c.w.Buffered() == 0
}

func (c *conn) close() {
	c.stop()
	c.c.Close()
}

// maxIdlePerServer is how many connections to one server are kept for the
// next batch: bulk commands use one per server at a time, a pattern delete
// two (the walk's and the deletes').
const maxIdlePerServer = 4

// connPool keeps each server's idle connections for the next call, so
// that a bulk command connects once per server, not once per batch.
type connPool struct {
	mu     sync.Mutex
	idle   map[int][]*conn
	closed bool
}

// get returns an idle connection to server i bound to ctx (reused true),
// or nil.
func (p *connPool) get(ctx context.Context, i int) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[i]
	if len(l) == 0 {
		return nil
	}
	cn := l[len(l)-1]
	p.idle[i] = l[:len(l)-1]
	cn.bind(ctx)
	return cn
}

// put ends a use of cn: a connection that finished cleanly (ok) and is fit
// for reuse is kept, any other is closed.
func (p *connPool) put(i int, cn *conn, ok bool) {
	if !cn.unbind() || !ok {
		cn.c.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[i]) >= maxIdlePerServer {
		cn.c.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[int][]*conn{}
	}
	cn.ctx = nil
	p.idle[i] = append(p.idle[i], cn)
}

// close closes every idle connection; later puts close theirs.
func (p *connPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for _, l := range p.idle {
		for _, cn := range l {
			errs = append(errs, cn.c.Close())
		}
	}
	p.idle = nil
	return errors.Join(errs...)
}

// stale reports the failure of a kept connection that the server had
// closed meanwhile (restarted, or its idle_timeout): nothing was read on
// it, so the call may run again on a new connection.
func stale(cn *conn, err error) bool {
	return cn.replies == 0 && cn.ctx.Err() == nil &&
		(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}

// extend pushes the I/O deadline to timeout from now, never past ctx's
// deadline: each reply line (or metadump line) gets the full timeout.
func (c *conn) extend() {
	if c.ctx.Err() != nil {
		return // the AfterFunc has already expired the deadline
	}
	dl := time.Now().Add(c.to)
	if cdl, ok := c.ctx.Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	c.c.SetDeadline(dl)
}

// flush writes out what is buffered, under a fresh deadline.
func (c *conn) flush() error {
	c.extend()
	if err := c.w.Flush(); err != nil {
		return c.cause(err)
	}
	return nil
}

func (c *conn) send(format string, args ...any) error {
	fmt.Fprintf(c.w, format, args...)
	return c.flush()
}

// line reads one reply line without its CRLF.
func (c *conn) line() (string, error) {
	c.extend()
	s, err := c.r.ReadString('\n')
	if err != nil {
		return "", c.cause(err)
	}
	c.replies++
	return strings.TrimRight(s, "\r\n"), nil
}

// cause reports a cancelled or expired context rather than the i/o
// timeout it caused.
func (c *conn) cause(err error) error { return ctxCause(c.ctx, err) }

// ctxCause is ctx's error when ctx is done or its deadline has passed (the
// socket deadline can fire a moment before the context's own timer), else err.
func ctxCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

// serverError turns an ERROR/CLIENT_ERROR/SERVER_ERROR reply into an error.
func serverError(line string) error {
	switch {
	case line == "ERROR":
		return fmt.Errorf("the server does not know this command (memcached too old?)")
	case strings.HasPrefix(line, "CLIENT_ERROR"), strings.HasPrefix(line, "SERVER_ERROR"):
		return fmt.Errorf("%s", line)
	}
	return nil
}
