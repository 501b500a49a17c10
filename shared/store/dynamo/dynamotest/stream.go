package dynamotest

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Stream reads a table's DynamoDB Stream on DynamoDB Local (which serves
// the Streams API on its own endpoint) from its start, as an event source
// mapping with StartingPosition TRIM_HORIZON does, and hands the records
// over as Lambda receives them (events.DynamoDBEventRecord).
type Stream struct {
	api   *dynamodbstreams.Client
	arn   string
	iters map[string]*string // shard id → where the next read starts
}

// NewStream returns a reader of table's stream (NewStreamTable).
func NewStream(t testing.TB, c *dynamodb.Client, table string) *Stream {
	t.Helper()
	out, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("describe %s: %v", table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		t.Fatalf("table %s has no stream", table)
	}
	return &Stream{
		api: dynamodbstreams.New(dynamodbstreams.Options{
			Region:       "us-east-1",
			BaseEndpoint: c.Options().BaseEndpoint,
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		}),
		arn:   arn,
		iters: map[string]*string{},
	}
}

// Read returns the records written since the last Read (since the table
// was created, the first time), shard by shard, in each shard's order.
func (s *Stream) Read(t testing.TB) []events.DynamoDBEventRecord {
	t.Helper()
	ctx := t.Context()
	desc, err := s.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.arn)})
	if err != nil {
		t.Fatalf("describe stream: %v", err)
	}
	var out []events.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, seen := s.iters[id]
		if !seen {
			res, err := s.api.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(s.arn), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				t.Fatalf("shard iterator of %s: %v", id, err)
			}
			it = res.ShardIterator
		}
		for it != nil {
			res, err := s.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatalf("records of %s: %v", id, err)
			}
			for _, r := range res.Records {
				out = append(out, lambdaRecord(t, r, s.arn))
			}
			it = res.NextShardIterator
			if len(res.Records) == 0 {
				break // caught up with an open shard (a closed one has no next)
			}
		}
		s.iters[id] = it
	}
	return out
}

// lambdaRecord is r as Lambda passes it to a function: the same fields in
// the event's JSON, which events.DynamoDBEventRecord reads.
func lambdaRecord(t testing.TB, r types.Record, arn string) events.DynamoDBEventRecord {
	t.Helper()
	d := r.Dynamodb
	change := map[string]any{
		"Keys":           image(d.Keys),
		"SequenceNumber": aws.ToString(d.SequenceNumber),
		"SizeBytes":      aws.ToInt64(d.SizeBytes),
		"StreamViewType": string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		change["ApproximateCreationDateTime"] = d.ApproximateCreationDateTime.Unix()
	}
	if d.NewImage != nil {
		change["NewImage"] = image(d.NewImage)
	}
	if d.OldImage != nil {
		change["OldImage"] = image(d.OldImage)
	}
	data, err := json.Marshal(map[string]any{
		"awsRegion": aws.ToString(r.AwsRegion), "eventID": aws.ToString(r.EventID), "eventName": string(r.EventName),
		"eventSource": aws.ToString(r.EventSource), "eventVersion": aws.ToString(r.EventVersion),
		"eventSourceARN": arn, "dynamodb": change,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out events.DynamoDBEventRecord
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("a stream record as Lambda's event: %v", err)
	}
	return out
}

// image is an item in DynamoDB's JSON form ({"S": "..."}, {"N": "..."}, ...).
func image(item map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		out[k] = value(v)
	}
	return out
}

func value(v types.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = value(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": image(v.Value)}
	}
	return map[string]any{"NULL": true}
}
