package pickle

import (
	"sync"
	"sync/atomic"
)

// Refs is what the pickles decoded during a Trace referenced, whether the
// result keeps it or not: Python's unpickler imports every class or
// function a pickle names and runs every call as it reads the opcodes, so
// a call whose result is popped, memoized, overwritten or left behind a
// truncated stream has run all the same. Globals are the names (GLOBAL,
// STACK_GLOBAL, INST) as Python would import them; Computed counts the
// calls whose callable the pickle computed itself (a REDUCE or OBJ of
// something other than a class or function name).
type Refs struct {
	mu       sync.Mutex
	Globals  []Global
	Computed int
}

var (
	traceMu sync.Mutex           // one Trace at a time
	tracing atomic.Pointer[Refs] // the running Trace's Refs, nil when none
)

// Trace runs fn and returns what every pickle whose decode started
// meanwhile (on any goroutine) referenced, a decode that failed part-way
// included. Traces run one at a time.
func Trace(fn func()) *Refs {
	traceMu.Lock()
	defer traceMu.Unlock()
	r := &Refs{}
	tracing.Store(r)
	defer tracing.Store(nil)
	fn()
	return r
}

// addGlobal records g; a nil Refs (no Trace running) records nothing.
func (r *Refs) addGlobal(g Global) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if len(r.Globals) < 10_000 {
		r.Globals = append(r.Globals, g)
	}
	r.mu.Unlock()
}

// addComputed counts a call of a computed callable.
func (r *Refs) addComputed() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.Computed++
	r.mu.Unlock()
}
