package redis

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/cachectl/cachectl/backends/pickle"
)

// django-redis' MSGPackSerializer is msgpack.dumps(value) (use_bin_type:
// str as str, bytes as bin, the smallest integer encoding) and
// msgpack.loads(value, raw=False) (str must be UTF-8, map keys must be
// str or bytes, lists for arrays). Written by hand: every declared length
// is checked against the bytes that remain before anything is allocated.

// encodeMsgpack is msgpack.dumps(v).
func encodeMsgpack(v pickle.Value) ([]byte, error) {
	return appendMsgpack(nil, v, 0)
}

func appendMsgpack(b []byte, v pickle.Value, depth int) ([]byte, error) {
	if depth > pickle.DefaultLimits.MaxDepth {
		return nil, fmt.Errorf("msgpack: nested deeper than %d", pickle.DefaultLimits.MaxDepth)
	}
	if s, ok := pickle.AsString(v); ok {
		return appendMsgpackStr(b, s), nil
	}
	switch x := v.(type) {
	case nil, pickle.None:
		return append(b, 0xc0), nil
	case bool:
		if x {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int64:
		return appendMsgpackInt(b, x), nil
	case *big.Int:
		if x.IsUint64() {
			return binary.BigEndian.AppendUint64(append(b, 0xcf), x.Uint64()), nil
		}
		return nil, fmt.Errorf("msgpack: integer %s out of range", x)
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(x)), nil
	case []byte:
		return appendMsgpackBin(b, x), nil
	case pickle.ByteArray:
		return appendMsgpackBin(b, x), nil
	case *pickle.List:
		return appendMsgpackArray(b, x.Items, depth)
	case pickle.Tuple:
		return appendMsgpackArray(b, x, depth)
	case *pickle.Dict:
		b = appendMsgpackLen(b, len(x.Items), 0x80, 0xde, 0xdf)
		var err error
		for _, it := range x.Items {
			// msgpack.loads accepts only str and bytes keys (strict_map_key).
			switch it.Key.(type) {
			case []byte:
			default:
				if _, ok := pickle.AsString(it.Key); !ok {
					return nil, fmt.Errorf("msgpack: django-redis could not read back a dict key of type %s (only str and bytes)", pickle.TypeName(it.Key))
				}
			}
			if b, err = appendMsgpack(b, it.Key, depth+1); err != nil {
				return nil, err
			}
			if b, err = appendMsgpack(b, it.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("msgpack: can not serialize %s", pickle.TypeName(v))
}

func appendMsgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 0x7f:
		return append(b, byte(n))
	case n >= -32 && n < 0:
		return append(b, byte(n))
	case n > 0 && n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n > 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n > 0 && n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n > 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

func appendMsgpackStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendMsgpackBin(b []byte, data []byte) []byte {
	n := len(data)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, data...)
}

// appendMsgpackLen writes an array or map header: fix form up to 15.
func appendMsgpackLen(b []byte, n int, fix, c16, c32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, c32), uint32(n))
}

