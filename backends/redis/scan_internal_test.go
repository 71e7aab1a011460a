package redis

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
)

// fakePages is a SCAN cursor walk over fixed pages: cursor i answers
// pages[i] and the next cursor, 0 after the last page.
func fakePages(pages [][]string, calls *atomic.Int32) func(uint64) ([]string, uint64, error) {
	return func(cursor uint64) ([]string, uint64, error) {
		calls.Add(1)
		next := cursor + 1
		if int(next) == len(pages) {
			next = 0
		}
		return slices.Clone(pages[cursor]), next, nil
	}
}

// TestWalkPagesDropsRepeats: keys SCAN returns again (in the same page, in
// the next one, pages later) are handed out once; only a repeat beyond the
// window, which a pattern delete never leaves, comes out again.
func TestWalkPagesDropsRepeats(t *testing.T) {
	seq := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	long := seq("w", scanWindow) // pushes "far" out of the window
	for _, tc := range []struct {
		name  string
		pages [][]string
		want  []string
	}{
		{"no repeats", [][]string{{"a", "b"}, {"c"}, {}}, []string{"a", "b", "c"}},
		{"same page", [][]string{{"a", "b", "a", "a"}}, []string{"a", "b"}},
		{"next page", [][]string{{"a", "b"}, {"b", "c", "a"}, {"d"}}, []string{"a", "b", "c", "d"}},
		{"pages later", [][]string{{"a"}, {"b"}, {}, {"c"}, {"a", "d"}, {"b"}}, []string{"a", "b", "c", "d"}},
		{"three times", [][]string{{"a"}, {"a"}, {"b", "a"}}, []string{"a", "b"}},
		{"a page of repeats only", [][]string{{"a", "b"}, {"b", "a"}, {"c"}}, []string{"a", "b", "c"}},
		{"within the window", [][]string{{"near"}, long[:scanWindow-1], {"near"}}, append([]string{"near"}, long[:scanWindow-1]...)},
		{"beyond the window", [][]string{{"far"}, long, {"far"}}, append(append([]string{"far"}, long...), "far")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var got [][]string
			err := walkPages(fakePages(tc.pages, &calls), func(keys []string) error {
				if len(keys) == 0 {
					t.Error("handed an empty page")
				}
				got = append(got, slices.Clone(keys))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if flat := slices.Concat(got...); !slices.Equal(flat, tc.want) {
				if len(flat) > 20 || len(tc.want) > 20 {
					t.Errorf("handed out %d keys, want %d", len(flat), len(tc.want))
				} else {
					t.Errorf("handed out %q, want %q", flat, tc.want)
				}
			}
			if int(calls.Load()) != len(tc.pages) {
				t.Errorf("%d SCAN calls, want %d", calls.Load(), len(tc.pages))
			}
		})
	}
}

// TestWalkPagesStops: an error from the callback or from SCAN ends the
// walk with that error, after the prefetched page came back.
func TestWalkPagesStops(t *testing.T) {
	stop := errors.New("stop")
	var calls atomic.Int32
	pages := [][]string{{"a"}, {"b"}, {"c"}, {"d"}}
	n := 0
	err := walkPages(fakePages(pages, &calls), func(keys []string) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("walk = %v after %d pages", err, n)
	}
	if c := calls.Load(); c != 3 { // the two pages read, one prefetched
		t.Errorf("%d SCAN calls when the walk returned, want 3", c)
	}
	boom := errors.New("boom")
	calls.Store(0)
	err = walkPages(func(cursor uint64) ([]string, uint64, error) {
		calls.Add(1)
		if cursor == 1 {
			return nil, 0, boom
		}
		return []string{"a"}, cursor + 1, nil
	}, func([]string) error { return nil })
	if !errors.Is(err, boom) || calls.Load() != 2 {
		t.Errorf("walk = %v after %d SCAN calls, want boom after 2", err, calls.Load())
	}
}

// TestRecentKeys: the window holds the last n keys handed to it, repeats
// included, and forgets the oldest.
func TestRecentKeys(t *testing.T) {
	r := newRecentKeys(3)
	for i, step := range []struct {
		key   string
		fresh bool
	}{
		{"a", true}, {"b", true}, {"a", false}, // oldest first: a b a
		{"c", true},  // b a c (one a forgotten, one kept)
		{"a", false}, // a c a
		{"b", true},  // c a b
		{"d", true},  // a b d
		{"c", true},  // b d c
		{"a", true},  // d c a
	} {
		if got := r.fresh(step.key); got != step.fresh {
			t.Fatalf("step %d: fresh(%q) = %v, want %v", i, step.key, got, step.fresh)
		}
	}
	if len(r.count) != 3 || len(r.ring) != 3 {
		t.Errorf("remembers %d keys in a ring of %d, want 3 and 3", len(r.count), len(r.ring))
	}
}
