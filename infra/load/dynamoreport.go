package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// report prints the run as docs/performance.md shows it.
func (r *dynamoRun) report(out io.Writer) {
	o := r.o
	fmt.Fprintf(out, "make load-dynamodb, %s\n\n", o.startedAt.UTC().Format("2006-01-02 15:04 MST"))
	counted := "its DynamoDB calls counted at a proxy in front of DynamoDB Local"
	if o.direct {
		counted = "talking to DynamoDB Local directly (-direct: no calls counted)"
	}
	fmt.Fprintf(out, "`%s`: the local API (EKOLEK_STORE=dynamodb, the default limits, its outbox delivered in its own process) on a fresh table in DynamoDB Local, %s; %d seeded residents (%d per worker); calls phase: %d requests of each kind, one at a time; mixed phase: %d workers (closed loop) for %s; load average (1, 5, 15 min) %s at the start of the mixed phase, %s at its end\n\n",
		o.commandLine, counted, (o.workers+1)*o.accounts, o.accounts, o.callsEach, o.workers, o.duration, r.loadBefore, r.loadAfter)

	answered := 0
	for _, x := range r.mixed {
		if x.status != 0 {
			answered++
		}
	}
	fmt.Fprintf(out, "**Mixed phase**: %d requests answered in %.1f s: **%.0f requests/s**\n\n", answered, r.elapsed.Seconds(), float64(answered)/r.elapsed.Seconds())
	fmt.Fprintln(out, "| request | share | requests | req/s | p50 | p99 | max | answers | errors |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---|---:|")
	for k := range numKinds {
		var lat []time.Duration
		statuses := map[int]int{}
		n, errs := 0, 0
		for _, x := range r.mixed {
			if x.kind != k {
				continue
			}
			n++
			if x.err != "" {
				errs++
			}
			if x.status != 0 {
				statuses[x.status]++
				lat = append(lat, x.latency)
			}
		}
		if n == 0 {
			fmt.Fprintf(out, "| %s | 0 %% | 0 | | | | | | |\n", k)
			continue
		}
		slices.Sort(lat)
		p50, p99, mx := "–", "–", "–"
		if len(lat) > 0 {
			p50, p99, mx = ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)), ms(lat[len(lat)-1])
		}
		fmt.Fprintf(out, "| %s | %.0f %% | %d | %.1f | %s | %s | %s | %s | %d |\n", k, 100*float64(n)/float64(len(r.mixed)), n,
			float64(n)/r.elapsed.Seconds(), p50, p99, mx, statusCounts(statuses), errs)
	}
	fmt.Fprintf(out, "\nCPU in the mixed phase: %s\n", r.cpu)
	if r.exhausted > 0 {
		fmt.Fprintf(out, "\n%d known-email reset requests were drawn after a worker's residents had each had theirs; other kinds went instead (-accounts raises the pool)\n", r.exhausted)
	}

	if !o.direct {
		means := r.callsTable(out)
		predicted, unpredicted := 0.0, 0
		for _, x := range r.mixed {
			if x.status == 0 {
				continue
			}
			if m, ok := means[callKey{x.kind, x.status}]; ok {
				predicted += m
			} else {
				unpredicted++
			}
		}
		n := r.mixedCalls.total()
		fmt.Fprintf(out, "\nMixed phase: %d DynamoDB calls on the requests' path (%.2f per request answered: %d reads, %d writes; %s); the table above predicts %.0f for its requests (counted ÷ predicted %.3f)",
			n, float64(n)/float64(answered), r.mixedCalls.reads(), n-r.mixedCalls.reads(), r.mixedCalls, predicted, float64(n)/predicted)
		if unpredicted > 0 {
			fmt.Fprintf(out, "; %d requests of a kind and answer the calls phase did not meet are not predicted", unpredicted)
		}
		fmt.Fprintf(out, ".\nThe outbox sender, the whole run: %d calls (%s) for %d messages, all delivered %.1f s after the load ended.\n",
			r.senderCalls.total(), r.senderCalls, r.messages, r.deliveryWait.Seconds())
		fmt.Fprintf(out, "DynamoDB Local's answers, the whole run: %s.\n", r.answers)
	}

	fmt.Fprintln(out, "\n**Nothing lost** (the whole table read after the run, and the API's log):")
	fmt.Fprintln(out, "\n| check | expected | found | |")
	fmt.Fprintln(out, "|---|---|---|---|")
	for _, c := range r.checks {
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", c.what, c.want, c.got, verdict(c.ok))
	}
	fmt.Fprintln(out, "\n| security event | implied by the answers | logged | stored |")
	fmt.Fprintln(out, "|---|---:|---:|---:|")
	for _, t := range r.events {
		fmt.Fprintf(out, "| `%s` | %d | %d | %d |\n", t.typ, t.expected, t.logged, t.stored)
	}
	fmt.Fprintln(out, "\n(A refusal by a limit without a session, `rate_limited`, is stored once per client IP and minute and logged every time.)")
	fmt.Fprintf(out, "\nlog: %d lines, %d of them not JSON, %d from the AWS SDK, %d WARN or ERROR\n", r.log.lines, r.log.notJSON, r.log.sdk, r.log.warnings)
	for _, first := range []string{r.log.firstNotJSON, r.log.firstSDK, r.log.firstWarning} {
		if first != "" {
			fmt.Fprintf(out, "  e.g. %.300s\n", first)
		}
	}
	if r.proxyFailures > 0 {
		fmt.Fprintf(out, "the counting proxy could not pass on %d calls (the first: %s)\n", r.proxyFailures, r.proxyFailure)
	}
	if r.abandoned > 0 {
		fmt.Fprintf(out, "the API itself cancelled %d calls in flight (as it does with its sender's when it stops)\n", r.abandoned)
	}
	for _, e := range r.errorSamples(5) {
		fmt.Fprintf(out, "error: %s\n", e)
	}
	if o.keep {
		fmt.Fprintf(out, "table kept: %s\n", r.table)
	}
	fmt.Fprintf(out, "took %s\n", time.Since(o.startedAt).Round(time.Second))
}

