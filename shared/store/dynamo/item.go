package dynamo

// Items are mapped by hand (the item type's setters and getters below), not
// with attributevalue (aws-sdk-go-v2/feature/dynamodb/attributevalue),
// because it would not read better. The domain types carry no storage tags
// (they know nothing of DynamoDB), so it would need a tagged record per item
// and the same field-by-field copy into it; times would still be converted
// here, to keep Unix nanoseconds (its default is an RFC 3339 string) and
// TTLs rounded up; the derived attributes (GSI keys, lower-cased names) stay
// hand-made; and the code, counter, outbox and event items would keep this
// mapping or move too. It would cost little. Measured with the account and
// session items through MarshalMap/UnmarshalMap (the very same items):
// bootstraps as `make build` makes them grew by 64–128 KiB (code and tables
// +116 KB, 0.7–0.9 %; zipped +39–43 KB); init by 0.04–0.05 ms and 52 KB of
// allocations (dynamodbstreams/schemas, which it links; linux/amd64,
// GODEBUG=inittrace=1, 40 runs, within the run-to-run noise of the whole
// init); the first call in a process by 40–110 µs (type caches); per item,
// writing an account 4.4 → 6.8 µs and reading one 0.6 → 3.2 µs, a session
// 0.9 → 2.4 µs and 0.3 → 1.2 µs (medians of 5, 2 shared cores).

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/throttle"
)

// Attribute names of the table's keys and of the TTL attribute.
const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrGSI1PK  = "GSI1PK"
	attrGSI1SK  = "GSI1SK"
	attrExpires = "expires_at"
	// attrEpoch is a session's epoch (session.Session.Epoch).
	attrEpoch = "epoch"

	// Lower-cased names on account items, for ListAccounts' prefix filter.
	attrFirstNameLC = "first_name_lc"
	attrLastNameLC  = "last_name_lc"

	// IndexGSI1 is the name of the table's one global secondary index.
	IndexGSI1 = "GSI1"

	skProfile       = "PROFILE"
	skClaim         = "CLAIM"
	skSessionPrefix = "SESSION#"
	skCodePrefix    = "CODE#"
	skCounter       = "COUNTER"
	pkOutboxPrefix  = "OUTBOX#"
	pkRoster        = "ROSTER"
	skRoster        = "ADMINS"
)

func accountPK(realm account.Realm, id string) string { return "ACCT#" + string(realm) + "#" + id }

func claimPK(realm account.Realm, id account.Identifier) string {
	// The value is the last segment, so a '#' inside an email cannot be
	// confused with a separator.
	return "IDENT#" + string(realm) + "#" + string(id.Kind) + "#" + id.Value
}

func throttlePK(k string) string { return "THROTTLE#" + k }

func listPK(realm account.Realm, status account.Status) string {
	return "LIST#" + string(realm) + "#" + string(status)
}

// sortableTime is fixed-width, so string order is time order (for years 0-9999).
const sortableTime = "2006-01-02T15:04:05.000000000Z"

