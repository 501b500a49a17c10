// Package dynamo is the DynamoDB implementation of the store ports, on one
// table with a GSI (see TableDefinition):
//
//	account           PK=ACCT#<realm>#<id>            SK=PROFILE          GSI1PK=LIST#<realm>#<status>  GSI1SK=<created>#<id>
//	                  first_name_lc, last_name_lc (for ListAccounts' prefix filter), history (list of maps)
//	identifier claim  PK=IDENT#<realm>#<kind>#<value>  SK=CLAIM            account_id
//	session           PK=ACCT#<realm>#<account id>     SK=SESSION#<key>    expires_at (TTL)
//	one-time code     PK=ACCT#<realm>#<account id>     SK=CODE#<purpose>   expires_at (TTL)
//	throttle counter  PK=THROTTLE#<key>                SK=COUNTER          n, ends, expires_at (TTL)
//	outbox message    PK=OUTBOX                        SK=<sent nanos, 20 digits>#<id>  expires_at (TTL)
//	security event    PK=ACCT#<realm>#<account id>, or EVENTS#<UTC day> without one
//	                  SK=EVENT#<nanos, 20 digits>#<id>  GSI1PK=EVENTS#<UTC day>  GSI1SK=<nanos>#<id>  expires_at (TTL)
//	event day marker  PK=EVENTDAYS                     SK=<yyyy-mm-dd>     expires_at (TTL)
//	admin roster      PK=ROSTER                        SK=ADMINS           v (no item: version 0)
//
// (events.go explains the events' layout and queries; list.go the
// account listing's filters and cursor.)
//
// Sessions and codes live in their account's partition so that listing or
// ending the sessions is one strongly consistent Query, and so that a code
// can be redeemed in the same transaction as the account write. TTL only
// cleans up: every expiry that matters is checked on read.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Store keeps accounts, identifier claims, sessions, one-time codes,
// throttle counters and the local outbox in one DynamoDB table.
type Store struct {
	api   API
	table *string
	days  *dayMarks // the event day markers written (events.go)
}

var (
	_ account.Store  = (*Store)(nil)
	_ session.Store  = (*Store)(nil)
	_ throttle.Store = (*Store)(nil)
	_ code.Store     = (*Store)(nil)
	_ outbox.Store   = (*Store)(nil)
	_ contact.Store  = (*Store)(nil)
	_ reset.Store    = (*Store)(nil)
	_ audit.Store    = (*Store)(nil)
)

// New returns a store on table, talking through api (usually a *dynamodb.Client).
func New(api API, table string) *Store {
	return &Store{api: outcomes{api}, table: aws.String(table), days: newDayMarks()}
}

// maxTransactItems is DynamoDB's limit of items in one TransactWriteItems.
const maxTransactItems = 100

// defaultListLimit is the page size when ListQuery.Limit is not set.
const defaultListLimit = 50

// unavailable wraps any error that is not a decided outcome:
// store.ErrOutcomeUnknown when it is a write's that may have been applied
// (outcome.go), else store.ErrUnavailable. The SDK error is kept as text
// only: callers must not depend on it.
func unavailable(ctx context.Context, op string, err error) error {
	kind := store.ErrUnavailable
	var unknown *unknownOutcome
	if errors.As(err, &unknown) {
		kind = store.ErrOutcomeUnknown
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: dynamodb %s: %w", kind, op, ctxErr)
	}
	return fmt.Errorf("%w: dynamodb %s: %v", kind, op, err)
}

// conditionFailed maps a failed "exists and unchanged" condition: the old
// item (ALL_OLD) tells a changed item from a missing one.
func conditionFailed(old map[string]types.AttributeValue) error {
	if len(old) == 0 {
		return store.ErrNotFound
	}
	return store.ErrConflict
}

// conditionalWrite is the result of a single write whose condition is
// "exists and unchanged": nil, ErrNotFound, ErrConflict or ErrUnavailable.
func conditionalWrite(ctx context.Context, op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return conditionFailed(ccf.Item)
	default:
		return unavailable(ctx, op, err)
	}
}

// putNew writes an item that must not exist yet: ErrConflict if it does.
func (s *Store) putNew(ctx context.Context, op string, it map[string]types.AttributeValue) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           s.table,
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return store.ErrConflict
	default:
		return unavailable(ctx, op, err)
	}
}

