package dynamotest

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/store/dynamo"
)

// CountingAPI passes every call to API and counts it as a read or a write,
// so tests can hold a request to its DynamoDB budget. Use it by pointer.
type CountingAPI struct {
	dynamo.API
	Reads, Writes atomic.Int64

	mu  sync.Mutex
	ops []string
}

// Calls returns the operations called since the last call of Calls, in order.
func (c *CountingAPI) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

func (c *CountingAPI) record(op string, n *atomic.Int64) {
	n.Add(1)
	c.mu.Lock()
	c.ops = append(c.ops, op)
	c.mu.Unlock()
}

var _ dynamo.API = (*CountingAPI)(nil)

// GetItem counts a read.
func (c *CountingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.record("GetItem", &c.Reads)
	return c.API.GetItem(ctx, in, opts...)
}

// BatchGetItem counts a read.
func (c *CountingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.record("BatchGetItem", &c.Reads)
	return c.API.BatchGetItem(ctx, in, opts...)
}

// Query counts a read.
func (c *CountingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.record("Query", &c.Reads)
	return c.API.Query(ctx, in, opts...)
}

// PutItem counts a write.
func (c *CountingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.record("PutItem", &c.Writes)
	return c.API.PutItem(ctx, in, opts...)
}

// UpdateItem counts a write.
func (c *CountingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.record("UpdateItem", &c.Writes)
	return c.API.UpdateItem(ctx, in, opts...)
}

// DeleteItem counts a write.
func (c *CountingAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.record("DeleteItem", &c.Writes)
	return c.API.DeleteItem(ctx, in, opts...)
}

// TransactWriteItems counts a write.
func (c *CountingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.record("TransactWriteItems", &c.Writes)
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// BatchWriteItem counts a write.
func (c *CountingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.record("BatchWriteItem", &c.Writes)
	return c.API.BatchWriteItem(ctx, in, opts...)
}
