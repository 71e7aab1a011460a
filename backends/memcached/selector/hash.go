package selector

import (
	"crypto/md5"
	"encoding/binary"
	"hash/crc32"
)

// murmur3 is MurmurHash3_x86_32 with seed 0, fed one byte at a time so
// that a prefix state can be kept and copied (pymemcache hashes
// "<node>-<key>" once per node).
type murmur3 struct {
	h      uint32
	k      uint32 // bytes of the block being filled, little-endian
	n      uint32 // bytes in k
	length uint32
}

const (
	murmurC1 = 0xcc9e2d51
	murmurC2 = 0x1b873593
)

func (m *murmur3) writeByte(b byte) {
	m.k |= uint32(b) << (8 * m.n)
	m.n++
	m.length++
	if m.n == 4 {
		k := m.k * murmurC1
		k = k<<15 | k>>17
		k *= murmurC2
		h := m.h ^ k
		h = h<<13 | h>>19
		m.h = h*5 + 0xe6546b64
		m.k, m.n = 0, 0
	}
}

// writeCodePoints feeds ord(ch) & 0xff for each code point of s, as
// pymemcache's pure-Python murmur3_32 does with a str. Invalid UTF-8 bytes
// count as U+FFFD.
func (m *murmur3) writeCodePoints(s string) {
	for _, r := range s {
		m.writeByte(byte(r))
	}
}

func (m murmur3) sum() uint32 {
	h := m.h
	if m.n > 0 {
		k := m.k * murmurC1
		k = k<<15 | k>>17
		k *= murmurC2
		h ^= k
	}
	h ^= m.length
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// murmur3CodePoints is pymemcache's murmur3_32(s) for a str s.
func murmur3CodePoints(s string) uint32 {
	var m murmur3
	m.writeCodePoints(s)
	return m.sum()
}

// oneAtATime is libhashkit's one_at_a_time (Jenkins) over the bytes of s.
// libhashkit adds each byte as a C char, which is signed on the platforms
// pylibmc runs on, so a byte >= 0x80 adds 0xFFFFFFxx.
func oneAtATime(s string) uint32 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h += uint32(int32(int8(s[i])))
		h += h << 10
		h ^= h >> 6
	}
	h += h << 3
	h ^= h >> 11
	h += h << 15
	return h
}

// md5Words returns the four little-endian uint32 words of md5(s): word 0
// is libhashkit's md5 key hash, and all four are the points that
// libmemcached's weighted ketama makes from one name.
func md5Words(s string) [4]uint32 {
	sum := md5.Sum([]byte(s))
	return [4]uint32{
		binary.LittleEndian.Uint32(sum[0:]),
		binary.LittleEndian.Uint32(sum[4:]),
		binary.LittleEndian.Uint32(sum[8:]),
		binary.LittleEndian.Uint32(sum[12:]),
	}
}

// cmemcacheHash is python-memcached's cmemcache_hash:
// ((crc32(b) & 0xffffffff) >> 16) & 0x7fff, or 1 when that is 0.
func cmemcacheHash(b string) uint32 {
	h := (crc32.ChecksumIEEE([]byte(b)) >> 16) & 0x7fff
	if h == 0 {
		return 1
	}
	return h
}

// hashkitCRC32 is libhashkit's crc32 hash (pylibmc's behaviors
// {"hash": "crc"}): ((crc32(b) & 0xffffffff) >> 16) & 0x7fff. Unlike
// cmemcacheHash it keeps a result of 0.
func hashkitCRC32(b string) uint32 {
	return (crc32.ChecksumIEEE([]byte(b)) >> 16) & 0x7fff
}
