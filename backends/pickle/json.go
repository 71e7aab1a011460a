package pickle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ToJSON turns v into a tree encoding/json can marshal. JSON's own types
// map directly; every other type is tagged {"$py": "<type>", ...} as
// docs/value-formats.md describes. Self-references become
// {"$py": "recursion"}.
func ToJSON(v Value) any {
	return toJSON(v, 0, map[any]bool{}, &renderBudget{nodes: maxRenderNodes, bytes: maxRenderBytes})
}

func tooLarge() map[string]any { return map[string]any{"$py": "too-large"} }

func tag(t string, value any) map[string]any { return map[string]any{"$py": t, "value": value} }

func toJSON(v Value, depth int, seen map[any]bool, budget *renderBudget) any {
	if !budget.node() || depth > DefaultLimits.MaxDepth {
		return tooLarge()
	}
	// Long text is charged by its length: one long str shared many times
	// must not make the output huge.
	switch x := goValue(v).(type) {
	case nil, None:
		return nil
	case bool:
		return x
	case string:
		if !budget.spend(len(x)) {
			return tooLarge()
		}
		return x
	case int64:
		return x
	case *big.Int:
		if !budget.spend(x.BitLen()/3 + 2) {
			return tooLarge()
		}
		return json.Number(x.String())
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return tag("float", FloatRepr(x))
		}
		// Python's json.dumps text: 3.0 stays a float, 1e+16 as repr writes it.
		return json.Number(FloatRepr(x))
	case []byte:
		if !budget.spend(base64.StdEncoding.EncodedLen(len(x))) {
			return tooLarge()
		}
		return tag("bytes", base64.StdEncoding.EncodeToString(x))
	case ByteArray:
		if !budget.spend(base64.StdEncoding.EncodedLen(len(x))) {
			return tooLarge()
		}
		return tag("bytearray", base64.StdEncoding.EncodeToString(x))
	case *List:
		if seen[x] {
			return map[string]any{"$py": "recursion"}
		}
		seen[x] = true
		defer delete(seen, x)
		return listJSON(x.Items, depth, seen, budget)
	case Tuple:
		return tag("tuple", listJSON(x, depth, seen, budget))
	case *Set:
		return tag("set", listJSON(x.Items, depth, seen, budget))
	case FrozenSet:
		return tag("frozenset", listJSON(x.Items, depth, seen, budget))
	case *Dict:
		if seen[x] {
			return map[string]any{"$py": "recursion"}
		}
		seen[x] = true
		defer delete(seen, x)
		allStr := true
		for _, it := range x.Items {
			if _, ok := it.Key.(string); !ok {
				allStr = false
				break
			}
		}
		if allStr && !hasKey(x, "$py") {
			m := newOrderedMap()
			for _, it := range x.Items {
				k := it.Key.(string)
				if !budget.spend(len(k)) {
					return tooLarge()
				}
				m.set(k, toJSON(it.Value, depth+1, seen, budget))
			}
			return m
		}
		pairs := make([]any, len(x.Items))
		for i, it := range x.Items {
			pairs[i] = []any{toJSON(it.Key, depth+1, seen, budget), toJSON(it.Value, depth+1, seen, budget)}
		}
		return map[string]any{"$py": "dict", "items": pairs}
	case DateTime:
		if z, ok := x.TZ.(ZoneInfo); ok && !budget.spend(len(z.Key)) {
			return tooLarge()
		}
		return timeTag("datetime.datetime", x.ISO(), x.TZ)
	case Date:
		return tag("datetime.date", fmt.Sprintf("%04d-%02d-%02d", x.Year, x.Month, x.Day))
	case Time:
		if z, ok := x.TZ.(ZoneInfo); ok && !budget.spend(len(z.Key)) {
			return tooLarge()
		}
		return timeTag("datetime.time", x.ISO(), x.TZ)
	case TimeDelta:
		return map[string]any{"$py": "datetime.timedelta", "days": x.Days, "seconds": x.Seconds, "microseconds": x.Microseconds}
	case Timezone, ZoneInfo:
		r := Repr(x)
		if !budget.spend(len(r)) {
			return tooLarge()
		}
		return tag("tzinfo", r)
	case Decimal:
		if !budget.spend(len(x.Text)) {
			return tooLarge()
		}
		return tag("decimal.Decimal", x.Text)
	case UUID:
		return tag("uuid.UUID", x.String())
	case Global:
		if !budget.spend(len(x.Module) + len(x.Name)) {
			return tooLarge()
		}
		return map[string]any{"$py": "global", "value": x.Module + "." + x.Name}
	case *Object:
		if !budget.spend(len(x.Module) + len(x.Name)) {
			return tooLarge()
		}
		if s, ok := AsString(x); ok {
			if !budget.spend(len(s)) {
				return tooLarge()
			}
			return s
		}
		if g, ok := getattrGlobal(x); ok {
			if !budget.spend(len(g.Module) + len(g.Name)) {
				return tooLarge()
			}
			return map[string]any{"$py": "global", "value": g.Module + "." + g.Name}
		}
		if s, ok := pytzRepr(x); ok {
			if !budget.spend(len(s)) {
				return tooLarge()
			}
			return tag("tzinfo", s)
		}
		if safe, ok := uuidSafety(x); ok {
			u, _ := AsUUID(x)
			m := tag("uuid.UUID", u.String())
			m["is_safe"] = toJSON(safe, depth+1, seen, budget)
			return m
		}
		if seen[x] {
			return map[string]any{"$py": "recursion"}
		}
		seen[x] = true
		defer delete(seen, x)
		if x.Class() == "django.http.response.HttpResponse" || strings.HasSuffix(x.Class(), "Response") {
			if r := responseJSON(x, depth, seen, budget); r != nil {
				return r
			}
		}
		m := map[string]any{"$py": x.Class()}
		if x.Args != nil {
			m["args"] = toJSON(x.Args, depth+1, seen, budget)
		}
		if x.Kwargs != nil {
			m["kwargs"] = toJSON(x.Kwargs, depth+1, seen, budget)
		}
		if x.State != nil {
			m["state"] = toJSON(x.State, depth+1, seen, budget)
		}
		if len(x.ListItems) > 0 {
			m["items"] = listJSON(x.ListItems, depth, seen, budget)
		}
		if len(x.DictItems) > 0 {
			m["dict_items"] = toJSON(&Dict{Items: x.DictItems}, depth+1, seen, budget)
		}
		return m
	}
	return map[string]any{"$py": fmt.Sprintf("%T", v)}
}

