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
	"github.com/ekolek/identity/shared/store"
)

// codeIsCondition holds when the stored code is still the one a record
// names, in the state the record has.
const codeIsCondition = "code_id = :id AND code_state = :state"

func codeIsValues(r code.Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":id": str(r.ID), ":state": str(string(r.State))}
}

// PutCode implements code.Store.
func (s *Store) PutCode(ctx context.Context, r code.Record) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: codeItem(r)})
	if err != nil {
		return unavailable(ctx, "PutCode", err)
	}
	return nil
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

// FailCode implements code.Store with one conditional ADD.
func (s *Store) FailCode(ctx context.Context, r code.Record) (int, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 codeKey(r.Realm, r.AccountID, r.Purpose),
		UpdateExpression:    aws.String("SET attempts = attempts + :one"),
		ConditionExpression: aws.String("code_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":id": str(r.ID),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return int(item(out.Attributes).getN("attempts")), nil
	case errors.As(err, &ccf):
		return 0, store.ErrNotFound
	default:
		return 0, unavailable(ctx, "FailCode", err)
	}
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
		ConditionExpression:                 aws.String("code_id = :id AND code_state = :pending AND attempts < :max"),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "MarkCodeVerified", err)
}

// DeleteCode implements code.Store: ErrNotFound when no code is stored,
// ErrConflict when another code or state is.
func (s *Store) DeleteCode(ctx context.Context, r code.Record) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           s.table,
		Key:                                 codeKey(r.Realm, r.AccountID, r.Purpose),
		ConditionExpression:                 aws.String(codeIsCondition),
		ExpressionAttributeValues:           codeIsValues(r),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "DeleteCode", err)
}

// VerifyContact implements contact.Store: the account put and the code
// deletion are one transaction. A failed condition is ErrNotFound when the
// account or the code is gone, ErrConflict when either changed.
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
