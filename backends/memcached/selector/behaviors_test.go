package selector_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends/memcached/selector"
)

func TestPyLibMCBehaviors(t *testing.T) {
	tests := []struct {
		name      string
		behaviors map[string]any
		want      selector.Client
		refused   bool
	}{
		{"none", nil, selector.PyLibMC, false},
		{"empty", map[string]any{}, selector.PyLibMC, false},
		{"unrelated", map[string]any{"tcp_nodelay": true, "no_block": true}, selector.PyLibMC, false},
		{"modula default hash", map[string]any{"distribution": "modula", "hash": "default"}, selector.PyLibMC, false},
		{"one_at_a_time", map[string]any{"hash": "one_at_a_time"}, selector.PyLibMC, false},
		{"crc", map[string]any{"hash": "crc"}, selector.PyLibMCCRC, false},
		{"ketama", map[string]any{"ketama": true}, selector.PyLibMCKetama, false},
		{"ketama 1", map[string]any{"ketama": 1.0}, selector.PyLibMCKetama, false},
		{"ketama string", map[string]any{"ketama": "yes"}, selector.PyLibMCKetama, false},
		{"ketama false", map[string]any{"ketama": false}, selector.PyLibMC, false},
		{"consistent", map[string]any{"distribution": "consistent"}, selector.PyLibMCKetama, false},
		{"consistent ketama", map[string]any{"distribution": "consistent ketama"}, selector.PyLibMCKetama, false},
		{"weighted", map[string]any{"ketama_weighted": true}, selector.PyLibMCKetamaWeighted, false},
		{"weighted wins", map[string]any{"ketama": true, "ketama_weighted": true}, selector.PyLibMCKetamaWeighted, false},
		{"weighted with ketama_hash", map[string]any{"ketama_weighted": true, "ketama_hash": "md5"}, selector.PyLibMCKetamaWeighted, false},
		{"ketama_hash default", map[string]any{"ketama": true, "ketama_hash": "default"}, selector.PyLibMCKetama, false},
		{"other hash", map[string]any{"hash": "fnv1a_32"}, 0, true},
		{"crc with ketama", map[string]any{"hash": "crc", "ketama": true}, 0, true},
		{"crc with weighted", map[string]any{"hash": "crc", "ketama_weighted": true}, 0, true},
		{"random", map[string]any{"distribution": "random"}, 0, true},
		{"ketama_hash md5", map[string]any{"ketama": true, "ketama_hash": "md5"}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selector.PyLibMCBehaviors(tc.behaviors)
			if tc.refused {
				if !errors.Is(err, selector.ErrUnsupportedBehavior) {
					t.Errorf("PyLibMCBehaviors(%v) = %v, %v; want ErrUnsupportedBehavior", tc.behaviors, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("PyLibMCBehaviors(%v) = %v, %v; want %v", tc.behaviors, got, err, tc.want)
			}
		})
	}
}

// TestPyLibMCCRC pins the picks of pylibmc 1.6.3's Client.hash with
// behaviors {"hash": "crc"} (django-newcache's default); weights change
// nothing under modula.
func TestPyLibMCCRC(t *testing.T) {
	keys := append(append([]string{}, deadKeys[:5]...), strings.Repeat("x", 200), deadKeys[6],
		"staging-2-dd27204535de317c6202952eeb2043fad52e3fec", "😀")
	tests := []struct {
		specs []string
		want  []int
	}{
		{three, []int{2, 2, 2, 1, 0, 2, 0, 2, 1}},
		{[]string{"127.0.0.1:21211", "127.0.0.1:21212", "127.0.0.1:21213", "127.0.0.1:21214", "127.0.0.1:21215"}, []int{2, 1, 4, 2, 1, 4, 0, 3, 2}},
		{[]string{"127.0.0.1:21211:1", "127.0.0.1:21212:2", "127.0.0.1:21213:3"}, []int{2, 2, 2, 1, 0, 2, 0, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.specs, ";"), func(t *testing.T) {
			sel := mustNew(t, selector.PyLibMCCRC, mustParse(t, selector.PyLibMCCRC, tc.specs...))
			var got []int
			for _, k := range keys {
				got = append(got, sel.Pick(k))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("picks %v, pylibmc %v", got, tc.want)
			}
		})
	}
}

func TestSharding(t *testing.T) {
	seen := map[string]selector.Client{}
	for _, c := range selector.Clients() {
		s := c.Sharding()
		if s == "" || s == "unknown" {
			t.Errorf("%v: Sharding() = %q", c, s)
		}
		if d, ok := seen[s]; ok {
			t.Errorf("%v and %v are both described as %q", c, d, s)
		}
		seen[s] = c
	}
	if s := selector.Client(99).Sharding(); s != "unknown" {
		t.Errorf("Client(99).Sharding() = %q", s)
	}
}
