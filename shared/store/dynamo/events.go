package dynamo

// Security events (audit.Store). Each event is one item:
//
//	with an account   PK=ACCT#<realm>#<account id>  SK=EVENT#<nanos, 20 digits>#<id>
//	without one       PK=EVENTS#<yyyy-mm-dd, UTC>   SK=EVENT#<nanos, 20 digits>#<id>
//	every event       GSI1PK=EVENTS#<yyyy-mm-dd, UTC>  GSI1SK=<nanos, 20 digits>#<id>
//	                  expires_at (TTL) from AppendEvent's expires
//
// and each UTC day that holds events has a marker item
//
//	day marker        PK=EVENTDAYS  SK=<yyyy-mm-dd>  expires_at (TTL) at least that of its events
//
// An account's events are one strongly consistent Query of its partition,
// newest first, its sessions and codes (SK SESSION#…, CODE#…) outside the
// EVENT# key range and its events outside theirs. Every other query walks
// the day partitions of GSI1 newest first; the markers list the days that
// hold events, so the walk neither guesses the newest or oldest day (no
// wall clock: Since and Until are exact, zero means no bound) nor visits
// empty days. A day marker is written before the day's first event each
// process appends (and again only if an event needs it to live longer), so
// a day whose events can be seen is always listed.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/store"
)

const (
	skEventPrefix = "EVENT#"
	pkEventDays   = "EVENTDAYS"
	dayLayout     = "2006-01-02"

	// defaultEventLimit is the page size when audit.Query.Limit is not set.
	defaultEventLimit = 50

	// markerSlack is how much longer than the event that writes it a day
	// marker lives, so that the day's later events (with later expiries)
	// rarely need it rewritten.
	markerSlack = 2 * 24 * 60 * 60 // seconds
)

// maxEventQueries bounds the Query calls of one QueryEvents (not counting
// the day list), so that a rare filter over a long history cannot run a
// request out of time: when it is spent, the page is handed back short
// (even empty) with a cursor that continues the walk. A var for tests.
var maxEventQueries = 50

// Events are stored only with a time from 1970 up to (not including) 2262,
// the years whose Unix nanoseconds fit a non-negative int64: sort keys hold
// those nanoseconds, zero-padded, so that string order is time order.
// (audit.MinTime up to audit.MaxTime, exclusive; see audit.Bound.)
func padNanos(n int64) string { return fmt.Sprintf("%020d", n) }

func eventDay(nanos int64) string { return time.Unix(0, nanos).UTC().Format(dayLayout) }

func eventsPK(day string) string { return "EVENTS#" + day }

// eventPK is the partition of an event: its account's when it has a realm
// and an account (only then can it be asked for by account), else its day's.
func eventPK(e audit.Event) string {
	if e.Realm != "" && e.AccountID != "" {
		return accountPK(e.Realm, e.AccountID)
	}
	return eventsPK(eventDay(e.Time.UnixNano()))
}

func eventSK(nanos int64, id string) string { return skEventPrefix + padNanos(nanos) + "#" + id }

func eventGSI1SK(nanos int64, id string) string { return padNanos(nanos) + "#" + id }

func eventItem(e audit.Event, expires time.Time) item {
	n := e.Time.UnixNano()
	it := item{
		attrPK:     str(eventPK(e)),
		attrSK:     str(eventSK(n, e.ID)),
		attrGSI1PK: str(eventsPK(eventDay(n))),
		attrGSI1SK: str(eventGSI1SK(n, e.ID)),
	}
	it.s("id", e.ID)
	it.s("type", string(e.Type))
	it.s("realm", string(e.Realm))
	it.s("account_id", e.AccountID)
	it.s("identifier", e.Identifier)
	it.s("ip", e.IP)
	it.s("user_agent", e.UserAgent)
	it.s("request_id", e.RequestID)
	it.t("time", e.Time)
	if len(e.Details) > 0 {
		m := make(map[string]types.AttributeValue, len(e.Details))
		for k, v := range e.Details {
			m[k] = str(v)
		}
		it["details"] = &types.AttributeValueMemberM{Value: m}
	}
	it.ttl(expires)
	return it
}

