package logging

import (
	"context"
	"fmt"
	"log/slog"

	smithylog "github.com/aws/smithy-go/logging"
)

// SDK returns a logger for the AWS SDK (aws.Config.Logger) that writes
// through l: the SDK's own warnings (a response body it could not close, a
// checksum that did not match) become JSON lines in the same stream as
// every other, at warn level (debug for the SDK's debug output), instead
// of plain text among them.
func SDK(l *slog.Logger) smithylog.Logger { return sdkLogger{l} }

type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Logf(c smithylog.Classification, format string, v ...any) {
	level := slog.LevelWarn
	if c == smithylog.Debug {
		level = slog.LevelDebug
	}
	s.l.Log(context.Background(), level, "aws sdk", "message", fmt.Sprintf(format, v...))
}