// timeTag is the tagged form of a datetime or time: isoformat(), plus
// "tz" with the key of a zoneinfo zone (which the offset cannot carry).
func timeTag(t, iso string, tz Value) map[string]any {
	m := tag(t, iso)
	if z, ok := tz.(ZoneInfo); ok {
		m["tz"] = z.Key
	}
	return m
}

func hasKey(d *Dict, k string) bool { _, ok := d.Get(k); return ok }

func listJSON(items []Value, depth int, seen map[any]bool, budget *renderBudget) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = toJSON(it, depth+1, seen, budget)
	}
	return out
}

// responseJSON shows a pickled HttpResponse as status, headers and body.
func responseJSON(o *Object, depth int, seen map[any]bool, budget *renderBudget) any {
	st, ok := o.State.(*Dict)
	if !ok {
		return nil
	}
	status := any(int64(200))
	if s, ok := st.Get("status_code"); ok {
		status = toJSON(s, depth+1, seen, budget)
	}
	headers := newOrderedMap()
	if h, ok := st.Get("headers"); ok {
		if ho, ok := h.(*Object); ok {
			if hs, ok := ho.State.(*Dict); ok {
				if store, ok := hs.Get("_store"); ok {
					if sd, ok := store.(*Dict); ok {
						for _, it := range sd.Items {
							if pair, ok := it.Value.(Tuple); ok && len(pair) == 2 {
								name, _ := AsString(pair[0])
								val, _ := AsString(pair[1])
								if !budget.spend(len(name) + len(val)) {
									return tooLarge()
								}
								headers.set(name, val)
							}
						}
					}
				}
			}
		}
	} else if h, ok := st.Get("_headers"); ok { // Django < 3.2
		if sd, ok := h.(*Dict); ok {
			for _, it := range sd.Items {
				if pair, ok := it.Value.(Tuple); ok && len(pair) == 2 {
					name, _ := AsString(pair[0])
					val, _ := AsString(pair[1])
					if !budget.spend(len(name) + len(val)) {
						return tooLarge()
					}
					headers.set(name, val)
				}
			}
		}
	}
	var body []byte
	if c, ok := st.Get("_container"); ok {
		if l, ok := c.(*List); ok {
			for _, chunk := range l.Items {
				if b, ok := chunk.([]byte); ok {
					if len(body)+len(b) > budget.bytes {
						return tooLarge()
					}
					body = append(body, b...)
				}
			}
		}
	}
	out := newOrderedMap()
	out.set("$py", o.Class())
	out.set("status", status)
	out.set("headers", headers)
	ct := strings.ToLower(fmt.Sprint(headers.get("Content-Type")))
	textual := strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") || strings.Contains(ct, "javascript")
	if !budget.spend(base64.StdEncoding.EncodedLen(len(body))) {
		return tooLarge()
	}
	if textual && isUTF8(body) {
		out.set("body", string(body))
	} else {
		out.set("body_base64", base64.StdEncoding.EncodeToString(body))
	}
	return out
}

func isUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "\x00bad") == string(b) }

// ISO is Python's isoformat(). The offset of a zoneinfo or pytz zone
// comes from the system's time zone database; without one it is left
// out.
func (x DateTime) ISO() string {
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", x.Year, x.Month, x.Day, x.Hour, x.Minute, x.Second)
	if x.Microsecond != 0 {
		s += fmt.Sprintf(".%06d", x.Microsecond)
	}
	if off, ok := utcOffset(x.TZ, &x); ok {
		s += OffsetISO(off)
	}
	return s
}

// ISO is Python's isoformat(). A time has an offset only with a fixed
// offset zone, as in Python.
func (x Time) ISO() string {
	s := fmt.Sprintf("%02d:%02d:%02d", x.Hour, x.Minute, x.Second)
	if x.Microsecond != 0 {
		s += fmt.Sprintf(".%06d", x.Microsecond)
	}
	if off, ok := utcOffset(x.TZ, nil); ok {
		s += OffsetISO(off)
	}
	return s
}

// UTCOffset is tz.utcoffset(dt) as a TimeDelta for the time zones a
// pickle holds (datetime.timezone, zoneinfo.ZoneInfo, pytz's); dt is nil
// for a time. False when Python's utcoffset() would be None or the zone
// is not one cachectl can compute.
func UTCOffset(tz Value, dt *DateTime) (TimeDelta, bool) { return utcOffset(tz, dt) }

// TimeOffsetIsNone reports a zone whose utcoffset(None) Python answers
// with None, so that a time carrying it counts as naive (is_aware() is
// false): a zoneinfo.ZoneInfo with transitions (Europe/Paris; not UTC)
// and pytz's DST-aware zones, which need a date.
func TimeOffsetIsNone(tz Value) bool {
	if _, ok := utcOffset(tz, nil); ok {
		return false
	}
	// No offset for a time: None, for the zones that answer so; a zone
	// cachectl does not know (or a StaticTzInfo missing from the system's
	// database, whose utcoffset is never None) is not one.
	switch z := tz.(type) {
	case ZoneInfo:
		return true
	case *Object:
		_, _, _, _, static, ok := pytzInfo(z)
		return ok && !static
	}
	return false
}

// utcOffset is tz.utcoffset(dt) as a TimeDelta; dt is nil for a time.
func utcOffset(tz Value, dt *DateTime) (TimeDelta, bool) {
	switch z := tz.(type) {
	case Timezone:
		return z.Offset, true
	case ZoneInfo:
		if dt != nil {
			return zoneOffset(z.Key, dt)
		}
		// utcoffset(None): the offset of a zone that never changes it
		// (UTC, Etc/GMT+5), None for one with transitions.
		return fixedZoneOffset(z.Key)
	case *Object:
		if minutes, ok := pytzFixedOffset(z); ok {
			td, _ := normTimeDelta(0, minutes*60, 0)
			return td, true
		}
		zone, off, _, _, static, ok := pytzInfo(z)
		switch {
		case !ok:
		case z.Name == "_UTC":
			return TimeDelta{}, true
		case !static:
			// A localized DstTzInfo answers its own offset for a datetime
			// it is attached to, and None for a time (utcoffset(None)).
			if dt != nil {
				td, _ := normTimeDelta(0, off, 0)
				return td, true
			}
		default:
			// A StaticTzInfo has one offset, for times too: any wall
			// time of the zone gives it.
			at := DateTime{Year: 2000, Month: 1, Day: 1}
			if dt != nil {
				at = *dt
			}
			return zoneOffset(zone, &at)
		}
	}
	return TimeDelta{}, false
}

// pytzFixedOffset reads pytz.FixedOffset(minutes) as pickled.
func pytzFixedOffset(o *Object) (int64, bool) {
	if o.Module != "pytz" || o.Name != "FixedOffset" || !o.Reduce {
		return 0, false
	}
	t, _ := o.Args.(Tuple)
	if len(t) != 1 {
		return 0, false
	}
	m, ok := t[0].(int64)
	return m, ok && -1440 < m && m < 1440
}

