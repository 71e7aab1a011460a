package backends

import (
	"context"
	"errors"
	"testing"
)

// interruptingBackend deletes keys from a map; the delete of key "b"
// interrupts the command (cancels its context) while it runs, as a SIGINT
// arriving during a call does.
type interruptingBackend struct {
	keys   map[string]bool
	cancel context.CancelFunc
}

func (b *interruptingBackend) Get(context.Context, string) (Entry, error) {
	return Entry{}, ErrCacheMiss
}
func (b *interruptingBackend) Set(context.Context, string, Entry, Timeout) error {
	return nil
}
func (b *interruptingBackend) Codec() Codec { return nil }
func (b *interruptingBackend) Close() error { return nil }
func (b *interruptingBackend) Delete(ctx context.Context, key string) (bool, error) {
	if key == "b" {
		b.cancel()
	}
	if err := ctx.Err(); err != nil {
		return false, err // the reply would be dropped: the cache did delete
	}
	ok := b.keys[key]
	delete(b.keys, key)
	return ok, nil
}

// TestDeleteManyFallbackInterrupted: the one-key-at-a-time DeleteMany
// finishes the delete an interruption lands in and starts no other, so the
// count it returns is what the cache did.
func TestDeleteManyFallbackInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &interruptingBackend{keys: map[string]bool{"a": true, "b": true, "c": true}, cancel: cancel}
	n, err := DeleteMany(ctx, b, []string{"a", "b", "c"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if gone := 3 - len(b.keys); n != gone || n != 2 {
		t.Errorf("DeleteMany reported %d, %d key(s) are gone (want 2: a and b, not c)", n, gone)
	}
	// It says how many it attempted: c never was (the summary counts it
	// as not attempted, not as requested and absent).
	var cs *CutShortError
	if !errors.As(err, &cs) || cs.Attempted != 2 {
		t.Errorf("err = %#v, want a CutShortError with 2 attempted", err)
	}
}