// transact runs a transaction. A cancellation caused by a condition is
// reported through onCondition with the index and old item of the failed
// operation. A cancellation only because another transaction held an item is
// retried a few times; if it keeps losing, the caller lost a race: ErrConflict.
func (s *Store) transact(ctx context.Context, op string, items []types.TransactWriteItem, onCondition func(i int, old map[string]types.AttributeValue) error) error {
	const attempts = 4
	for attempt := 1; ; attempt++ {
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return unavailable(ctx, op, err)
		}
		busy := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "", "None":
			case "ConditionalCheckFailed":
				return onCondition(i, r.Item)
			case "TransactionConflict":
				busy = true
			default:
				return unavailable(ctx, op, err)
			}
		}
		if !busy {
			return unavailable(ctx, op, err)
		}
		if attempt == attempts {
			return store.ErrConflict
		}
		select {
		case <-ctx.Done():
			return unavailable(ctx, op, ctx.Err())
		case <-time.After(time.Duration(attempt*10+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// CreateAccount implements account.Store: the account and its identifier
// claims are written in one transaction, each on condition it is new.
func (s *Store) CreateAccount(ctx context.Context, a account.Account) error {
	a.Version = 1
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: s.table, Item: accountItem(a), ConditionExpression: notExists,
	}}}
	for _, id := range a.Identifiers() {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: s.table, Item: claimItem(a.Realm, id, a.ID), ConditionExpression: notExists,
		}})
	}
	return s.transact(ctx, "CreateAccount", items, func(int, map[string]types.AttributeValue) error {
		return store.ErrConflict
	})
}

// GetAccount implements account.Store.
func (s *Store) GetAccount(ctx context.Context, realm account.Realm, id string) (account.Account, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(accountPK(realm, id), skProfile), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return account.Account{}, unavailable(ctx, "GetAccount", err)
	}
	if len(out.Item) == 0 {
		return account.Account{}, store.ErrNotFound
	}
	return accountFrom(out.Item), nil
}

// LookupIdentifier implements account.Store. The read is strongly
// consistent, so an account can log in right after it registers.
func (s *Store) LookupIdentifier(ctx context.Context, realm account.Realm, id account.Identifier) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(claimPK(realm, id), skClaim), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", unavailable(ctx, "LookupIdentifier", err)
	}
	if len(out.Item) == 0 {
		return "", store.ErrNotFound
	}
	return item(out.Item).getS("account_id"), nil
}

// versionCondition holds when the stored account exists with a.Version.
const versionCondition = "attribute_exists(PK) AND version = :v"

func versionValues(a account.Account) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":v": num(a.Version)}
}

// UpdateAccount implements account.Store.
func (s *Store) UpdateAccount(ctx context.Context, a account.Account) error {
	next := a
	next.Version++
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                accountItem(next),
		ConditionExpression:                 aws.String(versionCondition),
		ExpressionAttributeValues:           versionValues(a),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "UpdateAccount", err)
}

// UpdateAccountEndSessions implements account.Store: the account update (with
// its new session epoch) and the session deletions are one transaction (see
// writeAccount for accounts with more sessions than fit in one). A session
// written after the sessions are read survives as an item, refused by the
// epoch.
func (s *Store) UpdateAccountEndSessions(ctx context.Context, a account.Account) (int, error) {
	return s.updateEndSessions(ctx, "UpdateAccountEndSessions", a, nil, nil)
}

// UpdateAccountEndSessionsExcept implements account.Store as
// UpdateAccountEndSessions does, re-stamping the sessions keyed in keep.
func (s *Store) UpdateAccountEndSessionsExcept(ctx context.Context, a account.Account, keep []string) (int, error) {
	return s.updateEndSessions(ctx, "UpdateAccountEndSessionsExcept", a, keep, nil)
}

// updateEndSessions writes a (with code, when not nil, redeemed) and ends
// its sessions but keep, as writeAccount does; it returns how many ended.
func (s *Store) updateEndSessions(ctx context.Context, op string, a account.Account, keep []string, r *code.Record) (int, error) {
	w := accountWrite{code: r}
	if err := s.readSessions(ctx, op, a, keep, &w); err != nil {
		return 0, err
	}
	if err := s.writeAccount(ctx, op, a, w); err != nil {
		return 0, err
	}
	return len(w.end), nil
}

// readSessions sets w to end every session of a but those keyed in keep.
func (s *Store) readSessions(ctx context.Context, op string, a account.Account, keep []string, w *accountWrite) error {
	keys, err := s.sessionKeys(ctx, op, a.Realm, a.ID)
	if err != nil {
		return err
	}
	w.endSessions = true
	for _, k := range keys {
		if slices.Contains(keep, strings.TrimPrefix(item(k).getS(attrSK), skSessionPrefix)) {
			w.keep = append(w.keep, k)
		} else {
			w.end = append(w.end, k)
		}
	}
	return nil
}

// Roster implements account.Store with one strongly consistent GetItem of
// the roster item (PK=ROSTER, SK=ADMINS, v); no item is version 0.
func (s *Store) Roster(ctx context.Context) (int64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(pkRoster, skRoster), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, unavailable(ctx, "Roster", err)
	}
	return item(out.Item).getN("v"), nil
}

// UpdateAdmin implements account.Store: the account put (on its version),
// the roster update (v from roster to roster+1, on condition it is still
// roster; version 0 also when the item does not exist yet) and, when
// endSessions, the deletion of the admin's sessions are one transaction,
// except that more than 98 sessions are handled as writeAccount says.
func (s *Store) UpdateAdmin(ctx context.Context, a account.Account, roster int64, endSessions bool) (int, error) {
	w := accountWrite{roster: &roster}
	if endSessions {
		if err := s.readSessions(ctx, "UpdateAdmin", a, nil, &w); err != nil {
			return 0, err
		}
	}
	if err := s.writeAccount(ctx, "UpdateAdmin", a, w); err != nil {
		return 0, err
	}
	return len(w.end), nil
}

