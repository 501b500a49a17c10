package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// The bare server is the ceiling the API is measured against: a net/http
// handler that does nothing but answer the bytes the API answered for a
// session check (every header it set, the same body), in a process of its
// own, as the API is. net/http adds Date and Content-Length to both.

// writeAnswer writes the answer the bare server is to give, as an HTTP
// response.
func writeAnswer(w io.Writer, header http.Header, body []byte) error {
	h := header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding"} {
		h.Del(k)
	}
	res := &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Header: h,
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
	return res.Write(w)
}

// readAnswer reads what writeAnswer wrote.
func readAnswer(r io.Reader) (http.Header, []byte, error) {
	res, err := http.ReadResponse(bufio.NewReader(r), nil)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.Header, body, err
}

// bareHandler answers every request with header and body.
func bareHandler(header http.Header, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// serveBare is `load bare ADDR ANSWER-FILE`: serve the answer on ADDR until
// SIGTERM.
func serveBare(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: load bare ADDR ANSWER-FILE")
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	header, body, err := readAnswer(f)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: args[0], Handler: bareHandler(header, body), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
