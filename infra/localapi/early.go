package main

import (
	"bytes"
	"net"
	"strconv"
)

// earlyAnswers is a listener whose connections replace the answers net/http
// writes by itself, before any handler has seen the request, with the
// API's own (httpapi.API.EarlyAnswer): the same security headers and JSON
// error as every other answer. net/http offers no hook for them; it writes
// them straight to the connection, in fixed forms, and hangs up after:
//
//   - 400 (malformed request line, header or Host; missing Host), 431
//     (headers over MaxHeaderBytes), 501 (unknown Transfer-Encoding) and 505
//     (unsupported HTTP version): one write of a status line followed by
//     rawErrorHeaders and a text body;
//   - 417 (an Expect other than 100-continue): a response with no handler
//     behind it, so without the X-Request-Id every handler's answer has.
//
// Neither form can start any other write on the connection: a handler's
// answer always has X-Request-Id and a JSON or empty body, and JSON never
// holds a raw line break.
type earlyAnswers struct {
	net.Listener
	answer func(status int, remote string) []byte
}

func (l earlyAnswers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &earlyConn{Conn: c, answer: l.answer}, nil
}

// rawErrorHeaders follow the status line of net/http's own refusals.
var rawErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

type earlyConn struct {
	net.Conn
	answer func(status int, remote string) []byte
}

func (c *earlyConn) Write(p []byte) (int, error) {
	status, ok := earlyStatus(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(c.answer(status, c.RemoteAddr().String())); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does on a bare TCP connection, so the client reads the answer.
func (c *earlyConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// earlyStatus reports whether p is one of net/http's own refusals, and its
// status.
func earlyStatus(p []byte) (int, bool) {
	line, _, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || len(line) < 12 || !(bytes.HasPrefix(line, []byte("HTTP/1.1 ")) || bytes.HasPrefix(line, []byte("HTTP/1.0 "))) {
		return 0, false
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 400 || len(line) > 12 && line[12] != ' ' {
		return 0, false
	}
	if bytes.HasPrefix(p[len(line):], rawErrorHeaders) {
		return status, true
	}
	head, _, _ := bytes.Cut(p, []byte("\r\n\r\n"))
	if string(line[9:]) == "417 Expectation Failed" && !bytes.Contains(head, []byte("\r\nX-Request-Id:")) {
		return status, true
	}
	return 0, false
}
