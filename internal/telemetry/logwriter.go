package telemetry

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBufferSize is how much log output LogWriter holds before writing it out regardless.
const logBufferSize = 64 << 10

// LogWriter batches log lines: one write system call per interval (or per 64 KiB) instead of
// one per request. Records at Warn and above are written at once when logged through
// UrgentHandler, and Close writes what is left. A process killed with SIGKILL loses at most
// one interval of info-level lines (access log lines); nothing it acknowledged depends on them.
type LogWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// NewLogWriter writes to w every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	l := &LogWriter{w: w, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop(interval)
	return l
}

func (l *LogWriter) loop(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Flush()
		}
	}
}

// Write buffers p (one whole log line, as slog handlers write them).
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBufferSize {
		return len(p), l.flushLocked()
	}
	return len(p), nil
}

// Flush writes out everything buffered.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *LogWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Close stops the timer and writes out what is left.
func (l *LogWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}

// UrgentHandler wraps h so that records at Warn and above reach w's destination at once.
func UrgentHandler(h slog.Handler, w *LogWriter) slog.Handler { return urgent{h, w} }

type urgent struct {
	slog.Handler
	w *LogWriter
}

func (u urgent) Handle(ctx context.Context, r slog.Record) error {
	err := u.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := u.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (u urgent) WithAttrs(attrs []slog.Attr) slog.Handler {
	return urgent{u.Handler.WithAttrs(attrs), u.w}
}
func (u urgent) WithGroup(name string) slog.Handler { return urgent{u.Handler.WithGroup(name), u.w} }
