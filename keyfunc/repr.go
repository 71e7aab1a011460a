package keyfunc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// forEachPyCodePoint calls f with the code points Python would see for s.
// Valid UTF-8 decodes normally. Bytes that are not valid UTF-8 map the
// way Python's error handlers do: a three-byte encoded surrogate (ED A0-BF
// 80-BF, as pickle and "surrogatepass" write it) is that surrogate, and any
// other bad byte b is U+DC00+b, as "surrogateescape" (sys.argv, os.fsdecode)
// gives it.
func forEachPyCodePoint(s string, f func(r rune)) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			if s[i] == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
				f(0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F))
				i += 3
				continue
			}
			f(0xDC00 + rune(s[i]))
			i++
			continue
		}
		f(r)
		i += size
	}
}

// pyLen is Python's len() of s: its number of code points.
func pyLen(s string) int {
	n := 0
	forEachPyCodePoint(s, func(rune) { n++ })
	return n
}

// PyRepr is Python 3's repr() of the str s: single quotes unless s holds a
// single quote and no double quote; backslash escapes for the quote, the
// backslash, \t, \n, \r; \xNN, \uNNNN or \UNNNNNNNN (lower-case hex) for
// every other character Python does not consider printable. Invalid UTF-8
// is shown as the surrogates Python would hold (see forEachPyCodePoint).
// Printability follows Go's Unicode tables, which may be newer than the
// Python's: a character assigned only in the newer version prints raw here.
func PyRepr(s string) string {
	quote := '\''
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteRune(quote)
	forEachPyCodePoint(s, func(r rune) {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x7f && r >= ' ':
			b.WriteRune(r)
		case isPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			writeHexEscape(&b, 'x', r, 2)
		case r <= 0xffff:
			writeHexEscape(&b, 'u', r, 4)
		default:
			writeHexEscape(&b, 'U', r, 8)
		}
	})
	b.WriteRune(quote)
	return b.String()
}

func writeHexEscape(b *strings.Builder, kind byte, r rune, digits int) {
	const lowerHex = "0123456789abcdef"
	b.WriteByte('\\')
	b.WriteByte(kind)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(lowerHex[(r>>uint(shift))&15])
	}
}

// isPrintable is Python's str.isprintable() for one character: everything
// except the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs, but the ASCII
// space is printable.
func isPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// PyFloatRepr is Python's repr(float): the shortest text that round-trips,
// fixed notation for exponents -4..15, scientific otherwise.
func PyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -5 && exp < 16 {
		// Python's repr switches at decpt > 16 or decpt < -3 (decpt = exp+1).
		if exp < 0 {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		} else if len(digits) <= exp+1 {
			out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		} else {
			out = digits[:exp+1] + "." + digits[exp+1:]
		}
		if exp == -5 {
			out = sci(digits, exp)
		}
	} else {
		out = sci(digits, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

func sci(digits string, exp int) string {
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	sign := "+"
	if exp < 0 {
		sign = "-"
		exp = -exp
	}
	return fmt.Sprintf("%se%s%02d", m, sign, exp)
}
