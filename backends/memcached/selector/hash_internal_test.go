package selector

import "testing"

// TestHashPrimitives pins each hash against the libraries' own code:
// pymemcache.client.murmur3.murmur3_32 (called with the str),
// libhashkit_one_at_a_time and libhashkit_md5 from libhashkit.so.2
// (called through ctypes with the UTF-8 bytes), and python-memcached's
// cmemcache_hash (UTF-8 bytes).
func TestHashPrimitives(t *testing.T) {
	tests := []struct {
		in                      string
		murmur, oaat, md5, cmem uint32
	}{
		{"", 0x00000000, 0x00000000, 0xd98c1dd4, 0x0001},
		{"a", 0x3c2569b2, 0xca2e9442, 0xb975c10c, 0x68b7},
		{"ab", 0x9bbfd75f, 0x45e61e58, 0x43f47e18, 0x1e83},
		{"abc", 0xb3dd93fa, 0xed131f5b, 0x98500190, 0x3524},
		{"abcd", 0x43ed676a, 0xcd8b6206, 0x4c71fce2, 0x6d82},
		{"hello", 0x248bfa47, 0xc8fd181b, 0x2a40415d, 0x3610},
		{"café", 0x996677b5, 0xd99c709e, 0xe47f1107, 0x18ad},
		{"日本語", 0x1adf14e6, 0x52b329b8, 0xf80a1100, 0x280b},
		{"The quick brown fox jumps over the lazy dog", 0x2e4ff723, 0x519e91f5, 0x9d7d109e, 0x414f},
		{"127.0.0.1:21212-0", 0x14302fb7, 0x5976bdad, 0x056caffe, 0x302a},
		{"127.0.0.1-99", 0xb2a3619c, 0xc752fdcc, 0x62cc1ffc, 0x0d04},
		{"😀x", 0x829b812e, 0xc9db07ee, 0xb6217538, 0x7d68},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := murmur3CodePoints(tc.in); got != tc.murmur {
				t.Errorf("murmur3 = %#08x, want %#08x", got, tc.murmur)
			}
			if got := oneAtATime(tc.in); got != tc.oaat {
				t.Errorf("one_at_a_time = %#08x, want %#08x", got, tc.oaat)
			}
			if got := md5Words(tc.in)[0]; got != tc.md5 {
				t.Errorf("md5 = %#08x, want %#08x", got, tc.md5)
			}
			if got := cmemcacheHash(tc.in); got != tc.cmem {
				t.Errorf("cmemcache_hash = %#04x, want %#04x", got, tc.cmem)
			}
		})
	}
}

// TestMurmurPrefixState: the rendezvous selector hashes "<node>-" once and
// copies the state; that must equal hashing the whole string.
func TestMurmurPrefixState(t *testing.T) {
	for _, node := range []string{"", "a", "ab", "abc", "127.0.0.1:21211", "/tmp/mc.sock", "é"} {
		var m murmur3
		m.writeCodePoints(node)
		m.writeByte('-')
		for _, key := range []string{"", "k", ":1:café", "日本語", "😀😀😀😀x"} {
			c := m
			c.writeCodePoints(key)
			if got, want := c.sum(), murmur3CodePoints(node+"-"+key); got != want {
				t.Errorf("node %q key %q: %#08x, want %#08x", node, key, got, want)
			}
		}
	}
}

// TestHashkitCRC32 pins libhashkit_crc32 (libhashkit.so.2, called through
// ctypes with the UTF-8 bytes): cmemcache_hash without the "or 1".
func TestHashkitCRC32(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0x0000}, {"a", 0x68b7}, {"abc", 0x3524}, {"hello", 0x3610}, {"café", 0x18ad},
		{"日本語", 0x280b}, {"127.0.0.1-99", 0x0d04}, {"😀x", 0x7d68},
	}
	for _, tc := range tests {
		if got := hashkitCRC32(tc.in); got != tc.want {
			t.Errorf("hashkitCRC32(%q) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}
