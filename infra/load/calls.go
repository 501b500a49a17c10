package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The DynamoDB calls the local API makes are counted on the wire: the API
// is pointed (AWS_ENDPOINT_URL_DYNAMODB) at callCounter, a reverse proxy
// in this process that passes every request and answer through unchanged
// (headers, the body and its X-Amz-Crc32 included) and counts each call
// by the operation its X-Amz-Target header names. Nothing in the API is
// changed or rebuilt for it. A call cannot be tied to the HTTP request
// that made it, so the calls per request kind are taken in a phase where
// one request is in flight at a time (see calls in dynamo.go).

// targetPrefix is how the DynamoDB JSON protocol names an operation.
const targetPrefix = "DynamoDB_20120810."

// calls counts DynamoDB operations by name.
type calls map[string]int

func (c calls) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// reads is how many of the calls read; the rest write.
func (c calls) reads() int {
	return c["GetItem"] + c["BatchGetItem"] + c["Query"] + c["Scan"]
}

// minus is what c counted since before.
func (c calls) minus(before calls) calls {
	d := calls{}
	for op, n := range c {
		if n -= before[op]; n != 0 {
			d[op] = n
		}
	}
	return d
}

// String is the operations in name order with their counts, e.g.
// "GetItem ×3, PutItem".
func (c calls) String() string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(c)) {
		if c[op] == 1 {
			parts = append(parts, op)
		} else {
			parts = append(parts, fmt.Sprintf("%s ×%d", op, c[op]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// callCounter is the counting proxy in front of DynamoDB Local.
type callCounter struct {
	url    string // where the API is to send its calls
	server *http.Server
	proxy  *httputil.ReverseProxy
	// failed are the calls the proxy could not pass on (the first's error
	// in firstFailure); abandoned those the API gave up itself, its end
	// included (it cancels its sender's call in flight when it stops).
	failed, abandoned atomic.Int64
	firstFailure      atomic.Value

	mu sync.Mutex
	// request are the calls of requests; sender those of the local API's
	// outbox sender (sender), which delivers in the background.
	request, sender calls
	// answers are DynamoDB Local's answers by status and whether they
	// carried the X-Amz-Crc32 header the SDK checks the body against.
	answers map[string]int
}

// startCallCounter starts the proxy on a free loopback port in front of
// endpoint.
func startCallCounter(endpoint string) (*callCounter, error) {
	target, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("AWS_ENDPOINT_URL_DYNAMODB: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &callCounter{url: "http://" + ln.Addr().String(), request: calls{}, sender: calls{}, answers: map[string]int{}}
	c.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the request as the SDK signed it
		},
		// The answer's bytes as DynamoDB Local sent them: no transparent
		// gzip, which would break the body's CRC32 header.
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
		ModifyResponse: func(res *http.Response) error {
			crc := "with"
			if res.Header.Get("X-Amz-Crc32") == "" {
				crc = "without"
			}
			c.mu.Lock()
			c.answers[fmt.Sprintf("%d %s X-Amz-Crc32", res.StatusCode, crc)]++
			c.mu.Unlock()
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				c.abandoned.Add(1)
			} else if c.failed.Add(1) == 1 {
				c.firstFailure.Store(err.Error())
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	c.server = &http.Server{Handler: c}
	go func() { _ = c.server.Serve(ln) }()
	return c, nil
}

// ServeHTTP counts the call and passes it on.
func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.abandoned.Add(1) // the API went away while sending it
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	c.mu.Lock()
	if bySender(op, body) {
		c.sender[op]++
	} else {
		c.request[op]++
	}
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

// bySender tells the outbox sender's calls from the requests' by what
// they touch: the sender claims and marks message items (UpdateItem) and
// looks for unfinished ones (Query), all in the outbox's partitions, where
// the scenario's requests only ever put a message (PutItem, or
// TransactWriteItems with its code; GET /dev/outbox, which queries them,
// is not sent).
func bySender(op string, body []byte) bool {
	return (op == "UpdateItem" || op == "Query") && bytes.Contains(body, []byte(`"OUTBOX#`))
}

// counts returns the calls counted so far.
func (c *callCounter) counts() (request, sender calls) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.request), maps.Clone(c.sender)
}

// answerCounts are DynamoDB Local's answers so far, e.g.
// "200 with X-Amz-Crc32 ×812, 400 without X-Amz-Crc32 ×97".
func (c *callCounter) answerCounts() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.answers)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, c.answers[k]))
	}
	return strings.Join(parts, ", ")
}

// requestCalls returns the requests' calls counted so far.
func (c *callCounter) requestCalls() calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.request)
}

func (c *callCounter) close() error {
	err := c.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
