package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/throttle"
)

// hitAttempts bounds how often Hit starts over after losing the race to
// start a window. One retry is enough unless windows are shorter than the
// time between two calls.
const hitAttempts = 5

// counterNames aliases the counter's attributes in expressions.
var counterNames = map[string]string{"#n": "n", "#ends": "ends"}

func counterKey(k string) map[string]types.AttributeValue { return key(throttlePK(k), skCounter) }

func counterFrom(it item) throttle.Counter {
	return throttle.Counter{Count: int(it.getN("n")), ResetAt: it.getT("ends")}
}

// Hit implements throttle.Store. A hit in a live window below the limit is
// one conditional UpdateItem. When that condition fails, the old item it
// returns tells a refusal (live window at the limit) from a missing or
// ended window, which a conditional PutItem starts; if another caller
// started it first, Hit starts over and counts in that window.
func (s *Store) Hit(ctx context.Context, k string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	for range hitAttempts {
		out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                s.table,
			Key:                      counterKey(k),
			UpdateExpression:         aws.String("SET #n = #n + :one"),
			ConditionExpression:      aws.String("#ends > :now AND #n < :limit"),
			ExpressionAttributeNames: counterNames,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":now": num(now.UnixNano()), ":limit": num(int64(limit)),
			},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			c := counterFrom(out.Attributes)
			c.Allowed = true
			return c, nil
		case !errors.As(err, &ccf):
			return throttle.Counter{}, unavailable(ctx, "Hit", err)
		}
		if old := item(ccf.Item); len(old) > 0 && old.getN("ends") > now.UnixNano() {
			// The window is live, so the count failed the condition: it is
			// at the limit, and a refusal changes nothing.
			return counterFrom(old), nil
		}
		started, err := s.startWindow(ctx, k, limit, window, now)
		if err != nil || started.Count > 0 {
			return started, err
		}
	}
	return throttle.Counter{}, unavailable(ctx, "Hit", errors.New("lost the race to start a window too often"))
}

// startWindow stores a new window holding one hit, on condition no live
// window exists. A zero Counter means another caller's window is live.
func (s *Store) startWindow(ctx context.Context, k string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	ends := now.Add(window)
	it := item{attrPK: str(throttlePK(k)), attrSK: str(skCounter), "n": num(1), "ends": num(ends.UnixNano())}
	it.ttl(ends)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      it,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #ends <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ends": "ends"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixNano())},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return throttle.Counter{Count: 1, Allowed: 1 <= limit, ResetAt: it.getT("ends")}, nil
	case errors.As(err, &ccf):
		return throttle.Counter{}, nil
	default:
		return throttle.Counter{}, unavailable(ctx, "Hit", err)
	}
}

// Peek implements throttle.Store with a strongly consistent read. A live
// counter comes back with Allowed true (Peek knows no limit); none, or one
// whose window ended at or before now, is the zero Counter.
func (s *Store) Peek(ctx context.Context, k string, now time.Time) (throttle.Counter, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: counterKey(k), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return throttle.Counter{}, unavailable(ctx, "Peek", err)
	}
	it := item(out.Item)
	if len(it) == 0 || it.getN("ends") <= now.UnixNano() {
		return throttle.Counter{}, nil
	}
	c := counterFrom(it)
	c.Allowed = true
	return c, nil
}

// Release implements throttle.Store with one conditional UpdateItem; a
// failed condition (no live window, or a count of zero) changes nothing.
func (s *Store) Release(ctx context.Context, k string, now time.Time) error {
	return s.takeBack(ctx, "Release", k, "#ends > :t", now)
}

// Refund implements throttle.Store with one conditional UpdateItem; a
// failed condition (another window, no counter, a count of zero) changes
// nothing.
func (s *Store) Refund(ctx context.Context, c throttle.Charge) error {
	return s.takeBack(ctx, "Refund", c.Key, "#ends = :t", c.Ends)
}

// takeBack takes one hit back from k's counter on condition window (an
// expression of #ends and :t) and a count above zero.
func (s *Store) takeBack(ctx context.Context, op, k, window string, t time.Time) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                s.table,
		Key:                      counterKey(k),
		UpdateExpression:         aws.String("SET #n = #n - :one"),
		ConditionExpression:      aws.String(window + " AND #n > :zero"),
		ExpressionAttributeNames: counterNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":zero": num(0), ":t": num(t.UnixNano()),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return unavailable(ctx, op, err)
	}
	return nil
}

// Clear implements throttle.Store.
func (s *Store) Clear(ctx context.Context, k string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: counterKey(k)})
	if err != nil {
		return unavailable(ctx, "Clear", err)
	}
	return nil
}