// zoneOffset looks the zone up in the system's time zone database.
func zoneOffset(key string, dt *DateTime) (TimeDelta, bool) {
	td, err := ZoneOffset(key, *dt)
	return td, err == nil
}

// ZoneOffset is ZoneInfo(key).utcoffset(dt) for a naive wall time dt,
// read from the system's time zone database. Like zoneinfo (PEP 495), a
// wall time that a transition repeats (clocks set back) has the offset
// from before the transition when dt.Fold is 0 and the one after when
// it is 1; a wall time that a transition skips (clocks set forward) has
// the offset from before with fold 0 and after with fold 1.
func ZoneOffset(key string, dt DateTime) (TimeDelta, error) {
	loc, err := loadZone(key)
	if err != nil {
		return TimeDelta{}, err
	}
	// The wall time as seconds, and the transitions within two days of it
	// (no offset is a day or more away from UTC).
	wall := time.Date(dt.Year, time.Month(dt.Month), dt.Day, dt.Hour, dt.Minute, dt.Second, 0, time.UTC).Unix()
	at := time.Unix(wall-2*86400, 0).In(loc)
	_, off := at.Zone()
	for {
		_, end := at.ZoneBounds()
		if end.IsZero() || end.Unix() > wall+2*86400 {
			break
		}
		next := end.In(loc)
		_, after := next.Zone()
		// The wall clock reads the transition at end+before and at
		// end+after; fold 0 takes the later of the two, fold 1 the earlier.
		switchAt := end.Unix() + int64(max(off, after))
		if dt.Fold == 1 {
			switchAt = end.Unix() + int64(min(off, after))
		}
		if wall < switchAt {
			break
		}
		off, at = after, next
	}
	td, _ := normTimeDelta(0, int64(off), 0)
	return td, nil
}

// zones caches time.LoadLocation per key: a value can hold many datetimes
// of one zone, and each lookup would read and parse its file again.
var zones sync.Map // key -> zoneResult

type zoneResult struct {
	loc *time.Location
	err error
}

// fixedZoneOffset is the offset of a zone with no transitions, which
// zoneinfo gives for utcoffset(None).
func fixedZoneOffset(key string) (TimeDelta, bool) {
	loc, err := loadZone(key)
	if err != nil {
		return TimeDelta{}, false
	}
	// A zone with no transitions has one zone period, unbounded both ways.
	at := time.Date(2000, 1, 1, 0, 0, 0, 0, loc)
	if start, end := at.ZoneBounds(); !start.IsZero() || !end.IsZero() {
		return TimeDelta{}, false
	}
	_, off := at.Zone()
	td, _ := normTimeDelta(0, int64(off), 0)
	return td, true
}

func loadZone(key string) (*time.Location, error) {
	if r, ok := zones.Load(key); ok {
		return r.(zoneResult).loc, r.(zoneResult).err
	}
	loc, err := time.LoadLocation(key)
	zones.Store(key, zoneResult{loc, err})
	return loc, err
}

// OffsetISO formats a UTC offset as isoformat() does: +HH:MM, with
// :SS and .ffffff only when not zero.
func OffsetISO(off TimeDelta) string {
	us := (off.Days*86400+off.Seconds)*1_000_000 + off.Microseconds
	sign := "+"
	if us < 0 {
		sign, us = "-", -us
	}
	secs := us / 1_000_000
	s := fmt.Sprintf("%s%02d:%02d", sign, secs/3600, secs%3600/60)
	if secs%60 != 0 || us%1_000_000 != 0 {
		s += fmt.Sprintf(":%02d", secs%60)
	}
	if us%1_000_000 != 0 {
		s += fmt.Sprintf(".%06d", us%1_000_000)
	}
	return s
}

// orderedMap marshals its keys in insertion order.
type orderedMap struct {
	keys []string
	vals map[string]any
}

func newOrderedMap() *orderedMap { return &orderedMap{vals: map[string]any{}} }

func (m *orderedMap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *orderedMap) get(k string) any { return m.vals[k] }

