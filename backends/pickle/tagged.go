package pickle

import (
	"fmt"
	"math/big"
	"os"
	"path"
	"strings"
	"sync"
	"unicode"
)

// Checks of the tagged JSON forms (FromJSON): a value Python would refuse
// is refused, and one Python would normalise is normalised the same way,
// so that the pickle is the one CPython writes for that value.

// timeDeltaOf is timedelta(days, seconds, microseconds) for integers of
// any size: normalised to 0 <= seconds < 86400, 0 <= microseconds < 10**6,
// refused when the days leave -999999999..999999999 (OverflowError).
func timeDeltaOf(days, secs, us Value) (TimeDelta, error) {
	total := new(big.Int)
	for _, p := range []struct {
		v    Value
		name string
		unit int64
	}{{days, "days", 86400_000_000}, {secs, "seconds", 1_000_000}, {us, "microseconds", 1}} {
		var n *big.Int
		switch x := p.v.(type) {
		case nil:
			continue
		case int64:
			n = big.NewInt(x)
		case *big.Int:
			n = x
		default:
			return TimeDelta{}, fmt.Errorf("%s must be an integer", p.name)
		}
		total.Add(total, new(big.Int).Mul(n, big.NewInt(p.unit)))
	}
	d, rest := new(big.Int).DivMod(total, big.NewInt(86400_000_000), new(big.Int))
	if !d.IsInt64() || d.Int64() < -999999999 || d.Int64() > 999999999 {
		return TimeDelta{}, fmt.Errorf("days=%s; must have magnitude <= 999999999", d)
	}
	r := rest.Int64()
	return TimeDelta{Days: d.Int64(), Seconds: r / 1_000_000, Microseconds: r % 1_000_000}, nil
}

// Decimal's exponent limits on 64-bit CPython (libmpdec's MAX_EMAX and
// MIN_ETINY): a string beyond them is refused.
var (
	decimalMaxAdjusted = big.NewInt(999_999_999_999_999_999)
	decimalMinExp      = big.NewInt(-1_999_999_999_999_999_997)
)

// decimalText reads s as Decimal(s) does and returns str() of the result,
// the text a Decimal pickles with: surrounding whitespace and underscores
// dropped, "inf" as "Infinity", "1e5" as "1E+5", "0.0000001" as "1E-7".
// Digits other than ASCII ones are refused (Python accepts them).
func decimalText(s string) (string, error) {
	bad := fmt.Errorf("invalid literal %q", s)
	t := strings.ReplaceAll(strings.TrimFunc(s, unicode.IsSpace), "_", "")
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = "-"
		}
		t = t[1:]
	}
	for i := 0; i < len(t); i++ {
		if t[i] >= 0x80 {
			return "", fmt.Errorf("%q: only ASCII digits are understood", s)
		}
	}
	lower := strings.ToLower(t)
	switch {
	case lower == "inf" || lower == "infinity":
		return sign + "Infinity", nil
	case strings.HasPrefix(lower, "nan") || strings.HasPrefix(lower, "snan"):
		name, payload := "NaN", lower[3:]
		if lower[0] == 's' {
			name, payload = "sNaN", lower[4:]
		}
		if !allDigits(payload) {
			return "", bad
		}
		if payload = strings.TrimLeft(payload, "0"); payload != "" {
			name += payload
		}
		return sign + name, nil
	}
	mant, expText := t, ""
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant, expText = t[:i], t[i+1:]
		if expText == "" {
			return "", bad
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart+frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", bad
	}
	exp := new(big.Int)
	if expText != "" {
		e := expText
		if e[0] == '+' || e[0] == '-' {
			e = e[1:]
		}
		if e == "" || !allDigits(e) {
			return "", bad
		}
		exp.SetString(expText, 10)
	}
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	coeff := strings.TrimLeft(intPart+frac, "0")
	if coeff == "" {
		coeff = "0"
	}
	adjusted := new(big.Int).Add(exp, big.NewInt(int64(len(coeff)-1)))
	if adjusted.Cmp(decimalMaxAdjusted) > 0 || exp.Cmp(decimalMinExp) < 0 {
		return "", fmt.Errorf("%q: exponent out of range", s)
	}
	// str(): plain notation when the exponent is <= 0 and the adjusted
	// exponent >= -6, else one digit before the point and E±n.
	left := new(big.Int).Add(exp, big.NewInt(int64(len(coeff))))
	dot := left
	if exp.Sign() > 0 || left.Cmp(big.NewInt(-5)) < 0 {
		dot = big.NewInt(1)
	}
	// dot is small now: either 1, or in -5..len(coeff).
	dp := int(dot.Int64())
	var out string
	switch {
	case dp <= 0:
		out = "0." + strings.Repeat("0", -dp) + coeff
	case dp >= len(coeff):
		out = coeff + strings.Repeat("0", dp-len(coeff))
	default:
		out = coeff[:dp] + "." + coeff[dp:]
	}
	if e := new(big.Int).Sub(left, dot); e.Sign() != 0 {
		es := e.String()
		if e.Sign() > 0 {
			es = "+" + es
		}
		out += "E" + es
	}
	return sign + out, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tzPath is zoneinfo's default TZPATH on Debian.
var tzPath = []string{"/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo"}

// checkZoneKey refuses a key zoneinfo.ZoneInfo(key) would refuse on this
// system: not a normalised relative path, or no TZif file of that name
// in the time zone database.
func checkZoneKey(key string) error {
	if err, ok := zoneKeys.Load(key); ok {
		return err.(zoneKeyResult).err
	}
	err := lookZoneKey(key)
	zoneKeys.Store(key, zoneKeyResult{err})
	return err
}

// zoneKeys caches checkZoneKey per key (a document can name one zone many
// times; each check opens the file).
var zoneKeys sync.Map // key -> zoneKeyResult

type zoneKeyResult struct{ err error }

func lookZoneKey(key string) error {
	if key == "" || path.IsAbs(key) || path.Clean(key) != strings.TrimSuffix(key, "/") || strings.HasSuffix(key, "/") ||
		key == ".." || strings.HasPrefix(key, "../") || key == "." {
		return fmt.Errorf("%q is not a zoneinfo key such as \"Europe/Paris\"", key)
	}
	for _, dir := range tzPath {
		f, err := os.Open(path.Join(dir, key))
		if err != nil {
			continue
		}
		var magic [4]byte
		st, err := f.Stat()
		ok := err == nil && st.Mode().IsRegular()
		if ok {
			_, err = f.Read(magic[:])
			ok = err == nil && string(magic[:]) == "TZif"
		}
		f.Close()
		if ok {
			return nil
		}
		if st != nil && st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a time zone file", path.Join(dir, key))
		}
	}
	return fmt.Errorf("no time zone %q in the time zone database (%s)", key, tzPath[0])
}
