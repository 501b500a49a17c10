// Package logging sets up the structured JSON log and masks personal data
// before it reaches a log line.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a JSON logger writing to w at level: slog.JSONHandler's
// lines, the access log's written faster (handler.go).
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(newHandler(w, level))
}

// MaskEmail keeps the first two characters of the local part (fewer when it
// is that short) and the domain: juan@example.com → ju***@example.com.
// Anything after an '@' that is not a plain domain (say, a password typed
// into the wrong box) is not kept.
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 || !plainDomain(s[at+1:]) {
		return MaskOther(s)
	}
	return head(s[:at]) + "***" + s[at:]
}

// plainDomain reports whether d looks like a mail domain: letters, digits,
// dots and hyphens, with a dot, at most 253 characters.
func plainDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// MaskPhone keeps the last three digits: +639171234567 → *********567.
func MaskPhone(s string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) <= 3 {
		return strings.Repeat("*", len(digits))
	}
	return strings.Repeat("*", len(digits)-3) + digits[len(digits)-3:]
}

// MaskOther keeps the first two characters (fewer when it is that short) of
// anything else: a username, or something that was typed into a login box.
func MaskOther(s string) string {
	return head(s) + "***"
}

// head is what a mask may keep of s: its first two characters, but never
// all of it, so "ab@example.com" does not log the whole address.
func head(s string) string {
	r := []rune(s)
	return string(r[:min(2, max(len(r)-1, 0))])
}

// MaskIdentifier masks whatever someone typed as a login identifier.
func MaskIdentifier(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "@"):
		return MaskEmail(s)
	case strings.Trim(s, "+0123456789 -()") == "":
		return MaskPhone(s)
	}
	return MaskOther(s)
}