// MarshalJSON writes the members in insertion order.
func (m *orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.vals[k]); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// FromJSON builds a Python value from JSON: objects become dicts (order
// kept), arrays lists, integers int, other numbers float. The tagged forms
// of ToJSON for bytes, bytearray, tuple, set, frozenset, dict with
// non-str keys, datetime, date, time, timedelta, Decimal and UUID are
// understood.
// PlainJSONString returns the text of t when t is a JSON string without
// escapes or control characters holding valid UTF-8 — the text then is
// exactly what encoding/json (and json.loads) would decode. Anything else
// reports false.
func PlainJSONString(t []byte) ([]byte, bool) {
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return nil, false
	}
	body := t[1 : len(t)-1]
	ascii := true
	for _, c := range body {
		if c < 0x20 || c == '"' || c == '\\' {
			return nil, false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(body) {
		return nil, false
	}
	return body, true
}

// TrimJSONSpace cuts what JSON counts as whitespace (space, tab, CR, LF;
// not bytes.TrimSpace's wider set, which json.loads would refuse) from
// both ends of b.
func TrimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func FromJSON(data []byte) (Value, error) {
	t := TrimJSONSpace(data)
	// The str a bulk load is made of first: valid UTF-8 without escapes,
	// which leaves checkJSONText nothing to refuse.
	if s, ok := PlainJSONString(t); ok {
		return string(s), nil
	}
	if err := checkJSONText(data); err != nil {
		return nil, err
	}
	// Fast paths for the other scalars.
	if len(t) > 0 {
		switch {
		case t[0] == '"':
			var s string
			if json.Unmarshal(t, &s) == nil {
				return s, nil
			}
		case (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) && !leadingZero(t):
			if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
				return n, nil
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := fromTokens(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid JSON: trailing data")
	}
	return v, nil
}

func fromTokens(dec *json.Decoder, depth int) (Value, error) {
	if depth > DefaultLimits.MaxDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d", DefaultLimits.MaxDepth)
	}
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	switch x := t.(type) {
	case nil:
		return None{}, nil
	case bool, string:
		return x, nil
	case json.Number:
		return number(string(x))
	case json.Delim:
		switch x {
		case '[':
			l := &List{}
			for dec.More() {
				v, err := fromTokens(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l.Items = append(l.Items, v)
			}
			if err := closing(dec, ']'); err != nil {
				return nil, err
			}
			return l, nil
		case '{':
			d := &Dict{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %v", err)
				}
				k, _ := kt.(string)
				v, err := fromTokens(dec, depth+1)
				if err != nil {
					return nil, err
				}
				d.set(k, v) // a repeated key keeps its place and takes the last value
			}
			if err := closing(dec, '}'); err != nil {
				return nil, err
			}
			if t, ok := d.Get("$py"); ok {
				if ts, ok := t.(string); ok {
					return untag(ts, d)
				}
			}
			return d, nil
		}
	}
	return nil, fmt.Errorf("invalid JSON token %v", t)
}

// checkJSONText refuses what encoding/json would silently turn into
// U+FFFD: bytes that are not UTF-8 (json.loads of bytes refuses them too)
// and \u escapes of lone surrogates, which a Python str can hold but
// cachectl's cannot.
func checkJSONText(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("invalid JSON: the text is not UTF-8")
	}
	inStr := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			inStr = !inStr
		case c == '\\' && inStr && i+1 < len(data):
			i++
			if data[i] != 'u' {
				continue
			}
			r, ok := hex4(data[i+1:])
			if !ok {
				continue // encoding/json reports the bad escape
			}
			i += 4
			switch {
			case r >= 0xdc00 && r <= 0xdfff:
				return fmt.Errorf("invalid JSON: lone surrogate \\u%04x in a string (cachectl cannot store it)", r)
			case r >= 0xd800 && r <= 0xdbff:
				if i+6 < len(data) && data[i+1] == '\\' && data[i+2] == 'u' {
					if lo, ok := hex4(data[i+3:]); ok && lo >= 0xdc00 && lo <= 0xdfff {
						i += 6
						continue
					}
				}
				return fmt.Errorf("invalid JSON: lone surrogate \\u%04x in a string (cachectl cannot store it)", r)
			}
		}
	}
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

// closing reads the delimiter that ends an array or object: input that
// stops before it is truncated, not a shorter value.
func closing(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("invalid JSON: unexpected end of input (missing %q)", string(want))
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if t != want {
		return fmt.Errorf("invalid JSON: %v where %q was expected", t, string(want))
	}
	return nil
}

// leadingZero spots numbers JSON forbids but strconv accepts (01, -01).
func leadingZero(t []byte) bool {
	t = bytes.TrimPrefix(t, []byte("-"))
	return len(t) > 1 && t[0] == '0' && t[1] >= '0' && t[1] <= '9'
}

