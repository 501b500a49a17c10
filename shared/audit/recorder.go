package audit

import (
	"context"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/logging"
)

// DefaultRetention is how long events are kept when EKOLEK_AUDIT_RETENTION
// is not set (package config).
const DefaultRetention = 400 * 24 * time.Hour

// Recorder writes events to the store and the structured log.
type Recorder struct {
	store     Store
	log       *slog.Logger
	clock     clock.Clock
	retention time.Duration
}

// NewRecorder returns a Recorder keeping events for retention.
func NewRecorder(s Store, log *slog.Logger, c clock.Clock, retention time.Duration) *Recorder {
	return &Recorder{store: s, log: log, clock: c, retention: retention}
}

// Record completes e (id, time, masked identifier) and writes it. A store
// failure is logged, not returned: the operation the event describes has
// already happened (or been refused) and must not be undone or failed for
// the sake of its record; the log line still carries the event.
func (r *Recorder) Record(ctx context.Context, e Event) Event {
	e = r.complete(e)
	r.log.Info("security event", "security_event", logValue(e))
	r.save(ctx, e)
	return e
}

// RecordRepeated records e as the nth event of its type from one client in
// the current minute (n as throttle.Guard.Occurrence counts it), for the
// events a caller without a session can cause on every request. Every one
// is logged with details "occurrence" = n; only the first is stored, with
// "repeats" = "logged_only" saying that later ones of that minute are in the
// log alone, so such a caller cannot grow the stored trail (kept for the
// retention) faster than one event per type and minute. n of 0 (the count
// is unknown) is recorded as Record does.
func (r *Recorder) RecordRepeated(ctx context.Context, e Event, n int) Event {
	if n <= 0 {
		return r.Record(ctx, e)
	}
	d := make(map[string]string, len(e.Details)+2)
	maps.Copy(d, e.Details)
	d["occurrence"] = strconv.Itoa(n)
	if n == 1 {
		d["repeats"] = "logged_only"
	}
	e.Details = d
	e = r.complete(e)
	r.log.Info("security event", "security_event", logValue(e))
	if n == 1 {
		r.save(ctx, e)
	}
	return e
}

func (r *Recorder) complete(e Event) Event {
	e.ID = account.NewID()
	e.Time = r.clock.Now()
	e.Identifier = logging.MaskIdentifier(e.Identifier)
	if len(e.UserAgent) > 256 {
		e.UserAgent = strings.ToValidUTF8(e.UserAgent[:256], "")
	}
	return e
}

func (r *Recorder) save(ctx context.Context, e Event) {
	if err := r.store.AppendEvent(ctx, e, e.Time.Add(r.retention)); err != nil {
		r.log.Error("security event not stored", "event_id", e.ID, "type", e.Type, "error", err.Error())
	}
}

func logValue(e Event) slog.Value {
	attrs := []slog.Attr{
		slog.String("id", e.ID),
		slog.String("type", string(e.Type)),
		slog.String("time", e.Time.Format(time.RFC3339Nano)),
	}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("realm", string(e.Realm))
	add("account_id", e.AccountID)
	add("identifier", e.Identifier)
	add("ip", e.IP)
	add("user_agent", e.UserAgent)
	add("request_id", e.RequestID)
	if len(e.Details) > 0 {
		var d []any
		for k, v := range e.Details {
			d = append(d, slog.String(k, v))
		}
		attrs = append(attrs, slog.Group("details", d...))
	}
	return slog.GroupValue(attrs...)
}
