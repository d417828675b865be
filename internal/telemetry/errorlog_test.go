package telemetry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// The server's messages become JSON Warn records, and a flood of them is cut to the burst,
// the next record written saying how many were left out.
func TestServerErrorLog(t *testing.T) {
	var buf bytes.Buffer
	l := ServerErrorLog(slog.New(slog.NewJSONHandler(&buf, nil)), 50*time.Millisecond, 3)
	for range 10 {
		l.Printf("http: TLS handshake error from 192.0.2.1:1234: EOF")
	}
	time.Sleep(60 * time.Millisecond) // one more message allowed (not an assertion on timing)
	l.Printf("http: Accept error: too many open files; retrying in 5ms")
	var recs []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		recs = append(recs, m)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 3 then the one after the pause: %v", len(recs), recs)
	}
	for _, r := range recs {
		if r["level"] != "WARN" || r["msg"] != "http server" {
			t.Errorf("record %v", r)
		}
	}
	if recs[0]["error"] != "http: TLS handshake error from 192.0.2.1:1234: EOF" {
		t.Errorf("first record %v", recs[0])
	}
	if last := recs[3]; last["error"] != "http: Accept error: too many open files; retrying in 5ms" || last["suppressed"] != float64(7) {
		t.Errorf("last record %v, want the accept error with suppressed 7", last)
	}
}
