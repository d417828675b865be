package telemetry

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// ServerErrorLog is a log.Logger for http.Server.ErrorLog that writes each message as a
// Warn record of log (message "http server", the text under "error"), so that the server's
// own complaints (accept errors, TLS handshake failures, panics it recovered) are JSON
// lines like every other instead of plain text in the middle of the log. At most burst
// messages are written at once and one per every after that: a client can provoke these
// messages (a bad TLS handshake each), and must not flood the log with them. The number
// of messages left out is reported with the next one written, under "suppressed".
func ServerErrorLog(l *slog.Logger, every time.Duration, burst int) *log.Logger {
	return log.New(&errorLogWriter{log: l, lim: rate.NewLimiter(rate.Every(every), burst)}, "", 0)
}

type errorLogWriter struct {
	log        *slog.Logger
	lim        *rate.Limiter
	suppressed atomic.Int64
}

// Write receives one message per call (log.Logger's contract).
func (w *errorLogWriter) Write(p []byte) (int, error) {
	if !w.lim.Allow() {
		w.suppressed.Add(1)
		return len(p), nil
	}
	attrs := []slog.Attr{slog.String("error", strings.TrimRight(string(p), "\n"))}
	if n := w.suppressed.Swap(0); n > 0 {
		attrs = append(attrs, slog.Int64("suppressed", n))
	}
	w.log.LogAttrs(context.Background(), slog.LevelWarn, "http server", attrs...)
	return len(p), nil
}
