package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The goals of docs/performance.md, as ratios of the API to the bare server.
const (
	goalThroughput = 2.0 / 3 // the API answers at least two thirds as many requests per second
	goalP99        = 1.5     // with a p99 at most one and a half times the bare server's
)

// report prints the runs as docs/performance.md shows them.
func report(out io.Writer, o options, rounds [][2]result, bodyLen, logLines, sent int) {
	fmt.Fprintf(out, "make load, %s\n\n", o.startedAt.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(out, "`%s`: GET %s, %d workers (closed loop, no rate limit), %d rounds of %s per server, interleaved (order alternates), after a %s warm-up each; body %d bytes\n\n",
		o.commandLineForDoc, sessionPath, o.workers, o.rounds, o.duration, o.warmup, bodyLen)
	fmt.Fprintln(out, "| round | server | load average (1, 5, 15 min) | requests | req/s | p50 | p99 | max |")
	fmt.Fprintln(out, "|---|---|---|---:|---:|---:|---:|---:|")
	for i, pair := range rounds {
		for j, r := range pair {
			name := "local API"
			if j == 1 {
				name = "bare net/http"
			}
			fmt.Fprintf(out, "| %d | %s | %s | %d | %.0f | %s | %s | %s |\n", i+1, name, r.load, r.requests, r.rps, ms(r.p50), ms(r.p99), ms(r.max))
		}
	}
	var tput, tail []float64
	fmt.Fprintln(out, "\n| round | req/s, API ÷ bare | p99, API ÷ bare |")
	fmt.Fprintln(out, "|---|---:|---:|")
	for i, pair := range rounds {
		t, p := pair[0].rps/pair[1].rps, float64(pair[0].p99)/float64(pair[1].p99)
		tput, tail = append(tput, t), append(tail, p)
		fmt.Fprintf(out, "| %d | %.2f | %.2f |\n", i+1, t, p)
	}
	fmt.Fprintf(out, "\nreq/s ratio: median %.2f (%s), goal ≥ %.2f: %s\n", median(tput), spread(tput), goalThroughput, verdict(median(tput) >= goalThroughput))
	fmt.Fprintf(out, "p99 ratio: median %.2f (%s), goal ≤ %.2f: %s\n", median(tail), spread(tail), goalP99, verdict(median(tail) <= goalP99))
	fmt.Fprintf(out, "access log: %d lines written for the %d requests the API was sent\n", logLines, sent)
	fmt.Fprintf(out, "took %s\n", time.Since(o.startedAt).Round(time.Second))
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return "rounds: " + strings.Join(parts, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
