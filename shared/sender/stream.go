package sender

import (
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ekolek/identity/shared/store/dynamo"
)

// streamWorkers is how many messages of one batch are delivered at once:
// they are independent, and a provider that stalls must not make the
// batch take the sum of its stalls.
const streamWorkers = 10

// HandleStream is function sender's handler: the table's DynamoDB Stream
// records of new (or put back) pending messages, as the event source
// mapping's filter passes them. Each record's message is delivered
// (Deliver); one that is to be tried again, or whose outbox could not be
// read or written, is reported as a batch item failure, so the event
// source mapping retries it (and, by the function's ReportBatchItemFailures,
// only from it on). A record that names no message is skipped.
func (s *Sender) HandleStream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var (
		mu       sync.Mutex
		failures = []events.DynamoDBBatchItemFailure{} // [], not null: none failed
		wg       sync.WaitGroup
		slots    = make(chan struct{}, streamWorkers)
	)
	for _, r := range ev.Records {
		id, ok := messageOf(r)
		if !ok {
			s.log.Warn("stream record skipped: not a message", "event_id", r.EventID, "event_name", r.EventName)
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := s.Deliver(ctx, id); err != nil {
				mu.Lock()
				failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return events.DynamoDBEventResponse{BatchItemFailures: failures}, nil
}

// messageOf is the id of the message a stream record is about.
func messageOf(r events.DynamoDBEventRecord) (string, bool) {
	pk, okPK := r.Change.Keys["PK"]
	sk, okSK := r.Change.Keys["SK"]
	if !okPK || !okSK || pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
		return "", false
	}
	return dynamo.MessageID(pk.String(), sk.String())
}
