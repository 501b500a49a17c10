package logging_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	smithylog "github.com/aws/smithy-go/logging"

	"github.com/ekolek/identity/shared/logging"
)

// The SDK's warnings reach the log as JSON lines like every other, at the
// level they were given.
func TestSDKWarningsAreJSONLines(t *testing.T) {
	var buf bytes.Buffer
	sdk := logging.SDK(logging.New(&buf, slog.LevelInfo))
	sdk.Logf(smithylog.Warn, "failed to close HTTP response body, this may affect connection reuse: %v", "response did not match expected checksum")
	sdk.Logf(smithylog.Debug, "request %d", 1) // below the level: not written
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1: %q", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("not a JSON line: %q", lines[0])
	}
	if got["level"] != "WARN" || got["msg"] != "aws sdk" || !strings.Contains(got["message"].(string), "did not match expected checksum") {
		t.Fatalf("line %v", got)
	}
}
