package pickle_test

import (
	"testing"

	"github.com/cachectl/cachectl/backends/pickle"
)

// TestTrace: a Trace records every global a pickle names and every call
// of a computed callable, whether the result keeps them or not, and in a
// pickle that fails part-way; outside a Trace nothing is recorded.
func TestTrace(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       []string
		computed   int
		fails      bool
	}{
		{"popped", "cposix\nsystem\n(S'x'\ntR0S'innocent'\n.", []string{"posix.system"}, 0, false},
		{"memoized only", "cposix\nsystem\n(S'x'\ntRp0\n0N.", []string{"posix.system"}, 0, false},
		{"no STOP", "cposix\nsystem\n(S'x'\ntR", []string{"posix.system"}, 0, true},
		// getattr(os.path, "join")("a") calls the path os.path.join
		{"getattr then call", "\x80\x04\x8c\x08builtins\x8c\x07getattr\x93\x8c\x02os\x8c\x04path\x93\x8c\x04join\x86R\x8c\x01a\x85R0N.",
			[]string{"builtins.getattr", "os.path", "os.path.join"}, 0, false},
		// getattr(os.path, "join")("a")("b"): the second call's callable is computed
		{"computed", "\x80\x04\x8c\x08builtins\x8c\x07getattr\x93\x8c\x02os\x8c\x04path\x93\x8c\x04join\x86R\x8c\x01a\x85R\x8c\x01b\x85R.",
			[]string{"builtins.getattr", "os.path", "os.path.join"}, 1, false},
		{"python 2 name", "c__builtin__\nunicode\n(S'a'\ntR.", []string{"builtins.str"}, 0, false},
	} {
		var err error
		refs := pickle.Trace(func() { _, err = pickle.Decode([]byte(c.data)) })
		if (err != nil) != c.fails {
			t.Errorf("%s: error %v", c.name, err)
		}
		var got []string
		for _, g := range refs.Globals {
			got = append(got, g.Module+"."+g.Name)
		}
		if len(got) != len(c.want) || refs.Computed != c.computed {
			t.Errorf("%s: globals %v, computed %d; want %v, %d", c.name, got, refs.Computed, c.want, c.computed)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: globals %v, want %v", c.name, got, c.want)
			}
		}
	}
	if refs := pickle.Trace(func() {}); len(refs.Globals) != 0 {
		t.Errorf("an empty Trace saw %v", refs.Globals)
	}
}
