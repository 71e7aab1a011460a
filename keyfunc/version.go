package keyfunc

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// djangoVersionRE accepts upstream versions ("3.2", "6.1.1", "5.0rc1",
// "5.1.dev20240101") and Debian package versions ("3:3.2.25-0+deb12u7").
// Patterns in this package are compiled on first use, not at process
// start: most commands never need them.
var djangoVersionRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[0-9]+:)?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:(?:a|b|rc)[0-9]+|\.dev[0-9]*)?(?:-([0-9A-Za-z.+~]+))?$`)
})

// debianSecurityRE finds the bookworm security-update counter of a Debian
// revision such as "0+deb12u7".
var debianSecurityRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\+deb12u([0-9]+)$`) })

// djangoVersion is a parsed Django version string.
type djangoVersion struct {
	major, minor, patch int
	debianRevision      string // "0+deb12u7" for "3:3.2.25-0+deb12u7", else ""
}

func (v djangoVersion) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

func parseDjangoVersion(s string) (djangoVersion, error) {
	m := djangoVersionRE().FindStringSubmatch(s)
	if m == nil {
		return djangoVersion{}, fmt.Errorf("invalid Django version %q (want e.g. 3.2, 6.1.1 or the Debian form 3:3.2.25-0+deb12u7)", s)
	}
	var v djangoVersion
	var err error
	if v.major, err = strconv.Atoi(m[1]); err == nil {
		if v.minor, err = strconv.Atoi(m[2]); err == nil && m[3] != "" {
			v.patch, err = strconv.Atoi(m[3])
		}
	}
	if err != nil {
		return djangoVersion{}, fmt.Errorf("invalid Django version %q: number out of range", s)
	}
	v.debianRevision = m[4]
	return v, nil
}

// ParseVersion returns the major and minor numbers of a Django version
// such as "3.2", "6.1.1", "5.0rc1" or the Debian package version
// "3:3.2.25-0+deb12u7".
func ParseVersion(v string) (major, minor int, err error) {
	dv, err := parseDjangoVersion(v)
	if err != nil {
		return 0, 0, err
	}
	return dv.major, dv.minor, nil
}
