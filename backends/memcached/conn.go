package memcached

// A small text-protocol connection for what gomemcache does not offer:
// per-server stats, flush_all with per-server errors, meta commands (TTL),
// lru_crawler metadump, pipelined bulk writes, and multi-gets on kept
// connections without a socket deadline reset per line. Written by hand: it
// is a few commands of memcached's documented protocol.

import (
	"bufio"
	"bytes"
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
	replies int       // reply lines read during the current use
	until   time.Time // the socket deadline extend last set
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
	c.until = time.Time{} // a new context: set the deadline afresh
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
// deadline: each reply line (or metadump line) gets at least half the
// timeout. The socket's deadline is only moved once half of it is used up
// (setting it costs a runtime lock and a timer update: once per line, it
// was a tenth of a get-many's CPU).
func (c *conn) extend() {
	if c.ctx.Err() != nil {
		return // the AfterFunc has already expired the deadline
	}
	now := time.Now()
	if c.until.Sub(now) > c.to/2 {
		return
	}
	dl := now.Add(c.to)
	if cdl, ok := c.ctx.Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	c.until = dl
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

// getMulti sends "get" with keys (one command, as gomemcache and Django's
// clients send a multi-get) and passes each VALUE to fn, until END. The
// value bytes are fn's to keep.
func (c *conn) getMulti(keys []string, fn func(key string, e backends.Entry)) error {
	c.w.WriteString("get")
	for _, k := range keys {
		c.w.WriteByte(' ')
		c.w.WriteString(k)
	}
	c.w.WriteString("\r\n")
	if err := c.flush(); err != nil {
		return err
	}
	next := 0 // keys[next:] are the keys a VALUE may still answer
	for {
		c.extend()
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return fmt.Errorf("reply line longer than %d bytes", c.r.Size())
			}
			return c.cause(err)
		}
		c.replies++
		line = bytes.TrimRight(line, "\r\n")
		if string(line) == "END" {
			return nil
		}
		kb, flags, size, ok := parseValueLine(line)
		if !ok {
			if err := serverError(string(line)); err != nil {
				return err
			}
			return fmt.Errorf("unexpected reply to get: %q", line)
		}
		// Hits come back in the order asked: reuse the asked key's string.
		var key string
		for next < len(keys) && keys[next] != string(kb) {
			next++
		}
		if next < len(keys) {
			key = keys[next]
			next++
		} else {
			key = string(kb)
		}
		data := make([]byte, size+2)
		if _, err := io.ReadFull(c.r, data); err != nil {
			return c.cause(err)
		}
		if data[size] != '\r' || data[size+1] != '\n' {
			return fmt.Errorf("corrupt reply to get: the value of %q does not end in CRLF", key)
		}
		fn(key, backends.Entry{Data: data[:size:size], Flags: flags})
	}
}

// parseValueLine parses "VALUE <key> <flags> <bytes> [<cas>]" without
// allocating: key is a slice of line.
func parseValueLine(line []byte) (key []byte, flags uint32, size int, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte("VALUE "))
	if !found {
		return nil, 0, 0, false
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return nil, 0, 0, false
	}
	key, rest = rest[:sp], rest[sp+1:]
	fl, rest, ok1 := leadingUint(rest, 1<<32-1)
	if !ok1 || len(rest) == 0 || rest[0] != ' ' {
		return nil, 0, 0, false
	}
	n, rest, ok2 := leadingUint(rest[1:], 1<<31-1)
	if !ok2 {
		return nil, 0, 0, false
	}
	if len(rest) > 0 { // the CAS unique of a gets
		if rest[0] != ' ' {
			return nil, 0, 0, false
		}
		if _, tail, ok := leadingUint(rest[1:], 1<<64-1); !ok || len(tail) != 0 {
			return nil, 0, 0, false
		}
	}
	return key, uint32(fl), int(n), true
}

// leadingUint parses the decimal digits at the start of b (at least one,
// at most max) and returns the rest.
func leadingUint(b []byte, max uint64) (uint64, []byte, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if n > (max-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	return n, b[i:], i > 0
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