// accountWrite is what writeAccount changes together with the account.
type accountWrite struct {
	// code, when not nil, is deleted on condition codeRedeemable: still
	// code.ID in state code.State, its tries within the limit.
	code *code.Record
	// roster, when not nil, is the roster version moved to the next one.
	roster *int64
	// endSessions starts a new session epoch on the account (its new
	// version): the sessions keyed in keep are re-stamped with it (on
	// condition they still exist), those keyed in end are deleted.
	endSessions bool
	keep, end   []map[string]types.AttributeValue
	// drop are other items of the account deleted with it (its second
	// factors and their passkey claims); enrollment, when not nil, is its
	// second factor's enrollment, deleted on condition of its version.
	drop       []map[string]types.AttributeValue
	enrollment *mfa.Enrollment
}

// writeAccount stores a with its version bumped, on condition the stored
// account is still a.Version, together with w's changes, in one
// transaction. Sessions to delete beyond what fits in a transaction (100
// items) are first deleted in batches, after consistent reads have checked
// the account's version, the code and the roster; only that surplus can be
// lost to a race with another write. A failed condition of the account or
// the code is ErrNotFound when its item is gone and ErrConflict when it
// changed; of the roster or a kept session, ErrConflict.
func (s *Store) writeAccount(ctx context.Context, op string, a account.Account, w accountWrite) error {
	room := maxTransactItems - 1 - len(w.keep)
	if w.code != nil {
		room--
	}
	if w.roster != nil {
		room--
	}
	if w.enrollment != nil {
		room--
	}
	end := append(slices.Clone(w.drop), w.end...)
	if surplus := len(end) - room; surplus > 0 {
		if err := s.checkBeforeSurplus(ctx, a, w); err != nil {
			return err
		}
		if err := s.batchDelete(ctx, op, end[:surplus]); err != nil {
			return err
		}
		end = end[surplus:]
	}
	next := a
	next.Version++
	if w.endSessions {
		next.SessionEpoch = next.Version
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName:                           s.table,
		Item:                                accountItem(next),
		ConditionExpression:                 aws.String(versionCondition),
		ExpressionAttributeValues:           versionValues(a),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	if r := w.code; r != nil {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                           s.table,
			Key:                                 codeKey(r.Realm, r.AccountID, r.Purpose),
			ConditionExpression:                 aws.String(codeRedeemable),
			ExpressionAttributeValues:           codeRedeemableValues(*r),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	rosterAt := -1
	if w.roster != nil {
		rosterAt = len(items)
		cond := "v = :cur"
		if *w.roster == 0 {
			cond = "attribute_not_exists(PK) OR v = :cur"
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 s.table,
			Key:                       key(pkRoster, skRoster),
			UpdateExpression:          aws.String("SET v = :next"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: map[string]types.AttributeValue{":cur": num(*w.roster), ":next": num(*w.roster + 1)},
		}})
	}
	enrollmentAt := -1
	if w.enrollment != nil {
		enrollmentAt = len(items)
		items = append(items, s.deleteEnrollment(*w.enrollment))
	}
	keptFrom := len(items)
	for _, k := range w.keep {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 s.table,
			Key:                       k,
			UpdateExpression:          aws.String("SET " + attrEpoch + " = :e"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": num(next.SessionEpoch)},
		}})
	}
	for _, k := range end {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.table, Key: k}})
	}
	// Only the account, the code, the roster, the enrollment and the kept
	// sessions carry conditions.
	return s.transact(ctx, op, items, func(i int, old map[string]types.AttributeValue) error {
		if i == rosterAt || i == enrollmentAt || i >= keptFrom {
			return store.ErrConflict
		}
		return conditionFailed(old)
	})
}

// checkBeforeSurplus reads (strongly consistent) what writeAccount's
// transaction will check, before sessions are deleted outside it.
func (s *Store) checkBeforeSurplus(ctx context.Context, a account.Account, w accountWrite) error {
	cur, err := s.GetAccount(ctx, a.Realm, a.ID)
	if err != nil {
		return err
	}
	if cur.Version != a.Version {
		return store.ErrConflict
	}
	if r := w.code; r != nil {
		c, err := s.GetCode(ctx, r.Realm, r.AccountID, r.Purpose)
		if err != nil {
			return err
		}
		if c.ID != r.ID || c.State != r.State || c.Attempts > code.MaxAttempts {
			return store.ErrConflict
		}
	}
	if w.roster != nil {
		v, err := s.Roster(ctx)
		if err != nil {
			return err
		}
		if v != *w.roster {
			return store.ErrConflict
		}
	}
	if e := w.enrollment; e != nil {
		cur, _, err := s.Factors(ctx, e.Realm, e.AccountID)
		if err != nil {
			return err
		}
		if cur.Version != e.Version {
			return store.ErrConflict
		}
	}
	return nil
}
