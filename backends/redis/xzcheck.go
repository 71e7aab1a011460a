package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// xzDictLimit checks, before anything is decompressed, that no LZMA2 block
// of an xz value asks for a dictionary above max: the xz reader allocates
// the dictionary a block header declares, so a 100-byte value could
// otherwise ask for 4 GiB. It walks every stream from its footer and index
// to each block header (liblzma leaves the block sizes out of the headers,
// the index has them). Written by hand: the xz library exposes no such
// check. A value it cannot walk is an error: the reader would refuse it too.
func xzDictLimit(b []byte, max int64) error {
	end := len(b)
	for end > 0 {
		for end >= 4 && binary.LittleEndian.Uint32(b[end-4:end]) == 0 { // stream padding
			end -= 4
		}
		if end == 0 {
			break
		}
		if end < 24 || string(b[end-2:end]) != "YZ" {
			return errors.New("xz: no stream footer")
		}
		indexSize := (int64(binary.LittleEndian.Uint32(b[end-8:end-4])) + 1) * 4
		indexStart := int64(end-12) - indexSize
		if indexStart < 12 || b[indexStart] != 0 {
			return errors.New("xz: bad index")
		}
		idx := b[indexStart : end-12]
		p := 1
		records, ok := xzVarint(idx, &p)
		if !ok || records > uint64(len(idx)) {
			return errors.New("xz: bad index")
		}
		sizes := make([]int64, 0, records)
		var total int64
		for i := uint64(0); i < records; i++ {
			unpadded, ok1 := xzVarint(idx, &p)
			_, ok2 := xzVarint(idx, &p)
			if !ok1 || !ok2 || unpadded > uint64(len(b)) {
				return errors.New("xz: bad index")
			}
			padded := (int64(unpadded) + 3) &^ 3
			sizes = append(sizes, padded)
			total += padded
		}
		start := indexStart - total - 12
		if start < 0 || string(b[start:start+6]) != "\xfd7zXZ\x00" {
			return errors.New("xz: bad stream header")
		}
		pos := start + 12
		for _, size := range sizes {
			if pos+size > indexStart {
				return errors.New("xz: bad index")
			}
			if err := xzBlockDict(b[pos:pos+size], max); err != nil {
				return err
			}
			pos += size
		}
		end = int(start)
	}
	return nil
}

// xzBlockDict reads one block header's filter flags.
func xzBlockDict(blk []byte, max int64) error {
	if len(blk) < 2 || blk[0] == 0 {
		return errors.New("xz: bad block header")
	}
	hsize := (int(blk[0]) + 1) * 4
	if hsize > len(blk) {
		return errors.New("xz: bad block header")
	}
	h := blk[:hsize]
	flags := h[1]
	p := 2
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // compressed, uncompressed size
		if present {
			if _, ok := xzVarint(h, &p); !ok {
				return errors.New("xz: bad block header")
			}
		}
	}
	for f := 0; f < int(flags&3)+1; f++ {
		id, ok1 := xzVarint(h, &p)
		n, ok2 := xzVarint(h, &p)
		if !ok1 || !ok2 || uint64(p)+n > uint64(len(h)) {
			return errors.New("xz: bad filter flags")
		}
		if id == 0x21 && n == 1 { // LZMA2: one byte of dictionary size
			d := h[p]
			if d > 40 {
				return errors.New("xz: bad LZMA2 dictionary size")
			}
			size := int64(0xffffffff)
			if d < 40 {
				size = int64(2|d&1) << (d/2 + 11)
			}
			if size > max {
				return fmt.Errorf("xz: a block asks for a %d-byte dictionary, over the %d-byte limit", size, max)
			}
		}
		p += int(n)
	}
	return nil
}

// xzVarint reads xz's multibyte integer (7 bits a byte, at most 9 bytes).
func xzVarint(b []byte, p *int) (uint64, bool) {
	var v uint64
	for i := 0; i < 9; i++ {
		if *p >= len(b) {
			return 0, false
		}
		c := b[*p]
		*p++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, true
		}
	}
	return 0, false
}
