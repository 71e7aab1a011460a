package pickle

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Decimal arithmetic is written here by hand: Django's incr on the file,
// database and django-redis caches is value + delta, and a stored
// decimal.Decimal plus an int is Python's Decimal addition in the default
// context (28 significant digits, ROUND_HALF_EVEN), printed as str() does.
// No maintained Go decimal library reproduces CPython's context and
// to-sci-string rules exactly, and only this one operation is needed.

// decimalPrec is the precision of Python's default decimal context.
const decimalPrec = 28

// maxDecimalExp bounds the exponents AddInt works with exactly: a value
// further from 1 than this is refused rather than computed with huge
// powers of ten (Python's default context overflows at 10**999999).
const maxDecimalExp = 4000

// ErrDecimal is a Decimal that AddInt cannot add to as Python would.
var ErrDecimal = errors.New("decimal")

// decimalNum is a finite Decimal: (-1)**neg * coef * 10**exp.
type decimalNum struct {
	neg  bool
	coef *big.Int
	exp  int
}

// parseDecimal reads Decimal text (what str() of a Decimal writes, and
// the constructor's other forms: a sign, digits with an optional point,
// an exponent). special is "NaN", "sNaN" or "Infinity" for those values.
func parseDecimal(s string) (d decimalNum, special string, err error) {
	t := strings.TrimSpace(strings.ReplaceAll(s, "_", ""))
	if t != "" && (t[0] == '-' || t[0] == '+') {
		d.neg = t[0] == '-'
		t = t[1:]
	}
	switch low := strings.ToLower(t); {
	case low == "inf" || low == "infinity":
		return d, "Infinity", nil
	case strings.HasPrefix(low, "snan"):
		return d, "sNaN", nil
	case strings.HasPrefix(low, "nan"):
		return d, "NaN", nil
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(t), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return d, "", fmt.Errorf("%w: %q is not a Decimal", ErrDecimal, s)
	}
	exp := -len(frac)
	if hasExp {
		var e big.Int
		if _, ok := e.SetString(expText, 10); !ok {
			return d, "", fmt.Errorf("%w: %q is not a Decimal", ErrDecimal, s)
		}
		if !e.IsInt64() || e.Int64() > maxDecimalExp || e.Int64() < -maxDecimalExp {
			return d, "", fmt.Errorf("%w: the exponent of %q is beyond what cachectl adds to exactly", ErrDecimal, s)
		}
		exp += int(e.Int64())
	}
	if exp > maxDecimalExp || exp < -maxDecimalExp {
		return d, "", fmt.Errorf("%w: the exponent of %q is beyond what cachectl adds to exactly", ErrDecimal, s)
	}
	d.coef, _ = new(big.Int).SetString(digits, 10)
	d.exp = exp
	return d, "", nil
}

// String is Python's str() of the Decimal (to-sci-string).
func (d decimalNum) String() string {
	digits := d.coef.String()
	sign := ""
	if d.neg {
		sign = "-"
	}
	left := d.exp + len(digits) // leftdigits
	dot := 1
	if d.exp <= 0 && left > -6 {
		dot = left
	}
	var intPart, frac string
	switch {
	case dot <= 0:
		intPart, frac = "0", "."+strings.Repeat("0", -dot)+digits
	case dot >= len(digits):
		intPart = digits + strings.Repeat("0", dot-len(digits))
	default:
		intPart, frac = digits[:dot], "."+digits[dot:]
	}
	exp := ""
	if left != dot {
		exp = fmt.Sprintf("E%+d", left-dot)
	}
	return sign + intPart + frac + exp
}

// DecimalAddInt is str(Decimal(text) + delta) in Python's default
// context: the exact sum at the smaller exponent, rounded half-even to 28
// digits; NaN and ±Infinity stay as they are; sNaN raises there
// (InvalidOperation), an error here.
func DecimalAddInt(text string, delta *big.Int) (string, error) {
	a, special, err := parseDecimal(text)
	if err != nil {
		return "", err
	}
	switch special {
	case "NaN":
		return strings.TrimSpace(text), nil // a quiet NaN, its sign and payload too, comes out as it went in
	case "sNaN":
		return "", fmt.Errorf("%w: adding to sNaN raises InvalidOperation", ErrDecimal)
	case "Infinity":
		if a.neg {
			return "-Infinity", nil
		}
		return "Infinity", nil
	}
	e := min(a.exp, 0)
	x := new(big.Int).Mul(a.coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.exp-e)), nil))
	if a.neg {
		x.Neg(x)
	}
	y := new(big.Int).Mul(delta, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-e)), nil))
	sum := x.Add(x, y)
	r := decimalNum{neg: sum.Sign() < 0, coef: new(big.Int).Abs(sum), exp: e}
	if sum.Sign() == 0 {
		r.neg = a.neg && delta.Sign() < 0 // only -0 + -0 is -0 under ROUND_HALF_EVEN; an int is never -0
	}
	if n := len(r.coef.String()); n > decimalPrec {
		drop := n - decimalPrec
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(drop)), nil)
		q, rem := new(big.Int).QuoRem(r.coef, p, new(big.Int))
		half := new(big.Int).Rsh(p, 1) // p is a power of ten, so even
		switch c := rem.Cmp(half); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			q.Add(q, big.NewInt(1))
		}
		r.coef, r.exp = q, r.exp+drop
		if len(q.String()) > decimalPrec { // 999…9 rounded up to 10**28
			r.coef.Quo(r.coef, big.NewInt(10))
			r.exp++
		}
	}
	return r.String(), nil
}