// number reads a JSON number as json.loads does: integers of any size
// (up to CPython's 4300 digits) as int, others as float, overflowing to
// inf.
func number(s string) (Value, error) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		v, ok, tooLong := parsePyInt(s)
		if tooLong {
			return nil, fmt.Errorf("integer of more than %d digits", maxTextIntDigits)
		}
		if ok {
			return v, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("invalid number %s", s)
	}
	return f, nil
}

// tagMembers are the members tagged type t reads, beside "$py"; the first
// required of them must be there (ok is false for a type untag does not
// know). A member of another name (a typo, "valu" or "hours") is an error
// rather than dropped: a value would otherwise be stored as b” or
// timedelta(0) without a word. (A switch: nothing is built at start-up.)
func tagMembers(t string) (names []string, required int, ok bool) {
	switch t {
	case "bytes", "bytearray", "tuple", "set", "frozenset", "float", "datetime.date", "decimal.Decimal":
		return []string{"value"}, 1, true
	case "dict":
		return []string{"items"}, 1, true
	case "datetime.datetime", "datetime.time":
		return []string{"value", "tz"}, 1, true
	case "datetime.timedelta":
		return []string{"days", "seconds", "microseconds"}, 0, true
	case "uuid.UUID":
		return []string{"value", "is_safe"}, 1, true
	}
	return nil, 0, false
}

func checkTagMembers(t string, d *Dict) error {
	names, required, ok := tagMembers(t)
	if !ok {
		return nil // an unknown type: untag says so
	}
	for _, it := range d.Items {
		k, _ := it.Key.(string)
		if k != "$py" && !slices.Contains(names, k) {
			return fmt.Errorf("%s: unknown member %q (it reads %q)", t, k, names)
		}
	}
	for _, k := range names[:required] {
		if _, ok := d.Get(k); !ok {
			return fmt.Errorf("%s: %q is missing", t, k)
		}
	}
	return nil
}

func untag(t string, d *Dict) (Value, error) {
	if err := checkTagMembers(t, d); err != nil {
		return nil, err
	}
	val, _ := d.Get("value")
	str, _ := val.(string)
	list := func() ([]Value, error) {
		if l, ok := val.(*List); ok {
			return l.Items, nil
		}
		return nil, fmt.Errorf(`%s: "value" must be a list`, t)
	}
	switch t {
	case "bytes", "bytearray":
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("%s: value is not base64: %v", t, err)
		}
		if t == "bytearray" {
			return ByteArray(b), nil
		}
		return b, nil
	case "tuple":
		items, err := list()
		return Tuple(items), err
	case "set", "frozenset":
		items, err := list()
		if err != nil {
			return nil, err
		}
		if items, err = hashables(items); err != nil {
			return nil, fmt.Errorf("%s: %v", t, err)
		}
		items = distinct(items)
		if t == "set" {
			return &Set{Items: items}, nil
		}
		return FrozenSet{Items: items}, nil
	case "float":
		switch n := val.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case string:
		default:
			return nil, fmt.Errorf(`float: "value" must be a number or a string such as "1.5", "inf" or "nan"`)
		}
		f, err := ParsePyFloat(str)
		if err != nil {
			return nil, fmt.Errorf(`float: "value" %q is not a float (such as "1.5", "inf" or "nan")`, str)
		}
		return f, nil
	case "dict":
		items, _ := d.Get("items")
		l, ok := items.(*List)
		if !ok {
			return nil, fmt.Errorf(`dict: "items" must be a list of pairs`)
		}
		out := &Dict{}
		for _, p := range l.Items {
			pl, ok := p.(*List)
			if !ok || len(pl.Items) != 2 {
				return nil, fmt.Errorf("dict: each item must be a [key, value] pair")
			}
			k, err := hashable(pl.Items[0])
			if err != nil {
				return nil, fmt.Errorf("dict: %v", err)
			}
			out.set(k, pl.Items[1])
		}
		return out, nil
	case "datetime.datetime":
		if len(str) < 10 {
			return nil, fmt.Errorf("datetime.datetime: cannot parse %q", str)
		}
		dt := DateTime{}
		var err error
		if dt.Year, dt.Month, dt.Day, err = parseISODate(str[:10]); err == nil && len(str) > 10 {
			var tm Time
			tm, err = parseISOTime(str[11:])
			dt.Hour, dt.Minute, dt.Second, dt.Microsecond, dt.TZ = tm.Hour, tm.Minute, tm.Second, tm.Microsecond, tm.TZ
		}
		if err != nil {
			return nil, fmt.Errorf("datetime.datetime: cannot parse %q: %v", str, err)
		}
		if err := tzMember(d, &dt.TZ, &dt); err != nil {
			return nil, fmt.Errorf("datetime.datetime: %v", err)
		}
		return dt, nil
	case "datetime.date":
		var dt Date
		var err error
		if dt.Year, dt.Month, dt.Day, err = parseISODate(str); err != nil {
			return nil, fmt.Errorf("datetime.date: cannot parse %q: %v", str, err)
		}
		return dt, nil
	case "datetime.time":
		tm, err := parseISOTime(str)
		if err != nil {
			return nil, fmt.Errorf("datetime.time: cannot parse %q: %v", str, err)
		}
		if err := tzMember(d, &tm.TZ, nil); err != nil {
			return nil, fmt.Errorf("datetime.time: %v", err)
		}
		return tm, nil
	case "datetime.timedelta":
		days, _ := d.Get("days")
		secs, _ := d.Get("seconds")
		us, _ := d.Get("microseconds")
		td, err := timeDeltaOf(days, secs, us)
		if err != nil {
			return nil, fmt.Errorf("datetime.timedelta: %v", err)
		}
		return td, nil
	case "decimal.Decimal":
		if _, ok := val.(string); !ok {
			return nil, fmt.Errorf(`decimal.Decimal: "value" must be a string such as "9.99"`)
		}
		text, err := decimalText(str)
		if err != nil {
			return nil, fmt.Errorf("decimal.Decimal: %v", err)
		}
		return Decimal{Text: text}, nil
	case "uuid.UUID":
		u, err := uuidText(str)
		if err != nil {
			return nil, err
		}
		safe, ok := d.Get("is_safe")
		if !ok {
			return u, nil
		}
		switch s := safe.(type) {
		case None: // SafeUUID.unknown, which CPython does not pickle
			return u, nil
		case int64:
			if s != 0 && s != -1 {
				return nil, fmt.Errorf(`uuid.UUID: "is_safe" must be 0 (safe), -1 (unsafe) or null (unknown)`)
			}
		default:
			return nil, fmt.Errorf(`uuid.UUID: "is_safe" must be 0 (safe), -1 (unsafe) or null (unknown)`)
		}
		n := normBig(new(big.Int).SetBytes(u[:]))
		return &Object{Module: "uuid", Name: "UUID", Args: Tuple{},
			State: &Dict{Items: []DictItem{{Key: "int", Value: n}, {Key: "is_safe", Value: safe}}}}, nil
	}
	return nil, fmt.Errorf("unknown tagged type %q (see docs/value-formats.md)", t)
}

