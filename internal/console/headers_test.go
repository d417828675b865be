package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/console"
)

// TestHeaders checks, on a running keyhold, that every console answer (page, module, style
// sheet, a miss) carries the strict CSP and the other security headers, that the files are
// served with their types, and that the page has no inline script or style.
func TestHeaders(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	cases := []struct {
		path, ctype string
		status      int
	}{
		{"/console/", "text/html", 200},
		{"/console/app.js", "text/javascript", 200},
		{"/console/api.js", "text/javascript", 200},
		{"/console/app.css", "text/css", 200},
		{"/console/missing.js", "", 404},
		{"/console/../console/app.js", "", -1}, // cleaned by the client or refused; never a file outside
	}
	for _, c := range cases {
		resp, err := http.Get(e.Base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c.status > 0 && resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.path, resp.StatusCode, c.status)
		}
		if c.status == 404 || c.status < 0 {
			continue
		}
		h := resp.Header
		want := map[string]string{
			"Content-Security-Policy": console.CSP,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.path, k, got, v)
			}
		}
		if !strings.HasPrefix(h.Get("Content-Type"), c.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", c.path, h.Get("Content-Type"), c.ctype)
		}
		if c.path == "/console/" {
			page := string(body)
			for _, bad := range []string{"<script>", "style=", " on", "<style"} {
				if strings.Contains(page, bad) {
					t.Errorf("the page contains %q: inline code the CSP would block", bad)
				}
			}
		}
	}
	// The policy itself: nothing unsafe, no other origin, no framing.
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(console.CSP, d) {
			t.Errorf("CSP lacks %q", d)
		}
	}
	for _, bad := range []string{"unsafe", "http:", "https:", "*", "data:"} {
		if strings.Contains(console.CSP, bad) {
			t.Errorf("CSP allows %q", bad)
		}
	}
	// /console without the slash sends the browser to the directory (relative URLs resolve there).
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.Base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("/console: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Writes are not served.
	resp, err = http.Post(e.Base+"/console/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/: %d", resp.StatusCode)
	}
}

// TestNoThirdParty checks that no embedded file names another origin, inline handlers or
// storage APIs: the console loads only its own files and keeps the token in memory.
func TestNoThirdParty(t *testing.T) {
	for name, text := range console.Files(t) {
		for _, bad := range []string{"http://", "https://", "localStorage", "sessionStorage", "document.cookie", "innerHTML", "eval(", "new Function"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
