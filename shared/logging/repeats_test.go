package logging

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A burst of one kind, taken at once from many goroutines, writes one
// line; the first of that kind after the interval writes the count of the
// rest; other kinds are counted apart.
func TestRepeatsBurst(t *testing.T) {
	r := NewRepeats(10 * time.Second)
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	const n = 200
	var written, held atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := "unavailable"
			if i%2 == 1 {
				kind = "internal"
			}
			if w, h := r.Take(kind, start); w {
				written.Add(1)
				held.Add(int64(h))
			}
		}()
	}
	wg.Wait()
	if written.Load() != 2 || held.Load() != 0 {
		t.Fatalf("a burst of two kinds wrote %d lines (holding back %d before them), want one per kind", written.Load(), held.Load())
	}
	if w, _ := r.Take("unavailable", start.Add(9*time.Second)); w {
		t.Error("a line within the interval was written")
	}
	w, h := r.Take("unavailable", start.Add(10*time.Second))
	if !w || h != n/2 {
		t.Errorf("after the interval: write %v with %d held back, want true with %d (the burst's %d less the first, and one since)", w, h, n/2, n/2)
	}
	if w, h := r.Take("unavailable", start.Add(25*time.Second)); !w || h != 0 {
		t.Errorf("a lone line after a quiet interval: write %v, held %d; want written, nothing held", w, h)
	}
	if w, h := r.Take("internal", start.Add(time.Minute)); !w || h != n/2-1 {
		t.Errorf("the other kind: write %v, held %d; want written with %d", w, h, n/2-1)
	}
}