func eventFrom(it item) audit.Event {
	e := audit.Event{
		ID:         it.getS("id"),
		Type:       audit.Type(it.getS("type")),
		Realm:      account.Realm(it.getS("realm")),
		AccountID:  it.getS("account_id"),
		Identifier: it.getS("identifier"),
		IP:         it.getS("ip"),
		UserAgent:  it.getS("user_agent"),
		RequestID:  it.getS("request_id"),
		Time:       it.getT("time"),
	}
	if m, ok := it["details"].(*types.AttributeValueMemberM); ok && len(m.Value) > 0 {
		e.Details = make(map[string]string, len(m.Value))
		for k, v := range m.Value {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				e.Details[k] = sv.Value
			}
		}
	}
	return e
}

// dayMarks remembers the day markers this Store has written: day → the
// marker's TTL in epoch seconds (math.MaxInt64: none).
type dayMarks struct {
	mu   sync.Mutex
	ttls map[string]int64
}

func newDayMarks() *dayMarks { return &dayMarks{ttls: map[string]int64{}} }

func (d *dayMarks) covers(day string, ttl int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.ttls[day]
	return ok && cur >= ttl
}

func (d *dayMarks) note(day string, ttl int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ttls[day] = max(d.ttls[day], ttl)
}

// ttlSeconds is the TTL attribute item.ttl writes for t; math.MaxInt64 for
// the zero time (no TTL).
func ttlSeconds(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	it := item{}
	it.ttl(t)
	return it.getN(attrExpires)
}

// markDay makes sure the day's marker exists and lives at least until ttl
// (epoch seconds; math.MaxInt64: for ever). The conditional put never
// shortens a marker another writer made longer.
func (s *Store) markDay(ctx context.Context, day string, ttl int64) error {
	if s.days.covers(day, ttl) {
		return nil
	}
	it := item{attrPK: str(pkEventDays), attrSK: str(day)}
	in := &dynamodb.PutItemInput{TableName: s.table, Item: it}
	write := int64(math.MaxInt64)
	if ttl == math.MaxInt64 {
		in.ConditionExpression = aws.String("attribute_not_exists(PK) OR attribute_exists(expires_at)")
	} else {
		write = ttl + markerSlack
		it.n(attrExpires, write)
		in.ConditionExpression = aws.String("attribute_not_exists(PK) OR expires_at < :ttl")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":ttl": num(write)}
	}
	_, err := s.api.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
	case errors.As(err, &ccf):
		// The stored marker already lives at least as long.
	default:
		return unavailable(ctx, "AppendEvent", err)
	}
	s.days.note(day, write)
	return nil
}

// AppendEvent implements audit.Store: the day's marker (see above; at most
// once per day and process), then one PutItem on condition the item is new,
// so an event with the same time and id in the same partition is
// ErrConflict. expires becomes the TTL; DynamoDB removes expired events
// lazily, and until then queries still return them.
func (s *Store) AppendEvent(ctx context.Context, e audit.Event, expires time.Time) error {
	if err := audit.Storable(e); err != nil {
		return err
	}
	if err := s.markDay(ctx, eventDay(e.Time.UnixNano()), ttlSeconds(expires)); err != nil {
		return err
	}
	return s.putNew(ctx, "AppendEvent", eventItem(e, expires))
}

// eventCursor is the decoded QueryEvents cursor: the filters' fingerprint
// and the position to continue after. With an account: the item (P, T, I).
// Walking the days: day D, after the item (P, T, I) in it, or from its
// newest event when I is empty.
type eventCursor struct {
	F string `json:"f"`
	D string `json:"d,omitempty"`
	P string `json:"p,omitempty"`
	T int64  `json:"t,omitempty"`
	I string `json:"i,omitempty"`
}

