package pickle

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/keyfunc"
)

// Repr renders v as Python's repr() would (what Django's shell prints).
// Objects of classes cachectl does not model show as <module.Name object>
// with their state; self-references print as [...] and {...}.
func Repr(v Value) string {
	var b strings.Builder
	r := reprer{b: &b, seen: map[any]bool{}, budget: &renderBudget{nodes: maxRenderNodes, bytes: maxRenderBytes}}
	r.repr(v, 0)
	return b.String()
}

// maxRenderNodes and maxRenderBytes bound rendering: memo references can
// make a small pickle a huge tree ("billion laughs"), or repeat one long
// str many times; past either budget "..." (or {"$py": "too-large"}) is
// written. maxRenderBytes is twice the pickle input limit, so a value
// that shares nothing renders in full.
const (
	maxRenderNodes = 1_000_000
	maxRenderBytes = 128 << 20
)

// renderBudget is what is left of the rendering budget.
type renderBudget struct{ nodes, bytes int }

// node spends one part; false when the budget is gone.
func (b *renderBudget) node() bool {
	b.nodes--
	return b.nodes >= 0 && b.bytes >= 0
}

// spend charges n bytes of output; false when they do not fit.
func (b *renderBudget) spend(n int) bool {
	if n > b.bytes {
		b.bytes = -1 // nothing more is rendered after a cut
		return false
	}
	b.bytes -= n
	return true
}

type reprer struct {
	b      *strings.Builder
	seen   map[any]bool
	budget *renderBudget
}

// s writes text and charges it. Punctuation is always written, so that
// a cut value stays well formed ("[..., ...]"); longer text that does
// not fit becomes "...".
func (r reprer) s(s string) {
	if r.budget.spend(len(s)) || len(s) <= 16 {
		r.b.WriteString(s)
	} else {
		r.b.WriteString("...")
	}
}

// fits reports whether text of about n bytes may still be written, so
// that long text is not built for nothing, and writes "..." when not.
func (r reprer) fits(n int) bool {
	if n <= r.budget.bytes {
		return true
	}
	r.budget.bytes = -1
	r.b.WriteString("...")
	return false
}

