package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/outbox"
)

// AppendOutbox implements outbox.Store: expires becomes the item's TTL.
func (s *Store) AppendOutbox(ctx context.Context, e outbox.Entry, expires time.Time) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: outboxItem(e, expires)})
	if err != nil {
		return unavailable(ctx, "AppendOutbox", err)
	}
	return nil
}

// ListOutbox implements outbox.Store with a strongly consistent Query of
// the one outbox partition, every page of it. The outbox is for local runs
// only, so one partition is enough. TTL removes a message lazily (DynamoDB
// deletes expired items within days and reads still return them until
// then), so the list may include messages past their expiry; the embedded
// store likewise only prunes them when a new message arrives.
func (s *Store) ListOutbox(ctx context.Context) ([]outbox.Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkOutbox)},
	}
	var out []outbox.Entry
	for {
		res, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, unavailable(ctx, "ListOutbox", err)
		}
		for _, it := range res.Items {
			out = append(out, outboxFrom(it))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
