package samcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/sender"
	"github.com/ekolek/identity/shared/store/dynamo"
)

// TestSenderEventSource: the outbox's path in the template. The table has
// a stream of new images; one event source mapping feeds it to
// SenderFunction with a filter, batch item failures, bisection, retries
// past the sender's own attempts, a maximum record age, and the dead-letter
// queue as its OnFailure destination; the queue keeps its letters and the
// sender is told where it is; the function's timeout covers a batch.
func TestSenderEventSource(t *testing.T) {
	tp := loadTemplate(t)
	tables := tp.ofType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("template.yaml has tables %v, want one", tables)
	}
	spec := get(get(tp.resources[tables[0]], "Properties"), "StreamSpecification")
	if v := scalar(get(spec, "StreamViewType")); v != string(dynamo.Stream.StreamViewType) {
		t.Errorf("%s: %s: StreamSpecification.StreamViewType is %q, want %s (dynamo.Stream: the filter reads the new image; nothing older is needed)", where(spec), tables[0], v, dynamo.Stream.StreamViewType)
	}

	var mappings []string
	for _, id := range tp.ofType("AWS::Lambda::EventSourceMapping") {
		if ref(get(get(tp.resources[id], "Properties"), "FunctionName")) == "SenderFunction" {
			mappings = append(mappings, id)
		}
	}
	if len(mappings) != 1 {
		t.Fatalf("event source mappings of SenderFunction: %v, want one", mappings)
	}
	id := mappings[0]
	esm := tp.resources[id]
	p := get(esm, "Properties")
	if src := get(p, "EventSourceArn"); src == nil || src.Tag != "!GetAtt" || src.Value != tables[0]+".StreamArn" {
		t.Errorf("%s: %s: EventSourceArn must be !GetAtt %s.StreamArn", where(esm), id, tables[0])
	}
	if !slices.Equal(scalars(get(p, "FunctionResponseTypes")), []string{"ReportBatchItemFailures"}) {
		t.Errorf("%s: %s: FunctionResponseTypes must be [ReportBatchItemFailures]: the sender reports the messages to try again", where(esm), id)
	}
	if scalar(get(p, "BisectBatchOnFunctionError")) != "true" {
		t.Errorf("%s: %s: BisectBatchOnFunctionError must be true", where(esm), id)
	}
	if pos := scalar(get(p, "StartingPosition")); pos != "TRIM_HORIZON" && pos != "LATEST" {
		t.Errorf("%s: %s: StartingPosition %q", where(esm), id, pos)
	}
	number := func(name string) int {
		n, err := strconv.Atoi(scalar(get(p, name)))
		if err != nil {
			t.Errorf("%s: %s: %s must be a plain number", where(esm), id, name)
		}
		return n
	}
	if n := number("MaximumRetryAttempts"); n < outbox.MaxAttempts {
		t.Errorf("%s: %s: MaximumRetryAttempts %d: the sender fails a message for good at its attempt %d; the mapping must not give up first", where(esm), id, n, outbox.MaxAttempts)
	}
	if n := number("MaximumRecordAgeInSeconds"); n < 60 {
		t.Errorf("%s: %s: MaximumRecordAgeInSeconds %d: set one (a record stuck that long goes to the dead-letter queue)", where(esm), id, n)
	}
	batch := number("BatchSize")
	if batch < 1 || batch > 10 {
		t.Errorf("%s: %s: BatchSize %d; the sender delivers up to 10 at once", where(esm), id, batch)
	}
	// The function's timeout covers a batch: its messages go out at once,
	// each send bounded by sender.AttemptTimeout, and the writes around it.
	timeout, _ := strconv.Atoi(scalar(tp.prop(tp.resources["SenderFunction"], "Timeout")))
	if time.Duration(timeout)*time.Second < 2*sender.AttemptTimeout {
		t.Errorf("SenderFunction's Timeout %d s does not cover a batch's attempt (%v) and its writes", timeout, sender.AttemptTimeout)
	}

	dest := get(get(get(p, "DestinationConfig"), "OnFailure"), "Destination")
	if dest == nil {
		t.Fatalf("%s: %s: no DestinationConfig.OnFailure.Destination: what the mapping gives up on would be lost", where(esm), id)
	}
	queue, _, _ := strings.Cut(dest.Value, ".")
	if dest.Tag != "!GetAtt" || !strings.HasSuffix(dest.Value, ".Arn") || scalar(get(tp.resources[queue], "Type")) != "AWS::SQS::Queue" {
		t.Fatalf("%s: %s: DestinationConfig.OnFailure.Destination must be !GetAtt <an SQS queue>.Arn", where(esm), id)
	}
	if ret, _ := strconv.Atoi(scalar(get(get(tp.resources[queue], "Properties"), "MessageRetentionPeriod"))); ret < 4*24*3600 {
		t.Errorf("%s: %s: MessageRetentionPeriod %d s: keep dead letters long enough to be looked at (SQS allows 14 days)", where(tp.resources[queue]), queue, ret)
	}
	env := get(get(tp.prop(tp.resources["SenderFunction"], "Environment"), "Variables"), "EKOLEK_DEAD_LETTER_QUEUE_URL")
	if ref(env) != queue {
		t.Errorf("SenderFunction: EKOLEK_DEAD_LETTER_QUEUE_URL must be !Ref %s (the queue's URL)", queue)
	}
}