func (r reprer) repr(v Value, depth int) {
	if !r.budget.node() || depth > DefaultLimits.MaxDepth {
		r.b.WriteString("...")
		return
	}
	switch x := goValue(v).(type) {
	case nil, None:
		r.s("None")
	case bool:
		if x {
			r.s("True")
		} else {
			r.s("False")
		}
	case int64:
		r.s(strconv.FormatInt(x, 10))
	case *big.Int:
		if r.fits(x.BitLen()/3 + 2) {
			r.s(x.String())
		}
	case float64:
		r.s(FloatRepr(x))
	case string:
		if r.fits(len(x) + 2) {
			r.s(keyfunc.PyRepr(x))
		}
	case []byte:
		if r.fits(len(x) + 3) {
			r.s(bytesRepr(x))
		}
	case ByteArray:
		if r.fits(len(x) + 14) {
			r.s("bytearray(" + bytesRepr(x) + ")")
		}
	case *List:
		if r.seen[x] {
			r.s("[...]")
			return
		}
		r.seen[x] = true
		r.s("[")
		r.items(x.Items, depth)
		r.s("]")
		delete(r.seen, x)
	case Tuple:
		if len(x) > 0 {
			// A tuple that holds itself (through a list) shares its items'
			// array with the copy inside: Python prints that one as (...).
			if r.seen[&x[0]] {
				r.s("(...)")
				return
			}
			r.seen[&x[0]] = true
			defer delete(r.seen, &x[0])
		}
		r.s("(")
		r.items(x, depth)
		if len(x) == 1 {
			r.s(",")
		}
		r.s(")")
	case *Dict:
		if r.seen[x] {
			r.s("{...}")
			return
		}
		r.seen[x] = true
		r.s("{")
		for i, it := range x.Items {
			if i > 0 {
				r.s(", ")
			}
			r.repr(it.Key, depth+1)
			r.s(": ")
			r.repr(it.Value, depth+1)
		}
		r.s("}")
		delete(r.seen, x)
	case *Set:
		if len(x.Items) == 0 {
			r.s("set()")
			return
		}
		r.s("{")
		r.items(x.Items, depth)
		r.s("}")
	case FrozenSet:
		if len(x.Items) == 0 {
			r.s("frozenset()")
			return
		}
		r.s("frozenset({")
		r.items(x.Items, depth)
		r.s("})")
	case DateTime:
		f := []int{x.Year, x.Month, x.Day, x.Hour, x.Minute, x.Second, x.Microsecond}
		if f[6] == 0 {
			f = f[:6]
			if f[5] == 0 {
				f = f[:5]
			}
		}
		r.s("datetime.datetime(" + joinInts(f))
		if x.Fold == 1 { // before tzinfo for a datetime, after it for a time, as Python writes them
			r.s(", fold=1")
		}
		if x.TZ != nil {
			r.s(", tzinfo=")
			r.repr(x.TZ, depth+1)
		}
		r.s(")")
	case Date:
		r.s(fmt.Sprintf("datetime.date(%d, %d, %d)", x.Year, x.Month, x.Day))
	case Time:
		s := fmt.Sprintf("datetime.time(%d, %d", x.Hour, x.Minute)
		if x.Microsecond != 0 {
			s += fmt.Sprintf(", %d, %d", x.Second, x.Microsecond)
		} else if x.Second != 0 {
			s += fmt.Sprintf(", %d", x.Second)
		}
		r.s(s)
		if x.TZ != nil {
			r.s(", tzinfo=")
			r.repr(x.TZ, depth+1)
		}
		if x.Fold == 1 {
			r.s(", fold=1")
		}
		r.s(")")
	case TimeDelta:
		r.s(timedeltaRepr(x))
	case Timezone:
		if x.Offset == (TimeDelta{}) && x.Name == nil {
			r.s("datetime.timezone.utc")
			return
		}
		r.s("datetime.timezone(" + timedeltaRepr(x.Offset))
		if x.Name != nil {
			r.s(", " + keyfunc.PyRepr(*x.Name))
		}
		r.s(")")
	case ZoneInfo:
		r.s("zoneinfo.ZoneInfo(key=" + keyfunc.PyRepr(x.Key) + ")")
	case Decimal:
		if r.fits(len(x.Text) + 11) {
			r.s("Decimal(" + keyfunc.PyRepr(x.Text) + ")")
		}
	case UUID:
		r.s("UUID('" + x.String() + "')")
	case Global:
		r.s(globalRepr(x))
	case *Object:
		if s, ok := AsString(x); ok {
			if r.fits(len(s) + 2) {
				r.s(keyfunc.PyRepr(s))
			}
			return
		}
		if g, ok := getattrGlobal(x); ok {
			r.s(globalRepr(g))
			return
		}
		if s, ok := pytzRepr(x); ok {
			r.s(s)
			return
		}
		if u, ok := AsUUID(x); ok {
			r.s("UUID('" + u.String() + "')")
			return
		}
		if r.seen[x] {
			r.s("<" + x.Class() + " object ...>")
			return
		}
		r.seen[x] = true
		// Not Python's repr (the class's own __repr__ is not known), but
		// everything the pickle gave it: the arguments it was made from,
		// the items appended or set on it (an OrderedDict's, a deque's),
		// and its state.
		r.s("<" + x.Class() + " object")
		if t, ok := x.Args.(Tuple); ok && len(t) > 0 {
			r.s(" args=")
			r.repr(t, depth+1)
		}
		if len(x.ListItems) > 0 {
			r.s(" items=")
			r.repr(&List{Items: x.ListItems}, depth+1)
		}
		if len(x.DictItems) > 0 {
			r.s(" dict_items=")
			r.repr(&Dict{Items: x.DictItems}, depth+1)
		}
		if x.State != nil {
			r.s(" state=")
			r.repr(x.State, depth+1)
		}
		r.s(">")
		delete(r.seen, x)
	default:
		r.s(fmt.Sprintf("<%T>", v))
	}
}

func (r reprer) items(items []Value, depth int) {
	for i, it := range items {
		if i > 0 {
			r.s(", ")
		}
		r.repr(it, depth+1)
	}
}

