package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
)

// Every request writes an access log line, and slog.JSONHandler spends
// about a microsecond on one (a float goes through encoding/json's
// reflection). handler writes the same bytes itself for the lines made
// only of what a request line holds — plain strings (printable ASCII
// without quotes or backslashes), integers, booleans and ordinary floats,
// no groups — and hands every other line to a slog.JSONHandler on the same
// writer, under the same lock. TestHandlerWritesWhatJSONHandlerWrites and
// FuzzHandlerMatchesJSONHandler hold the two to the same output.

// handler is the platform's slog.Handler (New).
type handler struct {
	w     *lockedWriter
	level slog.Leveler
	// pre are the WithAttrs attributes as written (`,"k":v` each).
	pre []byte
	// fast is false once a group, or an attribute the fast path does not
	// write, was added: every line then goes to slow.
	fast bool
	slow slog.Handler
}

// lockedWriter makes one writer of w for both paths: a line is one Write.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newHandler(w io.Writer, level slog.Leveler) *handler {
	lw := &lockedWriter{w: w}
	return &handler{w: lw, level: level, fast: true, slow: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level})}
}

// lines are the buffers lines are written into.
var lines = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if !h.fast {
		return h.slow.Handle(ctx, r)
	}
	buf := lines.Get().(*[]byte)
	b, ok := h.appendRecord((*buf)[:0], r)
	var err error
	if ok {
		_, err = h.w.Write(b)
	}
	if cap(b) <= 16<<10 {
		*buf = b
		lines.Put(buf)
	}
	if !ok {
		return h.slow.Handle(ctx, r)
	}
	return err
}

// appendRecord appends r as slog.JSONHandler writes it, or reports that
// it cannot.
func (h *handler) appendRecord(b []byte, r slog.Record) ([]byte, bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b, ok := appendPlain(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b, ok2 := appendPlain(b, r.Message)
	if !ok || !ok2 {
		return b, false
	}
	b = append(b, h.pre...)
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	return append(b, "}\n"...), ok
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	n := &handler{w: h.w, level: h.level, fast: h.fast, slow: h.slow.WithAttrs(as)}
	if n.fast {
		n.pre = append([]byte(nil), h.pre...)
		for _, a := range as {
			if n.pre, n.fast = appendAttr(n.pre, a); !n.fast {
				break
			}
		}
	}
	return n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{w: h.w, level: h.level, slow: h.slow.WithGroup(name)}
}

// appendAttr appends `,"key":value`, or reports that the fast path does
// not write a of this kind or with this text.
func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return b, false
	}
	b = append(b, ',')
	b, ok := appendPlain(b, a.Key)
	if !ok {
		return b, false
	}
	b = append(b, ':')
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		return appendPlain(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindFloat64:
		// encoding/json's form (which slog uses) where it is strconv's
		// 'f' form; exponents, infinities and NaN go the slow way.
		f := v.Float64()
		if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) || math.IsNaN(f) {
			return b, false
		}
		return strconv.AppendFloat(b, f, 'f', -1, 64), true
	}
	return b, false
}

// appendPlain appends s quoted when JSON needs no escape in it (printable
// ASCII other than '"' and '\'), and reports whether it did.
func appendPlain(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
