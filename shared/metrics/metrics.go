// Package metrics writes CloudWatch metrics as log lines in the embedded
// metric format (EMF): Lambda's log pipeline turns each such line into
// metric data points, with no PutMetricData call on the request's path
// and no extra permission. Locally the lines are just JSON log lines.
package metrics

import (
	"context"
	"log/slog"
	"time"
)

// Namespace is the CloudWatch namespace of the platform's own metrics.
const Namespace = "EKOLEK"

// Dimension is one dimension of a metric.
type Dimension struct {
	Name, Value string
}

// directive is EMF's "_aws" member.
type directive struct {
	Timestamp         int64    `json:"Timestamp"`
	CloudWatchMetrics []metric `json:"CloudWatchMetrics"`
}

type metric struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []named    `json:"Metrics"`
}

type named struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Count logs a count of 1 for metric name, published under every prefix
// of dims: with none (the total an alarm watches), with the first, with
// the first two… So Count(log, now, "MessagesFailed", channel, reason)
// gives the total, the total per channel, and per channel and reason.
func Count(ctx context.Context, log *slog.Logger, now time.Time, name string, dims ...Dimension) {
	sets := make([][]string, 0, len(dims)+1)
	names := make([]string, 0, len(dims))
	sets = append(sets, []string{})
	attrs := make([]slog.Attr, 0, len(dims)+2)
	for _, d := range dims {
		names = append(names, d.Name)
		sets = append(sets, append([]string(nil), names...))
		attrs = append(attrs, slog.String(d.Name, d.Value))
	}
	attrs = append(attrs,
		slog.Any("_aws", directive{
			Timestamp:         now.UnixMilli(),
			CloudWatchMetrics: []metric{{Namespace: Namespace, Dimensions: sets, Metrics: []named{{Name: name, Unit: "Count"}}}},
		}),
		slog.Int(name, 1),
	)
	log.LogAttrs(ctx, slog.LevelInfo, "metric", attrs...)
}
