package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
)

// maxListQueries bounds the Query calls of one ListAccounts, so that a rare
// filter over many accounts cannot run a request out of time: when it is
// spent, the page is handed back short (even empty) with a cursor that
// continues after the last account read. A var for tests.
var maxListQueries = 20

// maxExpression is DynamoDB's limit on the length of an expression.
const maxExpression = 4096

// maxInValues is how many values one IN takes.
const maxInValues = 100

// expression sets in's FilterExpression to the filters:
//
//	(barangay IN (:b0, …) [OR barangay IN (:b100, …)] [OR attribute_not_exists(barangay)])
//	AND (begins_with(first_name_lc, :p0) OR begins_with(last_name_lc, :p0)
//	     OR begins_with(email, :p0) OR begins_with(phone, :p0) OR … for every prefix)
//
// ("" among the barangays stands for no barangay: attribute_not_exists).
// The filter only saves transfer: DynamoDB charges for what it reads before
// filtering. Filters too long for one expression (4 KB; hundreds of
// barangays or dozens of prefixes) are left to ListFilter.Matches.
func filterExpression(f account.ListFilter, in *dynamodb.QueryInput) {
	barangays := func(names map[string]string, values map[string]types.AttributeValue) string {
		if len(f.Barangays) == 0 {
			return ""
		}
		names["#b"] = "barangay"
		var ors []string
		var vals []string
		for _, b := range f.Barangays {
			if b == "" {
				ors = append(ors, "attribute_not_exists(#b)")
				continue
			}
			v := ":b" + strconv.Itoa(len(values))
			values[v] = str(b)
			vals = append(vals, v)
		}
		for chunk := range slices.Chunk(vals, maxInValues) {
			ors = append(ors, "#b IN ("+strings.Join(chunk, ",")+")")
		}
		return "(" + strings.Join(ors, " OR ") + ")"
	}
	prefixes := func(names map[string]string, values map[string]types.AttributeValue) string {
		if len(f.Prefixes) == 0 {
			return ""
		}
		names["#fl"], names["#ll"], names["#e"], names["#p"] = attrFirstNameLC, attrLastNameLC, "email", "phone"
		var ors []string
		for _, p := range f.Prefixes {
			v := ":p" + strconv.Itoa(len(values))
			values[v] = str(p)
			for _, n := range []string{"#fl", "#ll", "#e", "#p"} {
				ors = append(ors, "begins_with("+n+","+v+")")
			}
		}
		return "(" + strings.Join(ors, " OR ") + ")"
	}
	// The whole filter, else only the prefixes (usually the more selective,
	// and short), else nothing.
	for _, parts := range [][]func(map[string]string, map[string]types.AttributeValue) string{
		{barangays, prefixes}, {prefixes},
	} {
		names, values := map[string]string{}, map[string]types.AttributeValue{}
		var conds []string
		for _, part := range parts {
			if c := part(names, values); c != "" {
				conds = append(conds, c)
			}
		}
		expr := strings.Join(conds, " AND ")
		if expr == "" || len(expr) > maxExpression {
			continue
		}
		in.FilterExpression = aws.String(expr)
		in.ExpressionAttributeNames = names
		for k, v := range values {
			in.ExpressionAttributeValues[k] = v
		}
		return
	}
}

// listCursor is the decoded ListAccounts cursor: the filters' fingerprint,
// the status partition to continue in and the GSI1 key to continue after
// (nil: from the partition's start).
type listCursor struct {
	F      string            `json:"f"`
	Realm  account.Realm     `json:"r"`
	Status account.Status    `json:"s"`
	Key    map[string]string `json:"k,omitempty"`
}

func encodeCursor(fingerprint string, realm account.Realm, status account.Status, k map[string]types.AttributeValue) string {
	c := listCursor{F: fingerprint, Realm: realm, Status: status}
	if len(k) > 0 {
		c.Key = make(map[string]string, 4)
		for _, name := range []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK} {
			c.Key[name] = item(k).getS(name)
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(f account.ListFilter, realm account.Realm, statuses []account.Status, s string) (int, map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, nil, store.ErrInvalidCursor
	}
	var c listCursor
	if err := json.Unmarshal(b, &c); err != nil || c.F != f.Fingerprint || c.Realm != realm {
		return 0, nil, store.ErrInvalidCursor
	}
	idx := slices.Index(statuses, c.Status)
	if idx < 0 {
		return 0, nil, store.ErrInvalidCursor
	}
	if c.Key == nil {
		return idx, nil, nil
	}
	if len(c.Key) != 4 || c.Key[attrGSI1PK] != listPK(realm, c.Status) || c.Key[attrSK] != skProfile ||
		!strings.HasPrefix(c.Key[attrPK], accountPK(realm, "")) || c.Key[attrGSI1SK] == "" {
		return 0, nil, store.ErrInvalidCursor
	}
	lek := make(map[string]types.AttributeValue, len(c.Key))
	for k, v := range c.Key {
		lek[k] = str(v)
	}
	return idx, lek, nil
}

// ListAccounts implements account.Store by querying GSI1 one status
// partition at a time, oldest first. GSI reads are eventually consistent:
// an account written a moment ago may be missing from, or listed under its
// old status in, a page. Barangays and Prefixes are a FilterExpression
// (see filterExpression); DynamoDB applies it after Limit, so each
// Query reads a batch of accounts (100 to 1000) and the loop goes on until
// the page is full, the statuses are done or maxListQueries calls are
// spent. The cursor continues after the last account returned, or, when
// the page ended short or full with nothing more matching in what was read,
// after the last account read.
func (s *Store) ListAccounts(ctx context.Context, q account.ListQuery) ([]account.Account, string, error) {
	statuses := account.StatusesOf(q.Realm)
	if q.Status != "" {
		if !slices.Contains(statuses, q.Status) {
			return nil, "", nil
		}
		statuses = []account.Status{q.Status}
	}
	f := q.Filter()
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	idx, start := 0, map[string]types.AttributeValue(nil)
	if q.Cursor != "" {
		var err error
		if idx, start, err = decodeCursor(f, q.Realm, statuses, q.Cursor); err != nil {
			return nil, "", err
		}
	}
	var out []account.Account
	for queries := 0; idx < len(statuses); queries++ {
		if queries == maxListQueries {
			return out, encodeCursor(f.Fingerprint, q.Realm, statuses[idx], start), nil
		}
		st := statuses[idx]
		need := limit - len(out)
		in := &dynamodb.QueryInput{
			TableName:                 s.table,
			IndexName:                 aws.String(IndexGSI1),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(listPK(q.Realm, st))},
			ExclusiveStartKey:         start,
			// One more than needed, so a last page usually knows it is last.
			Limit: aws.Int32(int32(min(need+1, 1000))),
		}
		if f.Any() {
			in.Limit = aws.Int32(int32(min(max(4*need, 100), 1000)))
			filterExpression(f, in)
		}
		res, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, "", unavailable(ctx, "ListAccounts", err)
		}
		var last map[string]types.AttributeValue // the last account taken
		for _, it := range res.Items {
			a := accountFrom(it)
			if !f.Matches(a) {
				continue
			}
			if len(out) == limit {
				// Another match: the page is full and has a next one.
				return out, encodeCursor(f.Fingerprint, q.Realm, st, last), nil
			}
			out, last = append(out, a), it
		}
		start = res.LastEvaluatedKey
		if len(start) == 0 {
			idx++
		}
		if len(out) == limit {
			if idx == len(statuses) {
				return out, "", nil
			}
			return out, encodeCursor(f.Fingerprint, q.Realm, statuses[idx], start), nil
		}
	}
	return out, "", nil
}