func listSK(a account.Account) string {
	return a.CreatedAt.UTC().Format(sortableTime) + "#" + a.ID
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// item builds an attribute map, leaving out empty values so items stay small
// and absent fields read back as zero values.
type item map[string]types.AttributeValue

func (it item) s(name, v string) {
	if v != "" {
		it[name] = str(v)
	}
}

func (it item) b(name string, v bool) {
	if v {
		it[name] = &types.AttributeValueMemberBOOL{Value: true}
	}
}

func (it item) n(name string, v int64) { it[name] = num(v) }

// t stores a time as Unix nanoseconds, so it round-trips exactly; the zero
// time (outside int64 nanoseconds) is left out.
func (it item) t(name string, v time.Time) {
	if !v.IsZero() {
		it[name] = num(v.UnixNano())
	}
}

// ttl sets the TTL attribute to t in epoch seconds, rounded up so DynamoDB
// never removes an item before t. TTL only cleans up: every expiry that
// matters is checked on read from a nanosecond attribute.
func (it item) ttl(t time.Time) {
	if t.IsZero() {
		return
	}
	secs := t.Unix()
	if t.Nanosecond() > 0 {
		secs++
	}
	it.n(attrExpires, secs)
}

func (it item) list(name string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = str(s)
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}

func (it item) getS(name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (it item) getB(name string) bool {
	v, ok := it[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func (it item) getN(name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func (it item) getT(name string) time.Time {
	if _, ok := it[name]; !ok {
		return time.Time{}
	}
	return time.Unix(0, it.getN(name)).UTC()
}

func (it item) getList(name string) []string {
	v, ok := it[name].(*types.AttributeValueMemberL)
	if !ok || len(v.Value) == 0 {
		return nil
	}
	out := make([]string, 0, len(v.Value))
	for _, e := range v.Value {
		if s, ok := e.(*types.AttributeValueMemberS); ok {
			out = append(out, s.Value)
		}
	}
	return out
}

func accountItem(a account.Account) item {
	it := item{
		attrPK:     str(accountPK(a.Realm, a.ID)),
		attrSK:     str(skProfile),
		attrGSI1PK: str(listPK(a.Realm, a.Status)),
		attrGSI1SK: str(listSK(a)),
	}
	it.s("realm", string(a.Realm))
	it.s("id", a.ID)
	it.s("status", string(a.Status))
	it.s("email", a.Email)
	it.b("email_verified", a.EmailVerified)
	it.s("language", a.Language)
	it.s("first_name", a.FirstName)
	it.s("last_name", a.LastName)
	it.s(attrFirstNameLC, strings.ToLower(a.FirstName)) // for ListAccounts' prefix filter
	it.s(attrLastNameLC, strings.ToLower(a.LastName))
	it.s("phone", a.Phone)
	it.b("phone_verified", a.PhoneVerified)
	it.s("barangay", a.Barangay)
	it.s("username", a.Username)
	it.s("full_name", a.FullName)
	it.s("role", string(a.Role))
	it.list("barangays", a.Barangays)
	it.s("password_hash", a.PasswordHash)
	it.history(a.History)
	it.t("created_at", a.CreatedAt)
	it.t("updated_at", a.UpdatedAt)
	it.n("version", a.Version)
	it.n("session_epoch", a.SessionEpoch)
	return it
}

func accountFrom(it item) account.Account {
	return account.Account{
		Realm:         account.Realm(it.getS("realm")),
		ID:            it.getS("id"),
		Status:        account.Status(it.getS("status")),
		Email:         it.getS("email"),
		EmailVerified: it.getB("email_verified"),
		Language:      it.getS("language"),
		FirstName:     it.getS("first_name"),
		LastName:      it.getS("last_name"),
		Phone:         it.getS("phone"),
		PhoneVerified: it.getB("phone_verified"),
		Barangay:      it.getS("barangay"),
		Username:      it.getS("username"),
		FullName:      it.getS("full_name"),
		Role:          account.Role(it.getS("role")),
		Barangays:     it.getList("barangays"),
		PasswordHash:  it.getS("password_hash"),
		History:       it.getHistory(),
		CreatedAt:     it.getT("created_at"),
		UpdatedAt:     it.getT("updated_at"),
		Version:       it.getN("version"),
		SessionEpoch:  it.getN("session_epoch"),
	}
}

// history stores status changes as the list "history" of maps (at: Unix
// nanoseconds; by, from, to, reason: strings, left out when empty); no
// changes, no attribute.
func (it item) history(h []account.StatusChange) {
	if len(h) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(h))
	for i, c := range h {
		m := item{}
		m.t("at", c.At)
		m.s("by", c.By)
		m.s("from", string(c.From))
		m.s("to", string(c.To))
		m.s("reason", c.Reason)
		l[i] = &types.AttributeValueMemberM{Value: m}
	}
	it["history"] = &types.AttributeValueMemberL{Value: l}
}

func (it item) getHistory() []account.StatusChange {
	v, ok := it["history"].(*types.AttributeValueMemberL)
	if !ok || len(v.Value) == 0 {
		return nil
	}
	out := make([]account.StatusChange, 0, len(v.Value))
	for _, e := range v.Value {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		c := item(m.Value)
		out = append(out, account.StatusChange{
			At:     c.getT("at"),
			By:     c.getS("by"),
			From:   account.Status(c.getS("from")),
			To:     account.Status(c.getS("to")),
			Reason: c.getS("reason"),
		})
	}
	return out
}

func claimItem(realm account.Realm, id account.Identifier, accountID string) item {
	it := item{attrPK: str(claimPK(realm, id)), attrSK: str(skClaim)}
	it.s("account_id", accountID)
	return it
}

func sessionKey(realm account.Realm, accountID, k string) map[string]types.AttributeValue {
	return key(accountPK(realm, accountID), skSessionPrefix+k)
}

func sessionItem(s session.Session) item {
	it := item{
		attrPK: str(accountPK(s.Realm, s.AccountID)),
		attrSK: str(skSessionPrefix + s.Key),
	}
	it.s("realm", string(s.Realm))
	it.s("account_id", s.AccountID)
	it.s("key", s.Key)
	it.t("created_at", s.CreatedAt)
	it.t("last_seen_at", s.LastSeenAt)
	it.t("idle_expires_at", s.IdleExpiresAt)
	it.t("session_expires_at", s.ExpiresAt)
	it.s("ip", s.IP)
	it.s("user_agent", s.UserAgent)
	it.n(attrEpoch, s.Epoch)
	it.s(attrSecondFactor, s.SecondFactor)
	it.t(attrAuthenticatedAt, s.AuthenticatedAt)
	it.ttl(s.ExpiresAt) // expiry is checked on read from session_expires_at
	return it
}

func sessionFrom(it item) session.Session {
	return session.Session{
		Realm:         account.Realm(it.getS("realm")),
		AccountID:     it.getS("account_id"),
		Key:           it.getS("key"),
		CreatedAt:     it.getT("created_at"),
		LastSeenAt:    it.getT("last_seen_at"),
		IdleExpiresAt: it.getT("idle_expires_at"),
		ExpiresAt:     it.getT("session_expires_at"),
		IP:            it.getS("ip"),
		UserAgent:     it.getS("user_agent"),
		Epoch:         it.getN(attrEpoch),

		SecondFactor:    it.getS(attrSecondFactor),
		AuthenticatedAt: it.getT(attrAuthenticatedAt),
	}
}

func codeKey(realm account.Realm, accountID string, p code.Purpose) map[string]types.AttributeValue {
	return key(accountPK(realm, accountID), skCodePrefix+string(p))
}

// codeItem is a code in its account's partition. code_id and code_state
// are always present (even empty), as the conditions compare them.
func codeItem(r code.Record) item {
	it := item{
		attrPK:       str(accountPK(r.Realm, r.AccountID)),
		attrSK:       str(skCodePrefix + string(r.Purpose)),
		"code_id":    str(r.ID),
		"code_state": str(string(r.State)),
	}
	it.s("realm", string(r.Realm))
	it.s("account_id", r.AccountID)
	it.s("purpose", string(r.Purpose))
	it.s("mac", r.MAC)
	it.n("attempts", int64(r.Attempts))
	it.t("created_at", r.CreatedAt)
	it.t("code_expires_at", r.ExpiresAt)
	it.ttl(r.ExpiresAt)
	return it
}

func codeFrom(it item) code.Record {
	return code.Record{
		Realm:     account.Realm(it.getS("realm")),
		AccountID: it.getS("account_id"),
		Purpose:   code.Purpose(it.getS("purpose")),
		ID:        it.getS("code_id"),
		MAC:       it.getS("mac"),
		Attempts:  int(it.getN("attempts")),
		State:     code.State(it.getS("code_state")),
		CreatedAt: it.getT("created_at"),
		ExpiresAt: it.getT("code_expires_at"),
	}
}

// messagePK is the partition of the messages created on t's UTC day: one
// per day, so the outbox spreads over partitions and a listing reads only
// the days it covers.
func messagePK(t time.Time) string { return pkOutboxPrefix + t.UTC().Format("2006-01-02") }

// messageKey is the key of message id (the id carries its creation time);
// false for a string that is no message id.
func messageKey(id string) (map[string]types.AttributeValue, bool) {
	created, ok := outbox.CreatedAtOf(id)
	if !ok {
		return nil, false
	}
	return key(messagePK(created), id), true
}

// messageItem is a message in its day's partition, keyed by its id.
// msg_state and attempts are always present, as the conditions compare
// them. The charges are a list of maps (key: the counter's key; ends: its
// window's end in Unix nanoseconds).
func messageItem(m outbox.Message) item {
	it := item{
		attrPK:      str(messagePK(m.CreatedAt)),
		attrSK:      str(m.ID),
		"msg_state": str(string(m.State)),
		"attempts":  num(int64(m.Attempts)),
		"sealed":    &types.AttributeValueMemberB{Value: m.Sealed},
	}
	it.s("kind", string(m.Kind))
	it.s("channel", string(m.Channel))
	it.t("created_at", m.CreatedAt)
	it.t("updated_at", m.UpdatedAt)
	it.s("last_error", m.LastError)
	it.s("realm", string(m.Realm))
	it.s("account_id", m.AccountID)
	if len(m.Charges) > 0 {
		l := make([]types.AttributeValue, len(m.Charges))
		for i, c := range m.Charges {
			ch := item{}
			ch.s("key", c.Key)
			ch.t("ends", c.Ends)
			l[i] = &types.AttributeValueMemberM{Value: ch}
		}
		it["charges"] = &types.AttributeValueMemberL{Value: l}
	}
	it.ttl(m.ExpiresAt())
	return it
}

func messageFrom(it item) outbox.Message {
	m := outbox.Message{
		ID:        it.getS(attrSK),
		Kind:      notify.Kind(it.getS("kind")),
		Channel:   notify.Channel(it.getS("channel")),
		State:     outbox.State(it.getS("msg_state")),
		Attempts:  int(it.getN("attempts")),
		CreatedAt: it.getT("created_at"),
		UpdatedAt: it.getT("updated_at"),
		LastError: it.getS("last_error"),
		Realm:     account.Realm(it.getS("realm")),
		AccountID: it.getS("account_id"),
	}
	if b, ok := it["sealed"].(*types.AttributeValueMemberB); ok {
		m.Sealed = b.Value
	}
	if l, ok := it["charges"].(*types.AttributeValueMemberL); ok {
		for _, e := range l.Value {
			if c, ok := e.(*types.AttributeValueMemberM); ok {
				m.Charges = append(m.Charges, throttle.Charge{Key: item(c.Value).getS("key"), Ends: item(c.Value).getT("ends")})
			}
		}
	}
	return m
}
