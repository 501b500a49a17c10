package httpapi_test

import (
	"testing"
	"time"

	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// An authenticated request with no idle refresh due costs exactly one
// DynamoDB read (session and account in one consistent BatchGetItem) and no
// write; a request past half the idle window adds exactly one write.
func TestAuthenticatedRequestCostsOneRead(t *testing.T) {
	t.Parallel()
	client := dynamotest.Client(t)
	counter := &dynamotest.CountingAPI{API: client}
	e := newEnv(t, withStore(dynamo.New(counter, dynamotest.NewTable(t, client))))
	e.approvedResident()
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)

	measure := func(what string, req func() *response, reads, writes int64) {
		t.Helper()
		counter.Reads.Store(0)
		counter.Writes.Store(0)
		if r := req(); r.status != 200 {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		if r, w := counter.Reads.Load(), counter.Writes.Load(); r != reads || w != writes {
			t.Fatalf("%s: %d reads, %d writes; want %d and %d", what, r, w, reads, writes)
		}
	}
	measure("GET session", func() *response { return b.session("resident") }, 1, 0)
	e.clock.Advance(59 * time.Minute) // resident idle 2h: more than half left
	measure("GET session before half the idle window", func() *response { return b.session("resident") }, 1, 0)
	e.clock.Advance(2 * time.Minute)
	measure("GET session after half the idle window", func() *response { return b.session("resident") }, 1, 1)
	measure("GET session right after a refresh", func() *response { return b.session("resident") }, 1, 0)
}