func (c eventCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cursorAfter is the cursor continuing after the item keyed k (an item or a
// LastEvaluatedKey, which both carry PK and SK).
func cursorAfter(filters string, walk bool, k item) string {
	sk := strings.TrimPrefix(k.getS(attrSK), skEventPrefix)
	nanos, _ := strconv.ParseInt(sk[:min(20, len(sk))], 10, 64)
	c := eventCursor{F: filters, P: k.getS(attrPK), T: nanos, I: sk[min(21, len(sk)):]}
	if walk {
		c.D = eventDay(nanos)
	}
	return c.encode()
}

// eventQuery is a QueryEvents call in progress.
type eventQuery struct {
	s       *Store
	q       audit.Query
	filters string
	lo, hi  int64 // nanoseconds, hi exclusive
	limit   int
	out     []audit.Event
	queries int
}

// decode checks a cursor against the query and returns it with the key to
// continue after (nil when a day walk continues from a day's start).
func (eq *eventQuery) decode(walk bool) (eventCursor, map[string]types.AttributeValue, error) {
	raw, err := base64.RawURLEncoding.DecodeString(eq.q.Cursor)
	if err != nil {
		return eventCursor{}, nil, store.ErrInvalidCursor
	}
	var c eventCursor
	if err := json.Unmarshal(raw, &c); err != nil || c.F != eq.filters {
		return eventCursor{}, nil, store.ErrInvalidCursor
	}
	inRange := c.I != "" && c.T >= eq.lo && c.T < eq.hi && len(eventSK(c.T, c.I)) <= 1024 && len(c.P) <= 2048
	if !walk {
		if c.D != "" || c.P != accountPK(eq.q.Realm, eq.q.AccountID) || !inRange {
			return eventCursor{}, nil, store.ErrInvalidCursor
		}
		return c, key(c.P, eventSK(c.T, c.I)), nil
	}
	if _, err := time.Parse(dayLayout, c.D); err != nil || c.D < eventDay(eq.lo) || c.D > eventDay(eq.hi-1) {
		return eventCursor{}, nil, store.ErrInvalidCursor
	}
	if c.I == "" && c.P == "" && c.T == 0 {
		return c, nil, nil
	}
	if !inRange || eventDay(c.T) != c.D || (c.P != eventsPK(c.D) && !strings.HasPrefix(c.P, "ACCT#")) {
		return eventCursor{}, nil, store.ErrInvalidCursor
	}
	k := key(c.P, eventSK(c.T, c.I))
	k[attrGSI1PK], k[attrGSI1SK] = str(eventsPK(c.D)), str(eventGSI1SK(c.T, c.I))
	return c, k, nil
}

// filter sets the FilterExpression for the query's type and (when asked)
// realm.
func (eq *eventQuery) filter(in *dynamodb.QueryInput, byRealm bool) {
	var conds []string
	if eq.q.Type != "" {
		conds = append(conds, "#type = :type")
		in.ExpressionAttributeNames = map[string]string{"#type": "type"}
		in.ExpressionAttributeValues[":type"] = str(string(eq.q.Type))
	}
	if byRealm && eq.q.Realm != "" {
		conds = append(conds, "#realm = :realm")
		if in.ExpressionAttributeNames == nil {
			in.ExpressionAttributeNames = map[string]string{}
		}
		in.ExpressionAttributeNames["#realm"] = "realm"
		in.ExpressionAttributeValues[":realm"] = str(string(eq.q.Realm))
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
}

// run reads the partition of in, newest first, from in.ExclusiveStartKey
// on, adding its events to eq.out. A FilterExpression applies after Limit,
// so a page can come back with fewer matches than asked, even none, and
// LastEvaluatedKey set: run keeps going until the page is full, the
// partition is done (stop false) or the query budget is spent. When it
// stops it returns the key to continue after (nil: from the partition's
// start) and whether anything may follow in this partition.
func (eq *eventQuery) run(ctx context.Context, op string, in *dynamodb.QueryInput) (stop bool, resume item, more bool, err error) {
	for {
		if eq.queries >= maxEventQueries {
			return true, in.ExclusiveStartKey, true, nil
		}
		need := eq.limit - len(eq.out)
		if in.FilterExpression == nil {
			// One more than needed, so a last page usually knows it is last.
			in.Limit = aws.Int32(int32(min(need+1, 1000)))
		} else {
			in.Limit = aws.Int32(int32(min(max(4*need, 100), 1000)))
		}
		res, err := eq.s.api.Query(ctx, in)
		eq.queries++
		if err != nil {
			return false, nil, false, unavailable(ctx, op, err)
		}
		for i, it := range res.Items {
			eq.out = append(eq.out, eventFrom(it))
			if len(eq.out) == eq.limit {
				return true, it, i < len(res.Items)-1 || len(res.LastEvaluatedKey) > 0, nil
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return false, nil, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// QueryEvents implements audit.Store. With an account it is a strongly
// consistent Query of the account's partition. Otherwise it walks the day
// partitions of GSI1 newest first, from the newest listed day at or before
// Until to the oldest at or after Since; GSI reads are eventually
// consistent, so an event appended a moment ago may not be listed yet.
// Type and realm are filters on what is read (DynamoDB still reads, and
// charges for, the events they drop). A page is short of Limit, even empty,
// with a cursor, when maxEventQueries calls did not fill it; the last page
// may be empty.
func (s *Store) QueryEvents(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	if q.AccountID != "" && q.Realm == "" {
		return nil, "", errors.New("dynamo: QueryEvents by account needs the realm")
	}
	eq := &eventQuery{s: s, q: q, filters: q.Fingerprint(), lo: 0, hi: math.MaxInt64, limit: q.Limit}
	if !q.Since.IsZero() {
		eq.lo = audit.Bound(q.Since)
	}
	if !q.Until.IsZero() {
		eq.hi = audit.Bound(q.Until)
	}
	if eq.limit <= 0 {
		eq.limit = defaultEventLimit
	}
	walk := q.AccountID == ""
	var cur eventCursor
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		var err error
		if cur, start, err = eq.decode(walk); err != nil {
			return nil, "", err
		}
	}
	if eq.lo >= eq.hi {
		return nil, "", nil
	}
	if walk {
		return eq.walk(ctx, cur, start)
	}
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(q.Realm, q.AccountID)),
			":lo": str(skEventPrefix + padNanos(eq.lo)),
			":hi": str(skEventPrefix + padNanos(eq.hi)),
		},
		ScanIndexForward:  aws.Bool(false),
		ExclusiveStartKey: start,
	}
	eq.filter(in, false)
	stop, resume, more, err := eq.run(ctx, "QueryEvents", in)
	if err != nil {
		return nil, "", err
	}
	if !stop || !more {
		return eq.out, "", nil
	}
	return eq.out, cursorAfter(eq.filters, false, resume), nil
}

// walk reads the day partitions, newest first, from the cursor's day (or
// Until's) down to Since's day.
func (eq *eventQuery) walk(ctx context.Context, cur eventCursor, start map[string]types.AttributeValue) ([]audit.Event, string, error) {
	top := eventDay(eq.hi - 1)
	if cur.D != "" {
		top = cur.D
	}
	days, err := eq.s.eventDays(ctx, eventDay(eq.lo), top)
	if err != nil {
		return nil, "", err
	}
	for i, day := range days {
		in := &dynamodb.QueryInput{
			TableName:              eq.s.table,
			IndexName:              aws.String(IndexGSI1),
			KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(eventsPK(day)),
				":lo": str(padNanos(eq.lo)),
				":hi": str(padNanos(eq.hi)),
			},
			ScanIndexForward: aws.Bool(false),
		}
		if day == cur.D {
			in.ExclusiveStartKey = start
		}
		eq.filter(in, true)
		stop, resume, more, err := eq.run(ctx, "QueryEvents", in)
		switch {
		case err != nil:
			return nil, "", err
		case !stop:
			continue
		case !more && i == len(days)-1:
			return eq.out, "", nil
		case resume == nil:
			return eq.out, eventCursor{F: eq.filters, D: day}.encode(), nil
		}
		return eq.out, cursorAfter(eq.filters, true, resume), nil
	}
	return eq.out, "", nil
}

// eventDays lists the days from top down to bottom (both yyyy-mm-dd,
// inclusive) that have a marker, newest first, from a strongly consistent
// Query of the marker partition.
func (s *Store) eventDays(ctx context.Context, bottom, top string) ([]string, error) {
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkEventDays), ":lo": str(bottom), ":hi": str(top),
		},
		ProjectionExpression: aws.String("SK"),
		ScanIndexForward:     aws.Bool(false),
	}
	var days []string
	for {
		res, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, unavailable(ctx, "QueryEvents", err)
		}
		for _, it := range res.Items {
			days = append(days, item(it).getS(attrSK))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return days, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
