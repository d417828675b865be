package telemetry

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogWriterBatchesInfoAndWritesWarningsAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	w := NewLogWriter(out, time.Hour) // only Warn, size and Close may write
	log := slog.New(UrgentHandler(slog.NewJSONHandler(w, nil), w)).With("node", "a")
	log.Info("request", "n", 1)
	if out.String() != "" {
		t.Fatalf("an info line was written before any flush: %q", out.String())
	}
	log.Warn("trouble")
	if got := out.String(); !strings.Contains(got, `"n":1`) || !strings.Contains(got, "trouble") {
		t.Fatalf("a warning did not write out the buffer: %q", got)
	}
	log.Info("last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "last") {
		t.Fatalf("Close lost a line: %q", out.String())
	}
}

func TestLogWriterFlushesOnItsInterval(t *testing.T) {
	out := &lockedBuffer{}
	w := NewLogWriter(out, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "line\n" {
		t.Fatalf("the interval flush did not happen: %q", out.String())
	}
}
