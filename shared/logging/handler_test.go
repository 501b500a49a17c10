package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// both logs the same record through New's handler and through a plain
// slog.JSONHandler and returns the two outputs.
func both(t *testing.T, build func(*slog.Logger) *slog.Logger, r slog.Record) (got, want string) {
	t.Helper()
	var g, w bytes.Buffer
	ours := build(New(&g, slog.LevelDebug))
	std := build(slog.New(slog.NewJSONHandler(&w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := ours.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if err := std.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return g.String(), w.String()
}

func record(t time.Time, level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

func plainLogger(l *slog.Logger) *slog.Logger { return l }

// TestHandlerWritesWhatJSONHandlerWrites: every line, on the fast path or
// not, is byte for byte slog.JSONHandler's.
func TestHandlerWritesWhatJSONHandlerWrites(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 0, 0, 123456789, time.UTC)
	access := []slog.Attr{slog.String("request_id", "0123456789abcdef0123456789abcdef"), slog.String("method", "GET"),
		slog.String("route", "GET /v1/{realm}/session"), slog.Int("status", 200), slog.Float64("duration_ms", 0.012), slog.String("ip", "127.0.0.1")}
	withFunction := func(l *slog.Logger) *slog.Logger { return l.With("function", "session") }
	for _, c := range []struct {
		name  string
		build func(*slog.Logger) *slog.Logger
		r     slog.Record
	}{
		{"the access log line", plainLogger, record(at, slog.LevelInfo, "request", access...)},
		{"on Lambda (With function)", withFunction, record(at, slog.LevelInfo, "request", access...)},
		{"no time", plainLogger, record(time.Time{}, slog.LevelInfo, "request", access...)},
		{"a zone", plainLogger, record(at.In(time.FixedZone("PHT", 8*3600)), slog.LevelWarn, "m")},
		{"a year past 9999", plainLogger, record(at.AddDate(8000, 0, 0), slog.LevelInfo, "m")},
		{"error level, no attributes", plainLogger, record(at, slog.LevelError, "request failed")},
		{"a level between", plainLogger, record(at, slog.LevelInfo+2, "m")},
		{"escapes in a value", plainLogger, record(at, slog.LevelError, "request failed", slog.String("error", "store: \"x\"\n\t<&> é \xff \u2028"))},
		{"escapes in the message", plainLogger, record(at, slog.LevelInfo, "line\nbreak")},
		{"escapes in a key", plainLogger, record(at, slog.LevelInfo, "m", slog.Int("a\"b", 1))},
		{"an empty key", plainLogger, record(at, slog.LevelInfo, "m", slog.Int("", 1), slog.Attr{})},
		{"booleans and unsigned", plainLogger, record(at, slog.LevelInfo, "m", slog.Bool("early", true), slog.Bool("no", false), slog.Uint64("u", math.MaxUint64), slog.Int64("i", math.MinInt64))},
		{"floats", plainLogger, record(at, slog.LevelInfo, "m", slog.Float64("a", 0), slog.Float64("b", math.Copysign(0, -1)), slog.Float64("c", 1e-6), slog.Float64("d", 1e-7),
			slog.Float64("e", 1e21), slog.Float64("f", 123456789.125), slog.Float64("g", -0.5), slog.Float64("h", math.Inf(1)), slog.Float64("i", math.NaN()))},
		{"a duration and a time", plainLogger, record(at, slog.LevelInfo, "m", slog.Duration("d", time.Second), slog.Time("t", at))},
		{"an error value", plainLogger, record(at, slog.LevelInfo, "m", slog.Any("err", errors.New("boom")))},
		{"a map", plainLogger, record(at, slog.LevelInfo, "m", slog.Any("details", map[string]string{"reason": "x"}))},
		{"a group", plainLogger, record(at, slog.LevelInfo, "m", slog.Group("g", slog.Int("a", 1)))},
		{"an inlined group", plainLogger, record(at, slog.LevelInfo, "m", slog.Group("", slog.Int("a", 1)))},
		{"WithGroup", func(l *slog.Logger) *slog.Logger { return l.WithGroup("aws") }, record(at, slog.LevelInfo, "m", slog.Int("a", 1))},
		{"With a map", func(l *slog.Logger) *slog.Logger { return l.With("details", map[string]int{"a": 1}) }, record(at, slog.LevelInfo, "m", slog.Int("a", 1))},
		{"With twice", func(l *slog.Logger) *slog.Logger { return l.With("a", 1).With("b", "two") }, record(at, slog.LevelInfo, "m", slog.Int("c", 3))},
	} {
		got, want := both(t, c.build, c.r)
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
	}
}

// TestHandlerLevel: lines below the level are not written, on either path.
func TestHandlerLevel(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, slog.LevelInfo)
	l.Debug("hidden")
	l.With("a", 1).Debug("hidden")
	l.Info("shown")
	if strings.Count(b.String(), "\n") != 1 || !strings.Contains(b.String(), "shown") {
		t.Fatalf("%q", b.String())
	}
}

// TestHandlerLinesDoNotInterleave: lines written at once on both paths
// (under -race, into a writer that is not safe for concurrent use) come
// out whole, one JSON object a line.
func TestHandlerLinesDoNotInterleave(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, slog.LevelInfo)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				if i%2 == 0 {
					l.Info("request", "request_id", "abc", "status", 200)
				} else {
					l.Info("request failed", "error", "a\nb", "details", map[string]int{"i": i})
				}
			}
		})
	}
	wg.Wait()
	n := 0
	for line := range strings.Lines(b.String()) {
		n++
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d: %v: %q", n, err, line)
		}
	}
	if n != 1600 {
		t.Fatalf("%d lines, want 1600", n)
	}
}

// FuzzHandlerMatchesJSONHandler: any message, key and values come out as
// slog.JSONHandler writes them.
func FuzzHandlerMatchesJSONHandler(f *testing.F) {
	f.Add("request", "request_id", "0123456789abcdef", int64(200), 0.012, true, int64(1765000000123456789))
	f.Add("a\"b", "k\n", "\xff", int64(-1), 1e-7, false, int64(0))
	f.Add("", "", "", int64(0), math.Inf(-1), false, int64(-62135596800000000))
	f.Fuzz(func(t *testing.T, msg, key, s string, i int64, fl float64, b bool, unixNano int64) {
		r := record(time.Unix(0, unixNano).UTC(), slog.LevelInfo, msg, slog.String(key, s), slog.Int64("i", i), slog.Float64("f", fl), slog.Bool("b", b))
		got, want := both(t, plainLogger, r)
		if got != want {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		got, want = both(t, func(l *slog.Logger) *slog.Logger { return l.With(key, s) }, r)
		if got != want {
			t.Fatalf("With:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkAccessLine is one access log line through New's handler and
// through slog.JSONHandler, both formatting into io.Discard.
func BenchmarkAccessLine(b *testing.B) {
	for _, c := range []struct {
		name string
		l    *slog.Logger
	}{
		{"handler", New(io.Discard, slog.LevelInfo)},
		{"JSONHandler", slog.New(slog.NewJSONHandler(io.Discard, nil))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				c.l.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", "0123456789abcdef0123456789abcdef"), slog.String("method", "GET"),
					slog.String("route", "GET /v1/{realm}/session"), slog.Int("status", 200), slog.Float64("duration_ms", 0.012), slog.String("ip", "127.0.0.1"))
			}
		})
	}
}