func joinInts(f []int) string {
	parts := make([]string, len(f))
	for i, n := range f {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

func timedeltaRepr(x TimeDelta) string {
	var parts []string
	if x.Days != 0 {
		parts = append(parts, fmt.Sprintf("days=%d", x.Days))
	}
	if x.Seconds != 0 {
		parts = append(parts, fmt.Sprintf("seconds=%d", x.Seconds))
	}
	if x.Microseconds != 0 {
		parts = append(parts, fmt.Sprintf("microseconds=%d", x.Microseconds))
	}
	if len(parts) == 0 {
		return "datetime.timedelta(0)"
	}
	return "datetime.timedelta(" + strings.Join(parts, ", ") + ")"
}

// String is the canonical 8-4-4-4-12 form.
func (u UUID) String() string {
	h := fmt.Sprintf("%x", u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func bytesRepr(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	var s strings.Builder
	s.WriteString("b")
	s.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\r':
			s.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&s, `\x%02x`, c)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteByte(quote)
	return s.String()
}

// FloatRepr is Python's repr(float) (keyfunc.PyFloatRepr).
func FloatRepr(f float64) string { return keyfunc.PyFloatRepr(f) }

// globalRepr is repr() of a class: builtins' classes go without module.
// (A function would print as <function ...>; a pickle does not say
// which it is.)
func globalRepr(g Global) string {
	if g.Module == "builtins" {
		switch {
		case g.Name == "Ellipsis" || g.Name == "NotImplemented":
			return g.Name
		case builtinFunction(g.Name): // len, getattr: builtins' lower-case names that are not classes
			return "<built-in function " + g.Name + ">"
		}
		return "<class '" + g.Name + "'>"
	}
	return "<class '" + g.Module + "." + g.Name + "'>"
}

// getattrGlobal reads builtins.getattr(cls, "name"), which protocols 0-3
// use for a nested class (and every protocol for a class method), as the
// dotted name it refers to.
func getattrGlobal(o *Object) (Global, bool) {
	if o.Module != "builtins" || o.Name != "getattr" || !o.Reduce || o.State != nil {
		return Global{}, false
	}
	t, ok := o.Args.(Tuple)
	if !ok || len(t) != 2 {
		return Global{}, false
	}
	name, ok := t[1].(string)
	if !ok {
		return Global{}, false
	}
	switch p := t[0].(type) {
	case Global:
		return Global{p.Module, p.Name + "." + name}, true
	case *Object:
		if g, ok := getattrGlobal(p); ok {
			return Global{g.Module, g.Name + "." + name}, true
		}
	}
	return Global{}, false
}

// pytzInfo reads a pickled pytz time zone: pytz._UTC() or
// pytz._p(zone[, utcoffset, dst, tzname]) with offsets in seconds.
func pytzInfo(o *Object) (zone string, utcoffset, dst int64, tzname string, static, ok bool) {
	if o.Module != "pytz" || !o.Reduce {
		return
	}
	t, _ := o.Args.(Tuple)
	switch {
	case o.Name == "_UTC" && len(t) == 0:
		return "UTC", 0, 0, "UTC", true, true
	case o.Name == "_p" && len(t) == 1:
		zone, ok = t[0].(string)
		return zone, 0, 0, "", true, ok
	case o.Name == "_p" && len(t) == 4:
		var ok1, ok2, ok3, ok4 bool
		zone, ok1 = t[0].(string)
		utcoffset, ok2 = t[1].(int64)
		dst, ok3 = t[2].(int64)
		tzname, ok4 = t[3].(string)
		return zone, utcoffset, dst, tzname, false, ok1 && ok2 && ok3 && ok4
	}
	return
}

// pytzRepr is repr() of a pytz time zone.
func pytzRepr(o *Object) (string, bool) {
	if m, ok := pytzFixedOffset(o); ok {
		return "pytz.FixedOffset(" + strconv.FormatInt(m, 10) + ")", true
	}
	zone, off, dst, name, static, ok := pytzInfo(o)
	switch {
	case !ok:
		return "", false
	case o.Name == "_UTC":
		return "<UTC>", true
	case static:
		return "<StaticTzInfo " + keyfunc.PyRepr(zone) + ">", true
	}
	kind := "STD"
	if dst != 0 {
		kind = "DST"
	}
	sign := ""
	if off > 0 {
		sign = "+"
	}
	return "<DstTzInfo " + keyfunc.PyRepr(zone) + " " + name + sign + timedeltaStr(off) + " " + kind + ">", true
}

// timedeltaStr is str(timedelta(seconds=secs)): "2:00:00", "-1 day, 19:00:00".
func timedeltaStr(secs int64) string {
	days := floorDiv(secs, 86400)
	rest := secs - days*86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	switch {
	case days == 0:
		return hms
	case days == 1 || days == -1:
		return fmt.Sprintf("%d day, %s", days, hms)
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}
