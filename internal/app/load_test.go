package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
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

// A node used to listen only once its views were loaded (about 11 s at 1,000,000
// assignments), silent and deaf meanwhile. It now listens at once: /healthz answers 200,
// /readyz 503 with the load's progress, the API 503 with Retry-After; the log reports
// progress; and once loaded everything answers. The load is held by a hook, so that the
// test sees the loading state however fast the machine is.
func TestNodeListensWhileViewsLoad(t *testing.T) {
	logs := &lockedBuffer{}
	var out bytes.Buffer
	entered, release := make(chan struct{}), make(chan struct{})
	var viewsLoaded atomic.Int32
	cfg := Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Stdout: &out,
		Log:          slog.New(slog.NewJSONHandler(logs, nil)),
		loadHook:     func(ctx context.Context) { close(entered); <-release },
		loadLogEvery: 10 * time.Millisecond,
		ViewsLoaded:  func() { viewsLoaded.Add(1) }}
	n, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	var boot struct{ WorkspaceID, ClientID, ClientSecret, TokenURL string }
	if err := json.Unmarshal(out.Bytes(), &boot); err != nil {
		t.Fatalf("bootstrap line %q: %v", out.String(), err)
	}
	<-entered
	if got := viewsLoaded.Load(); got != 0 {
		t.Errorf("Config.ViewsLoaded called %d times while the views load", got)
	}
	base := "http://" + n.Addr()

	if code, body, _ := call(t, "GET", base+"/healthz", nil); code != 200 {
		t.Errorf("/healthz while loading: %d %s", code, body)
	}
	code, body, h := call(t, "GET", base+"/readyz", nil)
	var ready struct {
		Status  string
		Loading struct {
			View, Views int
		}
	}
	if code != 503 || json.Unmarshal(body, &ready) != nil || ready.Status != "loading" || ready.Loading.Views == 0 || h.Get("Retry-After") == "" {
		t.Errorf("/readyz while loading: %d %s %v", code, body, h)
	}
	if code, body, h := call(t, "GET", base+"/workspaces/v1/credentials", nil); code != 503 || h.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "HPE_GL_ERROR_SERVICE_UNAVAILABLE") {
		t.Errorf("the API while loading: %d %s %v", code, body, h)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {boot.ClientID}, "client_secret": {boot.ClientSecret}}
	if code, body, h := call(t, "POST", boot.TokenURL, form); code != 503 || h.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"temporarily_unavailable"`) {
		t.Errorf("the token endpoint while loading: %d %s %v", code, body, h)
	}
	if code, _, _ := call(t, "GET", base+"/metrics", nil); code != 200 {
		t.Errorf("/metrics while loading: %d", code)
	}
	waitUntil(t, "a progress line in the log", func() bool { return strings.Contains(logs.String(), `"msg":"loading the in-memory views"`) })
	if !strings.Contains(logs.String(), "listening; loading the in-memory views") {
		t.Errorf("no line says the node listens and loads:\n%s", logs.String())
	}

	close(release)
	waitUntil(t, "readiness", func() bool { code, _, _ := call(t, "GET", base+"/readyz", nil); return code == 200 })
	if code, body, _ := call(t, "POST", boot.TokenURL, form); code != 200 {
		t.Errorf("the token endpoint once loaded: %d %s", code, body)
	}
	waitUntil(t, "the loaded line", func() bool { return strings.Contains(logs.String(), `"msg":"loaded the in-memory views"`) })
	if got := viewsLoaded.Load(); got != 1 {
		t.Errorf("Config.ViewsLoaded called %d times once the views loaded, want 1", got)
	}
	if !strings.Contains(logs.String(), `"msg":"keyhold is serving"`) {
		t.Errorf("no serving line:\n%s", logs.String())
	}
}

// A node stopped while its views load stops the load and returns.
func TestNodeStopsWhileViewsLoad(t *testing.T) {
	entered := make(chan struct{})
	cfg := Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Stdout: io.Discard,
		loadHook: func(ctx context.Context) { close(entered); <-ctx.Done() }}
	n, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	<-entered
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended during the load")
	}
	if n.Loaded() {
		t.Error("the node says it loaded")
	}
}

func call(t *testing.T, method, u string, form url.Values) (int, []byte, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