func appendMsgpackArray(b []byte, items []pickle.Value, depth int) ([]byte, error) {
	b = appendMsgpackLen(b, len(items), 0x90, 0xdc, 0xdd)
	var err error
	for _, it := range items {
		if b, err = appendMsgpack(b, it, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decodeMsgpack is msgpack.loads(data, raw=False).
func decodeMsgpack(data []byte) (pickle.Value, error) {
	d := &msgpackDecoder{b: data}
	v, err := d.value(0)
	if err != nil {
		return nil, fmt.Errorf("msgpack: %w", err)
	}
	if d.i != len(d.b) {
		return nil, fmt.Errorf("msgpack: %d bytes of extra data", len(d.b)-d.i)
	}
	return v, nil
}

type msgpackDecoder struct {
	b []byte
	i int
}

func (d *msgpackDecoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.i) {
		return nil, fmt.Errorf("declared length %d exceeds the %d bytes left", n, len(d.b)-d.i)
	}
	out := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return out, nil
}

func (d *msgpackDecoder) uint(size int) (uint64, error) {
	p, err := d.take(uint64(size))
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

func (d *msgpackDecoder) value(depth int) (pickle.Value, error) {
	if depth > pickle.DefaultLimits.MaxDepth {
		return nil, fmt.Errorf("nested deeper than %d", pickle.DefaultLimits.MaxDepth)
	}
	if d.i >= len(d.b) {
		return nil, fmt.Errorf("truncated")
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return d.dict(uint64(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.list(uint64(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return d.str(uint64(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return pickle.None{}, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		p, err := d.take(n)
		if err != nil {
			return nil, err
		}
		return append([]byte{}, p...), nil
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(n)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		return d.ext(uint64(1) << (c - 0xd4))
	case 0xca:
		n, err := d.uint(4)
		return float64(math.Float32frombits(uint32(n))), err
	case 0xcb:
		n, err := d.uint(8)
		return math.Float64frombits(n), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		n, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if n > math.MaxInt64 {
			return new(big.Int).SetUint64(n), nil
		}
		return int64(n), nil
	case 0xd0:
		n, err := d.uint(1)
		return int64(int8(n)), err
	case 0xd1:
		n, err := d.uint(2)
		return int64(int16(n)), err
	case 0xd2:
		n, err := d.uint(4)
		return int64(int32(n)), err
	case 0xd3:
		n, err := d.uint(8)
		return int64(n), err
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.list(n, depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.dict(n, depth)
	}
	return nil, fmt.Errorf("unknown type byte 0x%02x", c)
}

func (d *msgpackDecoder) str(n uint64) (pickle.Value, error) {
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(p) {
		return nil, fmt.Errorf("a str is not UTF-8")
	}
	return string(p), nil
}

func (d *msgpackDecoder) list(n uint64, depth int) (pickle.Value, error) {
	if n > uint64(len(d.b)-d.i) { // every item takes at least one byte
		return nil, fmt.Errorf("declared %d items but %d bytes left", n, len(d.b)-d.i)
	}
	// The declared count only bounds what may follow: start small and
	// let append grow, so nested headers cannot reserve memory per level.
	l := &pickle.List{Items: make([]pickle.Value, 0, min(n, 1024))}
	for k := uint64(0); k < n; k++ {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, v)
	}
	return l, nil
}

func (d *msgpackDecoder) dict(n uint64, depth int) (pickle.Value, error) {
	if n > uint64(len(d.b)-d.i)/2 {
		return nil, fmt.Errorf("declared %d pairs but %d bytes left", n, len(d.b)-d.i)
	}
	dict := &pickle.Dict{Items: make([]pickle.DictItem, 0, min(n, 1024))}
	pos := map[string]int{}
	for k := uint64(0); k < n; k++ {
		key, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		var id string
		switch x := key.(type) {
		case string:
			id = "s" + x
		case []byte:
			id = "b" + string(x)
		default:
			return nil, fmt.Errorf("%s is not allowed for map key (only str and bytes)", pickle.TypeName(key))
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if j, dup := pos[id]; dup {
			dict.Items[j].Value = v
		} else {
			pos[id] = len(dict.Items)
			dict.Items = append(dict.Items, pickle.DictItem{Key: key, Value: v})
		}
	}
	return dict, nil
}

// ext decodes an extension: -1 is msgpack's Timestamp, others ExtType,
// kept as objects of those classes (cachectl never writes them back).
func (d *msgpackDecoder) ext(n uint64) (pickle.Value, error) {
	code, err := d.uint(1)
	if err != nil {
		return nil, err
	}
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if int8(code) == -1 {
		var secs, nanos int64
		switch len(p) {
		case 4:
			secs = int64(binary.BigEndian.Uint32(p))
		case 8:
			v := binary.BigEndian.Uint64(p)
			nanos, secs = int64(v>>34), int64(v&(1<<34-1))
		case 12:
			nanos, secs = int64(binary.BigEndian.Uint32(p)), int64(binary.BigEndian.Uint64(p[4:]))
		default:
			return nil, fmt.Errorf("timestamp of %d bytes", len(p))
		}
		return &pickle.Object{Module: "msgpack.ext", Name: "Timestamp", Args: pickle.Tuple{secs, nanos}}, nil
	}
	return &pickle.Object{Module: "msgpack.ext", Name: "ExtType", Args: pickle.Tuple{int64(int8(code)), append([]byte{}, p...)}}, nil
}
