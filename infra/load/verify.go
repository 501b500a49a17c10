package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/audit"
)

// Nothing lost: after the load, the whole table is read (a consistent
// Scan) and every item is held to what the answers told the workers, and
// the API's log stream to the requests it served. The item layout is
// shared/store/dynamo's (dynamo.go's header); the counters' key names are
// shared/throttle's and shared/code's.

// check is one comparison of what the answers said with what the table or
// the log holds.
type check struct {
	what      string
	want, got string
	ok        bool
}

// typeCount is one security event type: as the answers imply, as the API
// logged and as the table holds.
type typeCount struct {
	typ                      audit.Type
	expected, logged, stored int
}

// logSummary is what the API's log stream held.
type logSummary struct {
	lines, notJSON, access, sdk, warnings int
	firstNotJSON, firstSDK, firstWarning  string
	events                                []loggedEvent
}

// loggedEvent is a "security event" log line.
type loggedEvent struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	RequestID  string `json:"request_id"`
	Details    map[string]string
	occurrence string
}

// readLog reads the API's log: every line must be a JSON object.
func readLog(path string) (logSummary, error) {
	var s logSummary
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		s.lines++
		var line struct {
			Level, Msg string
			Event      *loggedEvent `json:"security_event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			if s.notJSON++; s.firstNotJSON == "" {
				s.firstNotJSON = sc.Text()
			}
			continue
		}
		switch line.Msg {
		case "request":
			s.access++
		case "aws sdk":
			if s.sdk++; s.firstSDK == "" {
				s.firstSDK = sc.Text()
			}
		case "security event":
			if line.Event != nil {
				e := *line.Event
				e.occurrence = e.Details["occurrence"]
				s.events = append(s.events, e)
			}
		}
		if line.Level == "WARN" || line.Level == "ERROR" {
			if s.warnings++; s.firstWarning == "" {
				s.firstWarning = sc.Text()
			}
		}
	}
	return s, sc.Err()
}

// scan reads every item of table, consistently.
func scan(ctx context.Context, c *dynamodb.Client, table string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func attrS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(it map[string]types.AttributeValue, k string) int {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.Atoi(v.Value)
		return n
	}
	return 0
}

// tableState is the table sorted by kind of item.
type tableState struct {
	accounts    map[string]string   // id → status
	claims      int                 // identifier claims
	sessions    map[string]int      // account id → sessions
	codes       map[string][]string // account id → purposes
	messages    map[string][]string // account id → "kind/channel"
	unsent      int                 // messages not in state sent
	counters    map[string]int      // key → n
	events      map[string]string   // event id → type
	eventsByReq map[string]int      // request id → stored events
	other       []string            // items of no kind above
}

func sortTable(items []map[string]types.AttributeValue) tableState {
	t := tableState{accounts: map[string]string{}, sessions: map[string]int{}, codes: map[string][]string{},
		messages: map[string][]string{}, counters: map[string]int{}, events: map[string]string{}, eventsByReq: map[string]int{}}
	for _, it := range items {
		pk, sk := attrS(it, "PK"), attrS(it, "SK")
		owner, _ := strings.CutPrefix(pk, "ACCT#resident#")
		switch {
		case strings.HasPrefix(sk, "EVENT#"):
			t.events[attrS(it, "id")] = attrS(it, "type")
			t.eventsByReq[attrS(it, "request_id")]++
		case strings.HasPrefix(pk, "ACCT#resident#") && sk == "PROFILE":
			t.accounts[attrS(it, "id")] = attrS(it, "status")
		case strings.HasPrefix(sk, "SESSION#"):
			t.sessions[attrS(it, "account_id")]++
		case strings.HasPrefix(pk, "ACCT#resident#") && strings.HasPrefix(sk, "CODE#"):
			t.codes[owner] = append(t.codes[owner], strings.TrimPrefix(sk, "CODE#"))
		case strings.HasPrefix(pk, "IDENT#"):
			t.claims++
		case strings.HasPrefix(pk, "THROTTLE#"):
			t.counters[strings.TrimPrefix(pk, "THROTTLE#")] = attrN(it, "n")
		case strings.HasPrefix(pk, "OUTBOX#"):
			id := attrS(it, "account_id")
			t.messages[id] = append(t.messages[id], attrS(it, "kind")+"/"+attrS(it, "channel"))
			if attrS(it, "msg_state") != "sent" {
				t.unsent++
			}
		case pk == "EVENTDAYS":
			// The days that have events: an index, not a record.
		default:
			t.other = append(t.other, pk+" "+sk)
		}
	}
	return t
}

// expectation is what the answers told the workers the table holds.
type expectation struct {
	registered, resets map[string]bool
	sessions           map[string]int // account id → live sessions
	loginFailures      map[string]int // client IP → failed logins (401)
	resetRequests      map[string]int // client IP → reset requests (202)
	registrations      map[string]int // client IP → registrations (201)
	refusals           map[string]int // client IP → refusals (429)
	attempts           []int          // the identifier locks' counters: one per email with failures since its last right password
	locked             int
	events             map[string][]audit.Type // request id → events
	answered, sent     int
}

func expectationOf(rs []*resident, outs []outcome) expectation {
	e := expectation{registered: map[string]bool{}, resets: map[string]bool{}, sessions: map[string]int{},
		loginFailures: map[string]int{}, resetRequests: map[string]int{}, registrations: map[string]int{},
		refusals: map[string]int{}, events: map[string][]audit.Type{}}
	for _, r := range rs {
		if r.attempts > 0 {
			e.attempts = append(e.attempts, r.attempts)
		}
		if r.locked {
			e.locked++
		}
	}
	for _, o := range outs {
		e.sent++
		if o.status != 0 {
			e.answered++
		}
		if o.requestID != "" {
			e.events[o.requestID] = o.events
		}
		logins := o.kind == kindLogin || o.kind == kindWrongPassword || o.kind == kindUnknownLogin
		switch {
		case o.status == 201 && o.kind == kindRegister:
			e.registered[o.account] = true
			e.registrations[o.ip]++
		case o.status == 202 && (o.kind == kindReset || o.kind == kindUnknownReset):
			if o.kind == kindReset {
				e.resets[o.account] = true
			}
			e.resetRequests[o.ip]++
		case o.status == 200 && o.kind == kindLogin:
			e.sessions[o.account]++
		case o.status == 204 && o.kind == kindLogout:
			e.sessions[o.account]--
		case o.status == 401 && logins:
			e.loginFailures[o.ip]++
			if o.kind == kindUnknownLogin {
				e.attempts = append(e.attempts, 1)
			}
		case o.status == 429 && logins:
			e.refusals[o.ip]++
		}
	}
	return e
}

// verify reads the table and the log and holds them to the answers.
func (r *dynamoRun) verify(ctx context.Context) error {
	var err error
	if r.log, err = readLog(r.logPath); err != nil {
		return fmt.Errorf("reading the API's log: %w", err)
	}
	items, err := scan(ctx, r.client, r.table)
	if err != nil {
		return fmt.Errorf("reading the table: %w", err)
	}
	all := append(slices.Clone(r.calls), r.mixed...)
	t := sortTable(items)
	r.messages = total(t.messages)
	r.checks, r.events = compare(expectationOf(r.residents, all), t, r.log, len(r.residents))
	return nil
}

// compare holds the table t and the log l to e.
func compare(e expectation, t tableState, l logSummary, seeded int) ([]check, []typeCount) {
	var cs []check
	add := func(what string, want, got any) {
		w, g := fmt.Sprint(want), fmt.Sprint(got)
		cs = append(cs, check{what: what, want: w, got: g, ok: w == g})
	}

	// Accounts and what a registration or a reset request queued.
	add("resident accounts (seeded + registered)", seeded+len(e.registered), len(t.accounts))
	pending := 0
	for id := range e.registered {
		if t.accounts[id] == "pending" {
			pending++
		}
	}
	add("registrations stored as pending accounts", len(e.registered), pending)
	add("identifier claims (email and phone of each account)", 2*(seeded+len(e.registered)), t.claims)
	wantMessages, wantCodes := map[string][]string{}, map[string][]string{}
	for id := range e.registered {
		wantMessages[id] = []string{"verify_email/email", "verify_phone/sms"}
		wantCodes[id] = []string{"verify_email", "verify_phone"}
	}
	for id := range e.resets {
		wantMessages[id] = []string{"reset_code/email"}
		wantCodes[id] = []string{"password_reset"}
	}
	add("outbox messages (2 per registration, 1 per known-email reset request)", total(wantMessages), total(t.messages))
	add("accounts whose messages are not their requests' (kind, channel)", 0, differ(wantMessages, t.messages))
	add("messages not delivered by the API's sender", 0, t.unsent)
	add("one-time codes (2 per registration, 1 per known-email reset request)", total(wantCodes), total(t.codes))
	add("accounts whose codes are not their requests'", 0, differ(wantCodes, t.codes))

	// Sessions.
	wantSessions := 0
	for _, n := range e.sessions {
		wantSessions += n
	}
	got := 0
	for _, n := range t.sessions {
		got += n
	}
	add("sessions (logins answered 200 less logouts answered 204)", wantSessions, got)
	add("accounts whose sessions differ", 0, differCounts(e.sessions, t.sessions))

	// Counters.
	c := countersByKind(t.counters)
	add("identifier lock counters (failed logins per email since its last right password)", multiset(e.attempts), multiset(c.values("login-attempts")))
	add("identifier locks", e.locked, len(c["login-lock"]))
	add("IPs whose failed-login counter is not their 401s", 0, differCounts(e.loginFailures, c["login-ip-failures"]))
	add("reset requests per IP (counters)", multiset(slices.Collect(maps.Values(e.resetRequests))), multiset(c.values("reset_ip")))
	add("registrations per IP (counters)", multiset(slices.Collect(maps.Values(e.registrations))), multiset(c.values("register_ip")))
	wantSends := map[string]int{}
	for id := range e.registered {
		wantSends["resident:"+id] = 2
	}
	for id := range e.resets {
		wantSends["resident:"+id] = 1
	}
	add("accounts whose code sends this hour are not their requests'", 0, differCounts(wantSends, c["code-sends"]))
	add("code cooldowns (one per code)", total(wantCodes), len(c["code-cooldown"]))
	add("SMS per number (one per registration)", multiset(repeat(1, len(e.registered))), multiset(c.values("sms_number")))
	add("SMS today (the day's cap counter)", len(e.registered), sum(c.values("sms-daily")))
	add("IPs whose refusals counted (rate_limited occurrences) are not their 429s", 0, differCounts(e.refusals, c.refusalsByIP()))
	var strange []string
	for k := range c {
		if !slices.Contains(knownCounters, k) {
			strange = append(strange, k)
		}
	}
	add("counters of another kind", "none", none(strange))
	add("items of no kind the scenario writes", "none", none(t.other))

	// Security events: each request's as its answer implies, in the log
	// and in the table (less the repeats a stranger's refusals fold).
	logged := map[string][]audit.Type{}
	strangers := 0
	for _, ev := range l.events {
		if _, ok := e.events[ev.RequestID]; !ok {
			strangers++
		}
		logged[ev.RequestID] = append(logged[ev.RequestID], audit.Type(ev.Type))
	}
	wrong := 0
	for id, want := range e.events {
		if !sameTypes(want, logged[id]) {
			wrong++
		}
	}
	add("requests whose logged security events are not what their answers imply", 0, wrong)
	add("logged security events of no request of the run", 0, strangers)
	unstored, stored := 0, map[string]bool{}
	for _, ev := range l.events {
		if ev.occurrence != "" && ev.occurrence != "1" {
			continue // a folded repeat: in the log alone
		}
		if t.events[ev.ID] != ev.Type {
			unstored++
		}
		stored[ev.ID] = true
	}
	add("logged security events missing from the table", 0, unstored)
	add("stored security events with no log line", 0, len(t.events)-countTrue(stored, t.events))

	// The log stream.
	add("log lines that are not JSON", 0, l.notJSON)
	accessOK := l.access >= e.answered+1 && l.access <= e.sent+1
	cs = append(cs, check{what: "access log lines (requests answered + the readiness probe)", want: fmt.Sprint(e.answered + 1), got: fmt.Sprint(l.access), ok: accessOK})
	add("AWS SDK log lines (msg \"aws sdk\")", 0, l.sdk)
	add("WARN and ERROR log lines", 0, l.warnings)

	return cs, eventTypes(e, l, t)
}

// knownCounters are the counter kinds (the part of the key before the
// first colon) the scenario's requests count.
var knownCounters = []string{"login-attempts", "login-lock", "login-ip-failures", "reset_ip", "register_ip", "code-sends", "code-cooldown", "sms_number", "sms-daily", "occurrence"}

// counterKinds are the counters by kind, each by the rest of its key.
type counterKinds map[string]map[string]int

func countersByKind(all map[string]int) counterKinds {
	c := counterKinds{}
	for k, n := range all {
		kind, rest, _ := strings.Cut(k, ":")
		if c[kind] == nil {
			c[kind] = map[string]int{}
		}
		c[kind][rest] = n
	}
	return c
}

func (c counterKinds) values(kind string) []int { return slices.Collect(maps.Values(c[kind])) }

// refusalsByIP sums the rate_limited occurrence counters
// ("event:rate_limited:<ip>:<minute>") by address.
func (c counterKinds) refusalsByIP() map[string]int {
	m := map[string]int{}
	for k, n := range c["occurrence"] {
		rest, ok := strings.CutPrefix(k, "event:"+string(audit.RateLimited)+":")
		if !ok {
			m["(other: "+k+")"] += n
			continue
		}
		ip := rest[:strings.LastIndexByte(rest, ':')]
		m[ip] += n
	}
	return m
}

func eventTypes(e expectation, l logSummary, t tableState) []typeCount {
	counts := map[audit.Type]*typeCount{}
	at := func(typ audit.Type) *typeCount {
		if counts[typ] == nil {
			counts[typ] = &typeCount{typ: typ}
		}
		return counts[typ]
	}
	for _, evs := range e.events {
		for _, typ := range evs {
			at(typ).expected++
		}
	}
	for _, ev := range l.events {
		at(audit.Type(ev.Type)).logged++
	}
	for _, typ := range t.events {
		at(audit.Type(typ)).stored++
	}
	var out []typeCount
	for _, typ := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, *counts[typ])
	}
	return out
}

func total[V any](m map[string][]V) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// differ is how many keys of want or got map to different sets.
func differ(want, got map[string][]string) int {
	n := 0
	for k := range union(want, got) {
		if !slices.Equal(slices.Sorted(slices.Values(want[k])), slices.Sorted(slices.Values(got[k]))) {
			n++
		}
	}
	return n
}

// differCounts is how many keys of want or got map to different numbers
// (a missing key is 0).
func differCounts(want, got map[string]int) int {
	n := 0
	for k := range union(want, got) {
		if want[k] != got[k] {
			n++
		}
	}
	return n
}

func union[V any](a, b map[string]V) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// multiset writes counts as "value×times" in value order: "1×40, 5×3".
func multiset(v []int) string {
	times := map[int]int{}
	for _, x := range v {
		times[x]++
	}
	var parts []string
	for _, x := range slices.Sorted(maps.Keys(times)) {
		parts = append(parts, fmt.Sprintf("%d×%d", x, times[x]))
	}
	return none(parts)
}

func none(parts []string) string {
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func repeat(x, n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = x
	}
	return v
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

func sameTypes(a, b []audit.Type) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// countTrue is how many keys of m are set in set.
func countTrue(set map[string]bool, m map[string]string) int {
	n := 0
	for k := range m {
		if set[k] {
			n++
		}
	}
	return n
}
