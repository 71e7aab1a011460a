package redis

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cachectl/cachectl/backends/pickle"
)

// django-redis' JSONSerializer writes json.dumps(value, cls=DjangoJSONEncoder)
// with Python's defaults (", " and ": " separators, ensure_ascii) and reads
// with json.loads. The encoder below produces those bytes; the decoder
// gives the Python values json.loads would. Neither knows cachectl's own
// {"$py": …} JSON tags: a JSON cache stores plain JSON.

// encodePyJSON is json.dumps(v, cls=DjangoJSONEncoder).
func encodePyJSON(v pickle.Value) ([]byte, error) {
	var b strings.Builder
	if err := writePyJSON(&b, v, 0); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func writePyJSON(b *strings.Builder, v pickle.Value, depth int) error {
	if depth > pickle.DefaultLimits.MaxDepth {
		return fmt.Errorf("json: nested deeper than %d", pickle.DefaultLimits.MaxDepth)
	}
	if s, ok := pickle.AsString(v); ok {
		writePyJSONString(b, s)
		return nil
	}
	switch x := v.(type) {
	case nil, pickle.None:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyJSONFloat(x))
	case *pickle.List:
		return writePyJSONList(b, x.Items, depth)
	case pickle.Tuple:
		return writePyJSONList(b, x, depth)
	case *pickle.Dict:
		b.WriteByte('{')
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			k, err := pyJSONKey(it.Key)
			if err != nil {
				return err
			}
			writePyJSONString(b, k)
			b.WriteString(": ")
			if err := writePyJSON(b, it.Value, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		// DjangoJSONEncoder.default: dates, times, durations, Decimal, UUID.
		s, err := djangoJSONDefault(v)
		if err != nil {
			return err
		}
		writePyJSONString(b, s)
	}
	return nil
}

func writePyJSONList(b *strings.Builder, items []pickle.Value, depth int) error {
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := writePyJSON(b, it, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// pyJSONKey is how json.dumps turns a dict key into a string.
func pyJSONKey(k pickle.Value) (string, error) {
	if s, ok := pickle.AsString(k); ok {
		return s, nil
	}
	switch x := k.(type) {
	case nil, pickle.None:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case *big.Int:
		return x.String(), nil
	case float64:
		return pyJSONFloat(x), nil
	}
	return "", fmt.Errorf("json: keys must be str, int, float, bool or None, not %s", pickle.TypeName(k))
}

func pyJSONFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return pickle.FloatRepr(f)
}

// writePyJSONString writes s as json.dumps does with ensure_ascii: every
// character outside space..~ escaped, astral ones as surrogate pairs.
func writePyJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				u4(hi)
				u4(lo)
			default:
				u4(r)
			}
		}
	}
	b.WriteByte('"')
}

// djangoJSONDefault is DjangoJSONEncoder.default for the types it knows.
func djangoJSONDefault(v pickle.Value) (string, error) {
	if u, ok := pickle.AsUUID(v); ok { // uuid1() values are objects that keep is_safe
		v = u
	}
	switch x := v.(type) {
	case pickle.DateTime:
		tz, err := utcOffset(x)
		if err != nil {
			return "", err
		}
		r := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", x.Year, x.Month, x.Day, x.Hour, x.Minute, x.Second)
		if x.Microsecond != 0 {
			r += fmt.Sprintf(".%03d", x.Microsecond/1000) // isoformat cut to milliseconds
		}
		if tz == "+00:00" {
			tz = "Z"
		}
		return r + tz, nil
	case pickle.Date:
		return fmt.Sprintf("%04d-%02d-%02d", x.Year, x.Month, x.Day), nil
	case pickle.Time:
		if x.TZ != nil {
			// is_aware(): utcoffset() is not None. A ZoneInfo (or a pytz
			// DST zone) gives None for a time, so it counts as naive and
			// isoformat() writes no offset.
			if _, none := x.TZ.(pickle.None); !none && !pickle.TimeOffsetIsNone(x.TZ) {
				return "", fmt.Errorf("json: JSON can't represent timezone-aware times")
			}
		}
		r := fmt.Sprintf("%02d:%02d:%02d", x.Hour, x.Minute, x.Second)
		if x.Microsecond != 0 {
			r += fmt.Sprintf(".%03d", x.Microsecond/1000)
		}
		return r, nil
	case pickle.TimeDelta:
		return durationISO(x), nil
	case pickle.Decimal:
		return x.Text, nil
	case pickle.UUID:
		h := fmt.Sprintf("%x", x[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	}
	return "", fmt.Errorf("json: Object of type %s is not JSON serializable", pickle.TypeName(v))
}

// utcOffset is the +HH:MM[:SS[.ffffff]] part of datetime.isoformat(),
// computed as the pickle package computes tz.utcoffset(dt) (fixed
// offsets, zoneinfo with fold, pytz's zones).
func utcOffset(x pickle.DateTime) (string, error) {
	switch x.TZ.(type) {
	case nil, pickle.None:
		return "", nil
	}
	off, ok := pickle.UTCOffset(x.TZ, &x)
	if !ok {
		if z, isZone := x.TZ.(pickle.ZoneInfo); isZone {
			_, err := pickle.ZoneOffset(z.Key, x)
			return "", fmt.Errorf("json: time zone %q: %v", z.Key, err)
		}
		return "", fmt.Errorf("json: cannot compute the UTC offset of a %s time zone", pickle.TypeName(x.TZ))
	}
	return pickle.OffsetISO(off), nil
}

// durationISO is django.utils.duration.duration_iso_string. It works on
// days and seconds apart: timedelta.max in microseconds overflows int64.
func durationISO(d pickle.TimeDelta) string {
	sign := ""
	if d.Days < 0 {
		// A timedelta is negative exactly when its days are (0 <= seconds,
		// microseconds); -timedelta.min is timedelta(999999999).
		sign = "-"
		d = negTimeDelta(d)
	}
	ms := ""
	if d.Microseconds != 0 {
		ms = fmt.Sprintf(".%06d", d.Microseconds)
	}
	return fmt.Sprintf("%sP%dDT%02dH%02dM%02d%sS", sign, d.Days, d.Seconds/3600, d.Seconds%3600/60, d.Seconds%60, ms)
}

// negTimeDelta is -d, normalised (0 <= seconds < 86400, 0 <= microseconds < 10**6).
func negTimeDelta(d pickle.TimeDelta) pickle.TimeDelta {
	days, secs, us := -d.Days, -d.Seconds, -d.Microseconds
	if us < 0 {
		us += 1_000_000
		secs--
	}
	if secs < 0 {
		secs += 86400
		days--
	}
	return pickle.TimeDelta{Days: days, Seconds: secs, Microseconds: us}
}

// decodePyJSON is json.loads(data.decode()).
func decodePyJSON(data []byte) (pickle.Value, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("json: the value is not UTF-8")
	}
	d := &jsonDecoder{s: string(data)}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.s) {
		return nil, fmt.Errorf("json: extra data at offset %d", d.i)
	}
	return v, nil
}