// streamRecord is a stream record of an item as Lambda passes it.
func streamRecord(name, pk, sk string, newImage map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	img := map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(pk), "SK": events.NewStringAttribute(sk)}
	for k, v := range newImage {
		img[k] = v
	}
	r := events.DynamoDBEventRecord{EventName: name, EventSource: "aws:dynamodb", Change: events.DynamoDBStreamRecord{
		Keys:           map[string]events.DynamoDBAttributeValue{"PK": img["PK"], "SK": img["SK"]},
		StreamViewType: "NEW_IMAGE", SequenceNumber: "1",
	}}
	if name != "REMOVE" {
		r.Change.NewImage = img
	}
	return r
}

// TestSenderFilterPassesNewPendingMessagesOnly: the filter passes a new
// pending message, and one put back to pending; not the sender's own
// writes (claimed, sent, failed), not a removal, not any other item.
func TestSenderFilterPassesNewPendingMessagesOnly(t *testing.T) {
	f := loadTemplate(t).senderFilter(t)
	id := outbox.NewID(time.Now())
	msg := "OUTBOX#" + time.Now().UTC().Format("2006-01-02")
	state := func(s string) map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{"msg_state": events.NewStringAttribute(s), "attempts": events.NewNumberAttribute("0")}
	}
	for _, c := range []struct {
		what string
		r    events.DynamoDBEventRecord
		want bool
	}{
		{"a new message", streamRecord("INSERT", msg, id, state("pending")), true},
		{"a message put back to pending", streamRecord("MODIFY", msg, id, state("pending")), true},
		{"a message claimed", streamRecord("MODIFY", msg, id, state("sending")), false},
		{"a message sent", streamRecord("MODIFY", msg, id, state("sent")), false},
		{"a message failed", streamRecord("MODIFY", msg, id, state("failed")), false},
		{"a message removed by TTL", streamRecord("REMOVE", msg, id, nil), false},
		{"a code", streamRecord("INSERT", "ACCT#resident#r1", "CODE#password_reset", state("pending")), false},
		{"a session", streamRecord("INSERT", "ACCT#resident#r1", "SESSION#k", nil), false},
		{"a counter", streamRecord("MODIFY", "THROTTLE#code-sends:resident:r1", "COUNTER", nil), false},
	} {
		if got := f.passes(t, c.r); got != c.want {
			t.Errorf("%s: passes %v, want %v", c.what, got, c.want)
		}
	}
}

