// Package deadletter keeps the messages the sender gave up on in an SQS
// queue, the dead-letter queue operators watch (an alarm on its depth).
// Only the message's id and what became of it go there, never its
// recipient or content: the item in the table (until its TTL) has the
// rest, sealed. It is apart from package sender so that only function
// sender links the SQS client (app.Parts.DeadLetters).
package deadletter

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/sender"
)

// SendMessageAPI is the part of the SQS client the queue uses.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue is the dead-letter queue.
type Queue struct {
	api SendMessageAPI
	url string
}

// New returns the queue at url, through the SQS client of c.
func New(c aws.Config, url string) sender.DeadLetters {
	return NewQueue(sqs.NewFromConfig(awsenv.For(c, "SQS")), url)
}

// NewQueue returns the queue at url, through api.
func NewQueue(api SendMessageAPI, url string) *Queue { return &Queue{api: api, url: url} }

// Letter is the body of a dead letter (JSON).
type Letter struct {
	// Source tells these letters from the event source mapping's own
	// records of a batch it gave up on, which share the queue.
	Source    string    `json:"source"`
	MessageID string    `json:"message_id"`
	Kind      string    `json:"kind"`
	Channel   string    `json:"channel"`
	Realm     string    `json:"realm"`
	AccountID string    `json:"account_id"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
}

// LetterSource is Letter.Source.
const LetterSource = "ekolek.sender"

// DeadLetter implements sender.DeadLetters.
func (q *Queue) DeadLetter(ctx context.Context, m outbox.Message) error {
	body, err := json.Marshal(Letter{
		Source: LetterSource, MessageID: m.ID, Kind: string(m.Kind), Channel: string(m.Channel),
		Realm: string(m.Realm), AccountID: m.AccountID, Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt,
	})
	if err != nil {
		return err
	}
	if _, err := q.api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("deadletter: sqs SendMessage: %w", err)
	}
	return nil
}