// uuidText reads a UUID's 8-4-4-4-12 hex form (or 32 hex digits).
func uuidText(str string) (UUID, error) {
	h := strings.ReplaceAll(str, "-", "")
	var u UUID
	if len(h) != 32 {
		return UUID{}, fmt.Errorf("uuid.UUID: bad value %q", str)
	}
	for i := 0; i < 16; i++ {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return UUID{}, fmt.Errorf("uuid.UUID: bad value %q", str)
		}
		u[i] = byte(n)
	}
	return u, nil
}

// hashable turns JSON lists used as dict keys or set items into tuples,
// as Python needs; dicts and sets cannot be keys.
func hashable(v Value) (Value, error) {
	switch x := v.(type) {
	case *List:
		t := make(Tuple, len(x.Items))
		for i, it := range x.Items {
			h, err := hashable(it)
			if err != nil {
				return nil, err
			}
			t[i] = h
		}
		return t, nil
	case Tuple:
		return hashable(&List{Items: x})
	case *Dict, *Set, ByteArray:
		return nil, fmt.Errorf("a %s cannot be a dict key or set item", TypeName(v))
	}
	return v, nil
}

// distinct drops repeated items (of the kinds hashKey compares), as a
// Python set does.
func distinct(items []Value) []Value {
	seen := map[any]bool{}
	out := items[:0:0]
	for _, it := range items {
		if k, ok := hashKey(it); ok {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, it)
	}
	return out
}

