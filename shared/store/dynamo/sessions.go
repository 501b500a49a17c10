package dynamo

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

// CreateSession implements session.Store.
func (s *Store) CreateSession(ctx context.Context, ss session.Session) error {
	return s.putNew(ctx, "CreateSession", sessionItem(ss))
}

// ReplaceSession implements session.Store: one transaction puts the new
// session (on condition it is new) and deletes the old one.
func (s *Store) ReplaceSession(ctx context.Context, ss session.Session, oldAccountID, oldKey string) error {
	return s.transact(ctx, "ReplaceSession", []types.TransactWriteItem{
		{Put: &types.Put{TableName: s.table, Item: sessionItem(ss), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Delete: &types.Delete{TableName: s.table, Key: sessionKey(ss.Realm, oldAccountID, oldKey)}},
	}, func(int, map[string]types.AttributeValue) error { return store.ErrConflict })
}

// GetSession implements session.Store: the session and its account come
// from one strongly consistent BatchGetItem, so an authenticated request
// costs one read (more only when DynamoDB returns keys unprocessed).
func (s *Store) GetSession(ctx context.Context, realm account.Realm, accountID, k string) (session.Session, account.Account, error) {
	pending := map[string]types.KeysAndAttributes{*s.table: {
		Keys:           []map[string]types.AttributeValue{sessionKey(realm, accountID, k), key(accountPK(realm, accountID), skProfile)},
		ConsistentRead: aws.Bool(true),
	}}
	var sess, acct item
	for round := 1; len(pending) > 0; round++ {
		if err := s.backoff(ctx, "GetSession", round); err != nil {
			return session.Session{}, account.Account{}, err
		}
		out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return session.Session{}, account.Account{}, unavailable(ctx, "GetSession", err)
		}
		for _, it := range out.Responses[*s.table] {
			if item(it).getS(attrSK) == skProfile {
				acct = it
			} else {
				sess = it
			}
		}
		pending = out.UnprocessedKeys
	}
	if sess == nil || acct == nil {
		return session.Session{}, account.Account{}, store.ErrNotFound
	}
	return sessionFrom(sess), accountFrom(acct), nil
}

// backoff waits before round (from 2 on) of resending what DynamoDB left
// unprocessed, and gives up after maxRounds.
func (s *Store) backoff(ctx context.Context, op string, round int) error {
	const maxRounds = 8
	switch {
	case round == 1:
		return nil
	case round > maxRounds:
		return unavailable(ctx, op, errors.New("DynamoDB kept leaving items unprocessed"))
	}
	select {
	case <-ctx.Done():
		return unavailable(ctx, op, ctx.Err())
	case <-time.After(time.Duration(round*round) * 10 * time.Millisecond):
		return nil
	}
}

// TouchSession implements session.Store.
func (s *Store) TouchSession(ctx context.Context, ss session.Session, lastSeen, idleExpires time.Time) error {
	set := item{}
	set.t(":ls", lastSeen)
	set.t(":ie", idleExpires)
	if len(set) != 2 {
		return errors.New("dynamo: TouchSession needs non-zero lastSeen and idleExpires")
	}
	cond := "attribute_exists(PK) AND idle_expires_at = :old"
	if ss.IdleExpiresAt.IsZero() {
		cond = "attribute_exists(PK) AND attribute_not_exists(idle_expires_at)"
	} else {
		set.t(":old", ss.IdleExpiresAt)
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 sessionKey(ss.Realm, ss.AccountID, ss.Key),
		UpdateExpression:                    aws.String("SET last_seen_at = :ls, idle_expires_at = :ie"),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeValues:           set,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "TouchSession", err)
}

// DeleteSession implements session.Store.
func (s *Store) DeleteSession(ctx context.Context, realm account.Realm, accountID, k string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: s.table, Key: sessionKey(realm, accountID, k),
	})
	if err != nil {
		return unavailable(ctx, "DeleteSession", err)
	}
	return nil
}

// querySessions reads every session item of an account (strongly
// consistent), optionally only the given attributes.
func (s *Store) querySessions(ctx context.Context, op string, realm account.Realm, accountID string, projection *string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(realm, accountID)),
			":sk": str(skSessionPrefix),
		},
		ProjectionExpression: projection,
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, unavailable(ctx, op, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// sessionKeys returns the primary keys of every session of an account.
func (s *Store) sessionKeys(ctx context.Context, op string, realm account.Realm, accountID string) ([]map[string]types.AttributeValue, error) {
	return s.querySessions(ctx, op, realm, accountID, aws.String("PK, SK"))
}

// ListSessions implements session.Store. Sessions are stored by key, so the
// oldest-first order is made here.
func (s *Store) ListSessions(ctx context.Context, realm account.Realm, accountID string) ([]session.Session, error) {
	items, err := s.querySessions(ctx, "ListSessions", realm, accountID, nil)
	if err != nil {
		return nil, err
	}
	out := make([]session.Session, len(items))
	for i, it := range items {
		out[i] = sessionFrom(it)
	}
	slices.SortFunc(out, func(a, b session.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// EndSessions implements session.Store: a consistent read of the account
// and a Query for the session keys, then one transaction as
// UpdateAccountEndSessionsExcept writes it (the account unchanged but for
// its version and epoch). A concurrent change of the account is retried a
// few times with a fresh read.
func (s *Store) EndSessions(ctx context.Context, realm account.Realm, accountID string, keep []string) (int, error) {
	const attempts = 4
	for attempt := 1; ; attempt++ {
		a, err := s.GetAccount(ctx, realm, accountID)
		if err != nil {
			return 0, err
		}
		n, err := s.updateEndSessions(ctx, "EndSessions", a, keep, nil)
		if !errors.Is(err, store.ErrConflict) || attempt == attempts {
			return n, err
		}
	}
}

// batchDelete deletes items by key, 25 per BatchWriteItem (DynamoDB's
// limit), resending whatever DynamoDB leaves unprocessed under throttling.
func (s *Store) batchDelete(ctx context.Context, op string, keys []map[string]types.AttributeValue) error {
	const batchSize = 25
	for chunk := range slices.Chunk(keys, batchSize) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		pending := map[string][]types.WriteRequest{*s.table: reqs}
		for round := 1; len(pending) > 0; round++ {
			if err := s.backoff(ctx, op, round); err != nil {
				return err
			}
			out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return unavailable(ctx, op, err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
