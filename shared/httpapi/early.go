package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
)

// earlyErrors are the refusals net/http makes before any handler sees the
// request, as this API words them.
var earlyErrors = map[int]*apiError{
	http.StatusBadRequest:                  errInvalid("The request could not be read.", nil),
	http.StatusExpectationFailed:           {Status: http.StatusExpectationFailed, Code: "expectation_failed", Message: "The Expect header cannot be met."},
	http.StatusRequestHeaderFieldsTooLarge: {Status: http.StatusRequestHeaderFieldsTooLarge, Code: "headers_too_large", Message: "The request's headers are too large."},
	http.StatusNotImplemented:              {Status: http.StatusNotImplemented, Code: "not_implemented", Message: "The request's transfer encoding is not supported."},
	http.StatusHTTPVersionNotSupported:     {Status: http.StatusHTTPVersionNotSupported, Code: "http_version_not_supported", Message: "Use HTTP/1.1."},
}

// EarlyAnswer is the whole HTTP/1.1 response to a request a server refused
// with status before any handler saw it (a malformed request line or
// header, headers over the server's limit, an unsupported transfer encoding
// or protocol version, an Expect it cannot meet): the security headers and
// the JSON error shape of every other answer, and Connection: close, since
// the server hangs up after it. remote is the client's address, for the
// access log.
func (a *API) EarlyAnswer(status int, remote string) []byte {
	e, ok := earlyErrors[status]
	if !ok {
		e = &apiError{Status: status, Code: "invalid_request", Message: "The request could not be read."}
	}
	id := requestID(&http.Request{})
	ip, _, err := net.SplitHostPort(remote)
	if err != nil {
		ip = remote
	}
	body, _ := json.Marshal(map[string]*apiError{"error": e})
	body = append(body, '\n')
	res := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Close: true,
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
	a.securityHeaders(res.Header, id)
	res.Header.Set("Content-Type", "application/json; charset=utf-8")
	var out bytes.Buffer
	_ = res.Write(&out)
	a.Log.Info("request", "request_id", id, "method", "", "route", "", "status", status, "early", true, "ip", ip)
	return out.Bytes()
}