type jsonDecoder struct {
	s string
	i int
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("json: "+format+" at offset %d", append(args, d.i)...)
}

func (d *jsonDecoder) literal(word string) bool {
	if strings.HasPrefix(d.s[d.i:], word) {
		d.i += len(word)
		return true
	}
	return false
}

func (d *jsonDecoder) value(depth int) (pickle.Value, error) {
	if depth > pickle.DefaultLimits.MaxDepth {
		return nil, d.errorf("nested deeper than %d", pickle.DefaultLimits.MaxDepth)
	}
	if d.i >= len(d.s) {
		return nil, d.errorf("expecting value")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		dict := &pickle.Dict{}
		pos := map[string]int{}
		d.space()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return dict, nil
		}
		for {
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				return nil, d.errorf("expecting property name enclosed in double quotes")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return nil, d.errorf("expecting ':' delimiter")
			}
			d.i++
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if j, dup := pos[k]; dup {
				dict.Items[j].Value = v // a repeated key keeps its place, takes the last value
			} else {
				pos[k] = len(dict.Items)
				dict.Items = append(dict.Items, pickle.DictItem{Key: k, Value: v})
			}
			d.space()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == '}' {
				d.i++
				return dict, nil
			}
			return nil, d.errorf("expecting ',' delimiter")
		}
	case c == '[':
		d.i++
		list := &pickle.List{}
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return list, nil
		}
		for {
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list.Items = append(list.Items, v)
			d.space()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == ']' {
				d.i++
				return list, nil
			}
			return nil, d.errorf("expecting ',' delimiter")
		}
	case c == '"':
		return d.str()
	case d.literal("null"):
		return pickle.None{}, nil
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("NaN"):
		return pickle.PyNaN(false), nil // json.loads' float("nan")
	case d.literal("Infinity"):
		return math.Inf(1), nil
	case d.literal("-Infinity"):
		return math.Inf(-1), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, d.errorf("expecting value")
}

// number follows JSON's grammar (no leading zeros, no bare "."), as
// Python's scanner does; integers have arbitrary precision.
func (d *jsonDecoder) number() (pickle.Value, error) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.s) && d.s[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.errorf("expecting value")
	}
	isFloat := false
	if d.i+1 < len(d.s) && d.s[d.i] == '.' && d.s[d.i+1] >= '0' && d.s[d.i+1] <= '9' {
		d.i++
		digits()
		isFloat = true
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		save := d.i
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			d.i = save // "1e" is the number 1 followed by junk
		} else {
			isFloat = true
		}
	}
	text := d.s[start:d.i]
	if !isFloat {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
		if n := len(strings.TrimPrefix(text, "-")); n > 4300 { // the sign is not a digit
			return nil, d.errorf("integer of %d digits exceeds Python's limit", n)
		}
		n, _ := new(big.Int).SetString(text, 10)
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, d.errorf("bad number %q", text)
	}
	return f, nil // out of range: ±inf, as float() gives
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // opening quote
	var b strings.Builder
	for {
		if d.i >= len(d.s) {
			return "", d.errorf("unterminated string")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c < 0x20:
			return "", d.errorf("invalid control character")
		case c != '\\':
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			b.WriteRune(r)
			d.i += size
			continue
		}
		d.i++
		if d.i >= len(d.s) {
			return "", d.errorf("unterminated string")
		}
		e := d.s[d.i]
		d.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, err := d.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) && r < 0xdc00 && strings.HasPrefix(d.s[d.i:], `\u`) {
				save := d.i
				d.i += 2
				lo, err := d.hex4()
				if err == nil && lo >= 0xdc00 && lo <= 0xdfff {
					r = utf16.DecodeRune(r, lo)
				} else {
					d.i = save
				}
			}
			b.WriteRune(r) // a lone surrogate becomes U+FFFD: Go strings cannot hold it
		default:
			return "", d.errorf("invalid \\escape")
		}
	}
}

func (d *jsonDecoder) hex4() (rune, error) {
	if d.i+4 > len(d.s) {
		return 0, d.errorf("invalid \\uXXXX escape")
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil {
		return 0, d.errorf("invalid \\uXXXX escape")
	}
	d.i += 4
	return rune(n), nil
}