// TestSenderGrantsAreItsOwn: the sender's table grant is UpdateItem held to
// the message items and throttle counters (dynamodb:LeadingKeys); its
// stream grant is the four read actions on the table's stream alone; its
// queue grant sqs:SendMessage on the dead-letter queue alone; and no other
// function may read the stream, send to the queue, or send email or SMS.
// (What the sender calls is recorded against the template in
// TestPoliciesMatchTheCallsEachFunctionMakes.)
func TestSenderGrantsAreItsOwn(t *testing.T) {
	tp := loadTemplate(t)
	const fn = "SenderFunction"
	var table, stream, queue []*yaml.Node
	tp.eachFunction(func(f, id string, res *yaml.Node) {
		walk(get(get(res, "Properties"), "Policies"), func(n *yaml.Node) {
			acts := scalars(get(n, "Action"))
			if len(acts) == 0 || scalar(get(n, "Effect")) != "Allow" {
				return
			}
			res := get(n, "Resource")
			isStream := res != nil && res.Tag == "!GetAtt" && strings.HasSuffix(res.Value, ".StreamArn")
			for _, a := range acts {
				if id != fn && (isStream || strings.HasPrefix(a, "sqs:") || strings.HasPrefix(a, "ses:") || strings.HasPrefix(a, "sns:")) {
					t.Errorf("%s: %s grants %s: only the sender delivers messages", where(n), id, a)
				}
			}
			switch {
			case id != fn:
			case isStream:
				stream = append(stream, n)
			case strings.HasPrefix(acts[0], "sqs:"):
				queue = append(queue, n)
			case strings.HasPrefix(acts[0], "dynamodb:"):
				table = append(table, n)
			}
		})
	})
	if len(table) != 1 || !slices.Equal(scalars(get(table[0], "Action")), []string{"dynamodb:UpdateItem"}) {
		t.Fatalf("%s: the table grant must be one statement of dynamodb:UpdateItem (claim, mark, give limits back)", fn)
	}
	keys := scalars(get(get(get(table[0], "Condition"), "ForAllValues:StringLike"), "dynamodb:LeadingKeys"))
	if !slices.Equal(keys, []string{"OUTBOX#*", "THROTTLE#*"}) {
		t.Errorf("%s: %s: the table grant's Condition ForAllValues:StringLike dynamodb:LeadingKeys is %v, want [OUTBOX#* THROTTLE#*] (messages and counters only)", where(table[0]), fn, keys)
	}
	if len(stream) != 1 || !slices.Equal(scalars(get(stream[0], "Action")), []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}) {
		t.Errorf("%s: the stream grant must be one statement of DescribeStream, GetRecords, GetShardIterator, ListStreams on !GetAtt Table.StreamArn", fn)
	}
	if len(queue) != 1 || !slices.Equal(scalars(get(queue[0], "Action")), []string{"sqs:SendMessage"}) {
		t.Fatalf("%s: the queue grant must be one statement of sqs:SendMessage", fn)
	}
	if r := get(queue[0], "Resource"); r == nil || r.Tag != "!GetAtt" || r.Value != "DeadLetterQueue.Arn" {
		t.Errorf("%s: %s: sqs:SendMessage must be on !GetAtt DeadLetterQueue.Arn alone", where(queue[0]), fn)
	}
}

// TestStreamEventFiles: events/ holds stream events for each background
// function (the events infra/rie invokes it with): realistic DynamoDB
// Stream events of message items, each record one the template's filter
// passes, as Lambda would hand them over.
func TestStreamEventFiles(t *testing.T) {
	f := loadTemplate(t).senderFilter(t)
	for fn := range app.Background {
		files, err := filepath.Glob(filepath.Join(root(t), "events", fn+".*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("function %q has no event file: add events/%s.<case>.json (a DynamoDB Stream event)", fn, fn)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.DynamoDBEvent
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Errorf("%s: not a DynamoDB Stream event: %v", file, err)
				continue
			}
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				t.Errorf("%s: trailing data after the event", file)
			}
			if len(ev.Records) == 0 {
				t.Errorf("%s: no records", file)
			}
			for i, r := range ev.Records {
				pk, sk := r.Change.Keys["PK"], r.Change.Keys["SK"]
				if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
					t.Errorf("%s: record %d: keys PK and SK must be strings", file, i)
					continue
				}
				if _, ok := dynamo.MessageID(pk.String(), sk.String()); !ok {
					t.Errorf("%s: record %d: %s/%s is no message item", file, i, pk.String(), sk.String())
				}
				if r.EventSource != "aws:dynamodb" || r.Change.StreamViewType != "NEW_IMAGE" || r.Change.SequenceNumber == "" || r.EventSourceArn == "" {
					t.Errorf("%s: record %d: want eventSource aws:dynamodb, StreamViewType NEW_IMAGE, a SequenceNumber and an eventSourceARN", file, i)
				}
				if !f.passes(t, r) {
					t.Errorf("%s: record %d: the template's filter would not pass it to the sender", file, i)
				}
			}
		}
	}
}
