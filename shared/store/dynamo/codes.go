package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
)

// codeRedeemable holds when the stored code is still the one a record
// names, in the state the record has, with its tries within the limit (the
// redeeming try is counted before the code is compared, so MaxAttempts
// itself is within). Every redemption of a code carries it.
const codeRedeemable = "code_id = :id AND code_state = :state AND attempts <= :max"

func codeRedeemableValues(r code.Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":id": str(r.ID), ":state": str(string(r.State)), ":max": num(code.MaxAttempts)}
}

// PutCode implements code.Store: the code's put (replacing any earlier
// one) and the message's (on condition its id is new) are one transaction.
func (s *Store) PutCode(ctx context.Context, r code.Record, m outbox.Message) error {
	return s.transact(ctx, "PutCode", []types.TransactWriteItem{
		{Put: &types.Put{TableName: s.table, Item: codeItem(r)}},
		{Put: &types.Put{TableName: s.table, Item: messageItem(m), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}, func(int, map[string]types.AttributeValue) error { return store.ErrConflict })
}

// GetCode implements code.Store. The read is strongly consistent. A code
// past its expiry that TTL has not removed yet is returned as it is: the
// caller checks ExpiresAt.
func (s *Store) GetCode(ctx context.Context, realm account.Realm, accountID string, p code.Purpose) (code.Record, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: codeKey(realm, accountID, p), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return code.Record{}, unavailable(ctx, "GetCode", err)
	}
	if len(out.Item) == 0 {
		return code.Record{}, store.ErrNotFound
	}
	return codeFrom(out.Item), nil
}

// ReserveAttempt implements code.Store with one conditional update.
func (s *Store) ReserveAttempt(ctx context.Context, r code.Record) (int, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 codeKey(r.Realm, r.AccountID, r.Purpose),
		UpdateExpression:    aws.String("SET attempts = attempts + :one"),
		ConditionExpression: aws.String("code_id = :id AND code_state = :pending AND attempts < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":id": str(r.ID), ":pending": str(string(code.Pending)), ":max": num(code.MaxAttempts),
		},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err := conditionalWrite(ctx, "ReserveAttempt", err); err != nil {
		return 0, err
	}
	return int(item(out.Attributes).getN("attempts")), nil
}

// MarkCodeVerified implements code.Store.
func (s *Store) MarkCodeVerified(ctx context.Context, r code.Record, expires time.Time) error {
	if expires.IsZero() {
		return errors.New("dynamo: MarkCodeVerified needs a non-zero expiry")
	}
	vals := item{
		":id":       str(r.ID),
		":pending":  str(string(code.Pending)),
		":max":      num(code.MaxAttempts),
		":verified": str(string(code.Verified)),
		":exp":      num(expires.UnixNano()),
	}
	ttl := item{}
	ttl.ttl(expires)
	vals[":ttl"] = ttl[attrExpires]
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 codeKey(r.Realm, r.AccountID, r.Purpose),
		UpdateExpression:                    aws.String("SET code_state = :verified, code_expires_at = :exp, expires_at = :ttl"),
		ConditionExpression:                 aws.String("code_id = :id AND code_state = :pending AND attempts <= :max"),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "MarkCodeVerified", err)
}

// VerifyContact implements contact.Store: the account put and the code
// deletion (on codeRedeemable) are one transaction. A failed condition is
// ErrNotFound when the account or the code is gone, ErrConflict when either
// changed or the code's tries are past the limit.
func (s *Store) VerifyContact(ctx context.Context, a account.Account, r code.Record) error {
	return s.writeAccount(ctx, "VerifyContact", a, accountWrite{code: &r})
}

// ResetPassword implements reset.Store: the account put (with its new
// session epoch), the code deletion, the re-stamping of the kept sessions
// and the other sessions' deletions are one transaction, except that an
// account with more sessions to end than fit has the surplus deleted first,
// after the account's version and the code have been checked (as
// UpdateAccountEndSessions does). Errors as VerifyContact.
func (s *Store) ResetPassword(ctx context.Context, a account.Account, r code.Record, keep []string) (int, error) {
	return s.updateEndSessions(ctx, "ResetPassword", a, keep, &r)
}