func hashables(items []Value) ([]Value, error) {
	out := make([]Value, len(items))
	for i, it := range items {
		h, err := hashable(it)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// tzMember applies the optional "tz" member (a zoneinfo key). An offset
// written in "value" must be one the zone has at that wall time: it picks
// the fold of a repeated or skipped time (fold 1 for the offset after the
// transition). A time has no offset in a zoneinfo zone (Python's
// utcoffset() of it is None), so it takes none.
func tzMember(d *Dict, tz *Value, dt *DateTime) error {
	v, ok := d.Get("tz")
	if !ok {
		return nil
	}
	key, ok := v.(string)
	if !ok || key == "" {
		return fmt.Errorf(`"tz" must be a zoneinfo key such as "Europe/Paris"`)
	}
	if err := checkZoneKey(key); err != nil {
		return fmt.Errorf(`"tz": %v`, err)
	}
	given, hasOffset := (*tz).(Timezone)
	zi := ZoneInfo{Key: key}
	switch {
	case hasOffset && dt == nil:
		return fmt.Errorf(`a time in a zoneinfo zone has no UTC offset: write it without %s or without "tz"`, OffsetISO(given.Offset))
	case hasOffset:
		found := false
		for _, fold := range []int{0, 1} {
			at := *dt
			at.Fold, at.TZ = fold, nil
			off, err := ZoneOffset(key, at)
			if err != nil {
				return fmt.Errorf(`"tz": %v`, err)
			}
			if off == given.Offset {
				dt.Fold, found = fold, true
				break
			}
		}
		if !found {
			at := *dt
			at.Fold = 0
			off, _ := ZoneOffset(key, at)
			return fmt.Errorf("offset %s disagrees with %s, which has %s then", OffsetISO(given.Offset), key, OffsetISO(off))
		}
	}
	*tz = zi
	return nil
}

// parseISODate reads YYYY-MM-DD.
func parseISODate(s string) (y, m, d int, err error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, fmt.Errorf("want YYYY-MM-DD")
	}
	y, err1 := digits(s[0:4])
	m, err2 := digits(s[5:7])
	d, err3 := digits(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, fmt.Errorf("want YYYY-MM-DD")
	}
	if checkDateTime(y, m, d, 0, 0, 0, 0) != nil || d > daysIn(y, m) {
		return 0, 0, 0, fmt.Errorf("date out of range")
	}
	return y, m, d, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseISOTime reads HH[:MM[:SS[.ffffff]]] with an optional Z or ±HH:MM
// offset, as isoformat() writes it.
func parseISOTime(s string) (Time, error) {
	var tm Time
	clock, off := s, ""
	if i := strings.IndexAny(s, "Z+-"); i >= 0 {
		clock, off = s[:i], s[i:]
	}
	h, m, sec, us, err := parseClock(clock)
	if err != nil {
		return tm, err
	}
	tm.Hour, tm.Minute, tm.Second, tm.Microsecond = h, m, sec, us
	switch {
	case off == "":
	case off == "Z":
		tm.TZ = Timezone{}
	default:
		oh, om, os, ous, err := parseClock(strings.ReplaceAll(off[1:], ":", ""))
		if err != nil || oh > 23 {
			return tm, fmt.Errorf("bad UTC offset %q", off)
		}
		us := ((int64(oh)*60+int64(om))*60+int64(os))*1_000_000 + int64(ous)
		if off[0] == '-' {
			us = -us
		}
		td, _ := normTimeDelta(0, 0, us)
		tm.TZ = Timezone{Offset: td}
	}
	return tm, nil
}

// parseClock reads HH, HHMM, HHMMSS, HH:MM, HH:MM:SS with an optional
// fraction of up to six digits.
func parseClock(s string) (h, m, sec, us int, err error) {
	bad := fmt.Errorf("bad time %q", s)
	frac := ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if frac == "" || len(frac) > 6 {
			return 0, 0, 0, 0, bad
		}
		if us, err = digits(frac + strings.Repeat("0", 6-len(frac))); err != nil {
			return 0, 0, 0, 0, bad
		}
	}
	s = strings.ReplaceAll(s, ":", "")
	if len(s) != 2 && len(s) != 4 && len(s) != 6 {
		return 0, 0, 0, 0, bad
	}
	parts := []*int{&h, &m, &sec}
	for i := 0; i < len(s); i += 2 {
		if *parts[i/2], err = digits(s[i : i+2]); err != nil {
			return 0, 0, 0, 0, bad
		}
	}
	if frac != "" && len(s) != 6 {
		return 0, 0, 0, 0, bad
	}
	if checkDateTime(1, 1, 1, h, m, sec, us) != nil {
		return 0, 0, 0, 0, fmt.Errorf("time out of range")
	}
	return h, m, sec, us, nil
}

func digits(s string) (int, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(s[i]-'0')
	}
	if s == "" {
		return 0, fmt.Errorf("not a number")
	}
	return n, nil
}
