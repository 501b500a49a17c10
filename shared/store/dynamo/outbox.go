package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
)

// PutMessage implements outbox.Store.
func (s *Store) PutMessage(ctx context.Context, m outbox.Message) error {
	return s.putNew(ctx, "PutMessage", messageItem(m))
}

// claimable holds for a message an attempt may claim.
const claimable = "msg_state IN (:pending, :sending) AND attempts < :max"

// ClaimMessage implements outbox.Store with one conditional UpdateItem,
// which returns the message as claimed or, when the condition fails, as
// it is.
func (s *Store) ClaimMessage(ctx context.Context, id string, now time.Time) (outbox.Message, error) {
	k, ok := messageKey(id)
	if !ok {
		return outbox.Message{}, store.ErrNotFound
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 k,
		UpdateExpression:    aws.String("SET msg_state = :sending, attempts = attempts + :one, updated_at = :now"),
		ConditionExpression: aws.String(claimable),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": str(string(outbox.Pending)), ":sending": str(string(outbox.Sending)),
			":max": num(outbox.MaxAttempts), ":one": num(1), ":now": num(now.UnixNano()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return messageFrom(out.Attributes), nil
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		return outbox.Message{}, store.ErrNotFound
	case errors.As(err, &ccf):
		return messageFrom(ccf.Item), store.ErrConflict
	default:
		return outbox.Message{}, unavailable(ctx, "ClaimMessage", err)
	}
}

// MarkMessageSent implements outbox.Store.
func (s *Store) MarkMessageSent(ctx context.Context, m outbox.Message, now time.Time) error {
	return s.endAttempt(ctx, "MarkMessageSent", m, "SET msg_state = :state, updated_at = :now", outbox.Sent, nil, now)
}

// MarkMessageFailed implements outbox.Store.
func (s *Store) MarkMessageFailed(ctx context.Context, m outbox.Message, reason string, final bool, now time.Time) error {
	state := outbox.Sending
	if final {
		state = outbox.Failed
	}
	return s.endAttempt(ctx, "MarkMessageFailed", m, "SET msg_state = :state, updated_at = :now, last_error = :reason", state,
		map[string]types.AttributeValue{":reason": str(reason)}, now)
}

// endAttempt applies update to claimed message m on condition that the
// claim still holds (Sending, m.Attempts attempts).
func (s *Store) endAttempt(ctx context.Context, op string, m outbox.Message, update string, state outbox.State, vals map[string]types.AttributeValue, now time.Time) error {
	k, ok := messageKey(m.ID)
	if !ok {
		return store.ErrNotFound
	}
	values := map[string]types.AttributeValue{
		":state": str(string(state)), ":now": num(now.UnixNano()),
		":sending": str(string(outbox.Sending)), ":n": num(int64(m.Attempts)),
	}
	for name, v := range vals {
		values[name] = v
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 k,
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String("msg_state = :sending AND attempts = :n"),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, op, err)
}

// ListMessages implements outbox.Store: a strongly consistent Query of
// each day's partition from from's to to's, every page of each. TTL
// removes messages lazily, so one past Retention may still be listed if
// from reaches back that far.
func (s *Store) ListMessages(ctx context.Context, from, to time.Time) ([]outbox.Message, error) {
	return s.listMessages(ctx, from, to, func(outbox.Message) bool { return true })
}

// ListUnfinished implements outbox.Store: ListMessages, keeping the
// messages still Pending or Sending.
func (s *Store) ListUnfinished(ctx context.Context, from, to time.Time) ([]outbox.Message, error) {
	return s.listMessages(ctx, from, to, func(m outbox.Message) bool { return !m.Finished() })
}

func (s *Store) listMessages(ctx context.Context, from, to time.Time, keep func(outbox.Message) bool) ([]outbox.Message, error) {
	var out []outbox.Message
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		in := &dynamodb.QueryInput{
			TableName:              s.table,
			ConsistentRead:         aws.Bool(true),
			KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(messagePK(day)), ":from": str(outbox.IDFloor(from)), ":to": str(outbox.IDFloor(to.Add(time.Nanosecond))),
			},
		}
		for {
			res, err := s.api.Query(ctx, in)
			if err != nil {
				return nil, unavailable(ctx, "ListMessages", err)
			}
			for _, it := range res.Items {
				if m := messageFrom(it); keep(m) {
					out = append(out, m)
				}
			}
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
	}
	return out, nil
}

// MessageID is the id of the message whose item has key pk, sk: false for
// any other item. The table's stream handler (package sender) reads the
// keys of the records it is given with it.
func MessageID(pk, sk string) (string, bool) {
	created, ok := outbox.CreatedAtOf(sk)
	if !ok || pk != messagePK(created) {
		return "", false
	}
	return sk, true
}
