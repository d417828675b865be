package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

// The in-flight bound defaults to 64 per CPU, is exposed in /metrics with the current
// count, and a negative value is refused rather than replaced.
func TestMaxInFlightConfig(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	metrics := getText(t, e.Base+"/metrics")
	want := fmt.Sprintf("keyhold_http_max_in_flight_requests %d\n", 64*runtime.GOMAXPROCS(0))
	if !strings.Contains(metrics, want) || !strings.Contains(metrics, "keyhold_http_in_flight_requests 0\n") {
		t.Errorf("/metrics lacks %q or the in-flight gauge", want)
	}
	e = apptest.Start(t, app.Config{MaxInFlight: 5})
	if m := getText(t, e.Base+"/metrics"); !strings.Contains(m, "keyhold_http_max_in_flight_requests 5\n") {
		t.Error("--max-in-flight 5 is not the bound")
	}
	_, err := app.Open(context.Background(), app.Config{MaxInFlight: -1, DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "max in-flight") {
		t.Errorf("MaxInFlight -1: %v", err)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
