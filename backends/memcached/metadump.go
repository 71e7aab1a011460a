package memcached

// The key list of an "lru_crawler metadump" is read off the socket as fast as
// the server sends it, whatever the caller does with each key: memcached's
// crawler waits for room in the client's socket with an item lock held, so
// a dump left unread (a pattern delete at --rate, a slow pipe) stalls every
// command on a key under that lock, on any connection — the deletes of the
// keys just listed among them — until their socket timeout. keySpool holds
// the keys read but not yet handed on.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/cachectl/cachectl/backends"
)

// spoolMemBytes is roughly how much memory the keys waiting in a keySpool
// may take (about 200,000 keys of 20 bytes); the rest wait in a temporary
// file. A variable for the tests.
var spoolMemBytes = 16 << 20

// spoolEntryBytes is a KeyInfo's size without its key's bytes.
const spoolEntryBytes = 64

// spoolReadBytes is how much of the spool file is read back at once.
const spoolReadBytes = 1 << 20

// keySpool is a queue (keys come out in no particular order) whose writer
// never waits: one goroutine puts the matching keys of a metadump,
// another takes them. Keys beyond spoolMemBytes go to an unlinked temporary
// file as their metadump lines, and are read back once the memory is taken.
type keySpool struct {
	mu       sync.Mutex
	ready    sync.Cond
	mem      []backends.KeyInfo
	memBytes int
	f        *os.File      // the overflow; nil until needed
	w        *bufio.Writer // f's writer
	wOff     int64         // bytes written to w
	flushed  int64         // bytes of them flushed to f
	rOff     int64         // bytes of f taken
	noFile   bool          // no spool file could be made
	done     bool          // no more puts
	err      error         // why the writer stopped, or a spool file error
}

func newKeySpool() *keySpool {
	s := &keySpool{}
	s.ready.L = &s.mu
	return s
}

// put queues ki, whose metadump line is line.
func (s *keySpool) put(ki backends.KeyInfo, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memBytes >= spoolMemBytes && s.f == nil && !s.noFile {
		if f, err := os.CreateTemp("", "cachectl-metadump-*"); err == nil {
			os.Remove(f.Name()) // unlinked: it goes when f is closed, or the process ends
			s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
		} else {
			s.noFile = true // no temporary directory: the keys wait in memory
		}
	}
	switch {
	case s.err != nil:
		return // the listing fails with s.err once the keys queued are taken
	case s.f != nil && s.memBytes >= spoolMemBytes:
		n, _ := s.w.WriteString(line)
		if s.w.WriteByte('\n') != nil {
			s.err = fmt.Errorf("spooling the key list: %w", s.w.Flush())
			return
		}
		s.wOff += int64(n) + 1
	default:
		s.mem = append(s.mem, ki)
		s.memBytes += len(ki.Key) + spoolEntryBytes
	}
	s.ready.Signal()
}

// finish says no more keys come; err (nil at END) is why.
func (s *keySpool) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.done = true
	s.ready.Signal()
}

// take waits for keys and returns some; none (nil) when the writer has
// finished and everything was taken, with the error it finished with.
func (s *keySpool) take() ([]backends.KeyInfo, error) {
	s.mu.Lock()
	for len(s.mem) == 0 && s.rOff == s.wOff && !s.done && s.err == nil {
		s.ready.Wait()
	}
	if len(s.mem) > 0 {
		b := s.mem
		s.mem, s.memBytes = nil, 0
		s.mu.Unlock()
		return b, nil
	}
	if s.rOff < s.wOff {
		if s.flushed < s.wOff {
			if err := s.w.Flush(); err != nil {
				s.mu.Unlock()
				return nil, fmt.Errorf("spooling the key list: %w", err)
			}
			s.flushed = s.wOff
		}
		off, end, f := s.rOff, s.flushed, s.f
		s.mu.Unlock()
		b, n, err := readSpool(f, off, end)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.rOff = off + n
		s.mu.Unlock()
		return b, nil
	}
	err := s.err
	s.mu.Unlock()
	return nil, err
}

// readSpool reads back whole metadump lines of f from off (up to end, at
// most spoolReadBytes of them): their keys and how many bytes they took.
func readSpool(f *os.File, off, end int64) ([]backends.KeyInfo, int64, error) {
	buf := make([]byte, min(end-off, spoolReadBytes))
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("reading the spooled key list: %w", err)
	}
	last := bytes.LastIndexByte(buf, '\n')
	if last < 0 {
		// One line longer than spoolReadBytes: memcached keys are 250
		// bytes at most, so this is not a metadump line.
		return nil, 0, fmt.Errorf("reading the spooled key list: a line of over %d bytes", spoolReadBytes)
	}
	out := []backends.KeyInfo{} // not nil, which take returns only at the end
	for _, line := range bytes.Split(buf[:last], []byte{'\n'}) {
		if ki, ok := parseMetadump(string(line)); ok {
			out = append(out, ki)
		}
	}
	return out, int64(last) + 1, nil
}

// close removes the spool file.
func (s *keySpool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f, s.w = nil, nil
	}
}