// callKey is a kind of request and its answer: a wrong password answered
// 401 and one the lock refused (429) make different calls.
type callKey struct {
	kind   kind
	status int
}

// callsTable prints the calls phase's calls per request and returns the
// mean for each kind and answer.
func (r *dynamoRun) callsTable(out io.Writer) map[callKey]float64 {
	groups := map[callKey][]calls{}
	var keys []callKey
	for _, x := range r.calls {
		if x.status == 0 {
			continue
		}
		k := callKey{x.kind, x.status}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], x.calls)
	}
	slices.SortStableFunc(keys, func(a, b callKey) int { return int(a.kind) - int(b.kind) })
	fmt.Fprintln(out, "\n**DynamoDB calls per request** (calls phase: one request in flight, so every call counted between a request and its answer is its own):")
	fmt.Fprintln(out, "\n| request → answer | requests | calls: mean (min–max) | reads | writes | operations, mean per request |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---|")
	means := map[callKey]float64{}
	for _, k := range keys {
		g := groups[k]
		sumOps := calls{}
		lo, hi, all, reads := 1<<30, 0, 0, 0
		for _, c := range g {
			n := c.total()
			lo, hi, all, reads = min(lo, n), max(hi, n), all+n, reads+c.reads()
			for op, v := range c {
				sumOps[op] += v
			}
		}
		count := float64(len(g))
		means[k] = float64(all) / count
		var ops []string
		for _, op := range slices.Sorted(maps.Keys(sumOps)) {
			ops = append(ops, fmt.Sprintf("%s %s", op, trim(float64(sumOps[op])/count)))
		}
		fmt.Fprintf(out, "| %s → %d | %d | %s (%d–%d) | %s | %s | %s |\n", k.kind, k.status, len(g), trim(means[k]), lo, hi,
			trim(float64(reads)/count), trim(float64(all-reads)/count), strings.Join(ops, ", "))
	}
	return means
}

// trim is x with at most one decimal, none when whole.
func trim(x float64) string {
	s := fmt.Sprintf("%.1f", x)
	return strings.TrimSuffix(s, ".0")
}

func statusCounts(m map[int]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d ×%d", s, m[s]))
	}
	return strings.Join(parts, ", ")
}

// errorSamples are the first n distinct errors of the run's requests.
func (r *dynamoRun) errorSamples(n int) []string {
	var out []string
	for _, x := range append(slices.Clone(r.calls), r.mixed...) {
		if x.err == "" {
			continue
		}
		e := fmt.Sprintf("%s: %s", x.kind, x.err)
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// failure is why the run failed, if it did: a request not answered as
// the record predicted, a check that did not hold, a call the proxy could
// not pass on.
func (r *dynamoRun) failure() error {
	var errs []error
	failed := 0
	for _, x := range append(slices.Clone(r.calls), r.mixed...) {
		if x.err != "" {
			failed++
		}
	}
	if failed > 0 {
		errs = append(errs, fmt.Errorf("%d requests were not answered as expected", failed))
	}
	for _, c := range r.checks {
		if !c.ok {
			errs = append(errs, fmt.Errorf("%s: expected %s, found %s", c.what, c.want, c.got))
		}
	}
	if r.proxyFailures > 0 {
		errs = append(errs, fmt.Errorf("the counting proxy could not pass on %d calls (the first: %s)", r.proxyFailures, r.proxyFailure))
	}
	return errors.Join(errs...)
}
