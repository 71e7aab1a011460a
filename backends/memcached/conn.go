package memcached

// A small text-protocol connection for what gomemcache does not offer:
// per-server stats, flush_all with per-server errors, meta commands (TTL),
// lru_crawler metadump, and pipelined bulk writes. Written by hand: it is
// a few commands of memcached's documented protocol.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cachectl/cachectl/backends/memcached/selector"
)

type conn struct {
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	to   time.Duration
	ctx  context.Context
	stop func() bool
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
	cn := &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), to: timeout, ctx: ctx}
	cn.stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	cn.extend()
	return cn, nil
}

func (c *conn) close() {
	c.stop()
	c.c.Close()
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
