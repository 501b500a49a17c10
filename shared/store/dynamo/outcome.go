package dynamo

import (
	"context"
	"errors"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A write's outcome is unknown when an attempt of it was sent and no
// answer that it was refused came back: a response-header timeout, the
// request's deadline or cancellation while waiting, a connection broken
// after sending, or a 5xx (DynamoDB's own advice: a 500 on a write "may
// have succeeded or failed"). Such an attempt is not retried: another
// attempt could apply the write twice (a counter counted twice) or fail on
// the first one's own change (a failed condition, read as someone else's),
// so the write ends there, as unknown. An attempt that never wrote its
// request (the dial failed, the context ended first) and a 4xx answer
// (validation, throttling, a failed condition) leave nothing applied: they
// are retried as the SDK retries them, and end as ErrUnavailable (or the
// condition's meaning). Reads are never unknown, and retried as before.

// outcomes is the API with each write's attempts watched (watchAttempt).
// Every write the store makes goes through it (New), so no caller decides
// this on its own; unavailable turns the mark into store.ErrOutcomeUnknown.
type outcomes struct{ API }

// PutItem is API.PutItem, watched.
func (o outcomes) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return o.API.PutItem(ctx, in, watched(opts)...)
}

// UpdateItem is API.UpdateItem, watched.
func (o outcomes) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return o.API.UpdateItem(ctx, in, watched(opts)...)
}

// DeleteItem is API.DeleteItem, watched.
func (o outcomes) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return o.API.DeleteItem(ctx, in, watched(opts)...)
}

// TransactWriteItems is API.TransactWriteItems, watched.
func (o outcomes) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return o.API.TransactWriteItems(ctx, in, watched(opts)...)
}

// BatchWriteItem is API.BatchWriteItem, watched.
func (o outcomes) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return o.API.BatchWriteItem(ctx, in, watched(opts)...)
}

// watched is opts with watchAttempt placed after the SDK's retry
// middleware, so it runs once per attempt.
func watched(opts []func(*dynamodb.Options)) []func(*dynamodb.Options) {
	return append(slices.Clip(opts), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(watchAttempt, middleware.After)
		})
	})
}

// watchAttempt runs one attempt of a write and marks its error
// *unknownOutcome when the attempt may have been applied.
var watchAttempt = middleware.FinalizeMiddlewareFunc("ekolekWriteOutcome", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	var connected atomic.Bool
	wrote := make(chan error, 1)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
		// On the transport's writing goroutine, possibly after the answer
		// (or the failure) has come back.
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			select {
			case wrote <- i.Err:
			default:
			}
		},
	})
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil && mayHaveApplied(err, connected.Load(), wrote) {
		err = &unknownOutcome{err: err}
	}
	return out, md, err
})

// writeVerdictWait bounds the wait for the transport to say whether it
// wrote a request whose attempt has already failed; it says so at once
// unless it never began to write (then the attempt counts as sent).
const writeVerdictWait = 100 * time.Millisecond

// mayHaveApplied reports whether a failed attempt may have been applied.
// When DynamoDB answered, its status says: a 4xx refused the request; a
// 5xx, or a success whose body could not be read, may have applied it.
// When nothing came back, the attempt may have been applied if its
// request was written whole to a connection.
func mayHaveApplied(err error, connected bool, wrote <-chan error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return re.HTTPStatusCode() < 400 || re.HTTPStatusCode() >= 500
	}
	if !connected {
		return false
	}
	select {
	case werr := <-wrote:
		return werr == nil
	case <-time.After(writeVerdictWait):
		return true
	}
}

// unknownOutcome is the error of a write attempt that may have been
// applied.
type unknownOutcome struct{ err error }

func (e *unknownOutcome) Error() string { return "outcome unknown: " + e.err.Error() }
func (e *unknownOutcome) Unwrap() error { return e.err }

// RetryableError tells the SDK's retryer not to make another attempt.
func (e *unknownOutcome) RetryableError() bool { return false }
