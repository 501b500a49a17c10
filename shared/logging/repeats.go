package logging

import (
	"sync"
	"time"
)

// Repeats holds back log lines that repeat: of each kind, the first line
// is written at once, the next ones within the interval are only counted,
// and the first one after it is written with that count. An outage that
// fails every request then costs a line per kind and interval, not one
// per request. A count is written when its kind comes up again, so no
// goroutine runs (a Lambda instance is frozen between invocations); a
// count whose kind never comes up again is not written. Safe for
// concurrent use.
type Repeats struct {
	interval time.Duration
	mu       sync.Mutex
	kinds    map[string]*repeat
}

type repeat struct {
	written time.Time // when the last line of the kind was written
	held    int       // lines held back since
}

// NewRepeats returns a Repeats writing a kind's line at most once per
// interval.
func NewRepeats(interval time.Duration) *Repeats {
	return &Repeats{interval: interval, kinds: map[string]*repeat{}}
}

// Take counts one line of kind at now and reports whether to write it,
// and how many lines of kind were held back since the last one written.
func (r *Repeats) Take(kind string, now time.Time) (write bool, held int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[kind]
	if !ok {
		r.kinds[kind] = &repeat{written: now}
		return true, 0
	}
	if now.Sub(k.written) < r.interval {
		k.held++
		return false, 0
	}
	held = k.held
	k.written, k.held = now, 0
	return true, held
}
