package backends

import "strings"

// MatchGlob reports whether name matches a shell-style glob: * (any run,
// "/" included), ? (one character), [abc], [a-z], [^a] or [!a], and \
// escaping the next character. Redis' SCAN MATCH reads the same, but for
// [!a] (RedisGlob writes it as [^a]).
func MatchGlob(glob, name string) bool {
	return matchGlob([]rune(glob), []rune(name))
}

func matchGlob(p, s []rune) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if matchGlob(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			i := 1
			neg := false
			if i < len(p) && (p[i] == '^' || p[i] == '!') {
				neg, i = true, i+1
			}
			matched := false
			for ; i < len(p) && p[i] != ']'; i++ {
				if p[i] == '\\' && i+1 < len(p) {
					i++
				}
				if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
					if s[0] >= p[i] && s[0] <= p[i+2] {
						matched = true
					}
					i += 2
				} else if p[i] == s[0] {
					matched = true
				}
			}
			if i >= len(p) { // no closing bracket: literal '['
				if s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				continue
			}
			if matched == neg {
				return false
			}
			p, s = p[i+1:], s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return len(s) == 0
}

// RedisGlob is glob, as MatchGlob reads it, in the form SCAN MATCH reads: Redis negates a class with
// "[^" only, and takes the shell's "[!" as a class holding "!", so a
// delete-pattern 'a[!_]b' would have removed the very keys it meant to
// keep. Escapes (\x) are passed through untouched.
func RedisGlob(glob string) string {
	if !strings.Contains(glob, "[!") {
		return glob
	}
	b := []byte(glob)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // the next byte is literal
		case '[':
			j := i + 1
			if j < len(b) && b[j] == '!' {
				b[j] = '^'
			}
			if j < len(b) && b[j] == '^' {
				j++
			}
			// Skip to the class's end, as Redis reads it: a "[!" inside
			// the class is literal text.
			for ; j < len(b) && b[j] != ']'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			i = j
		}
	}
	return string(b)
}
