//go:build linux

package app_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientFrom is an HTTP client whose connections leave from the loopback address src (Linux
// routes all of 127.0.0.0/8 to the loopback interface), so one test can act as several
// sources.
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: time.Minute,
	}}
}

// TestBinaryNoClientLockout is the lockout attack of issue 9 against the real binary: an
// attacker at 127.0.0.2 sends wrong secrets for the administrator's client id at 20 per
// second, while the client itself asks for tokens from 127.0.0.3. The client gets every
// token it asks for; the attacker is refused after its burst of 50 and stays refused while
// it keeps trying (refused attempts count against its budget), even once it sends the right
// secret.
func TestBinaryNoClientLockout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the keyhold binary; skipped with -short")
	}
	bin := buildKeyhold(t)
	p := startKeyhold(t, bin, t.TempDir(), "")
	boot := p.bootstrap(t)
	form := func(secret string) string {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {boot.ClientID}, "client_secret": {secret}}.Encode()
	}
	post := func(c *http.Client, body string) (int, string) {
		resp, err := c.Post(boot.TokenURL, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Errorf("token request: %v", err)
			return 0, ""
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	attacker, client := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	if st, _ := post(attacker, form(strings.Repeat("0", 64))); st != http.StatusUnauthorized {
		t.Fatalf("the first wrong secret from 127.0.0.2: %d, want 401 (are 127.0.0.2 and .3 usable?)", st)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var statuses []int
	wg.Add(1)
	go func() { // the attacker: 20 wrong secrets a second until stopped
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			st, ra := post(attacker, form(strings.Repeat("0", 64)))
			if st == http.StatusTooManyRequests && ra == "" {
				t.Errorf("429 without Retry-After")
			}
			statuses = append(statuses, st)
		}
	}()
	issued, asked := 0, 0
	deadline := time.Now().Add(7 * time.Second)
	for time.Now().Before(deadline) {
		asked++
		if st, _ := post(client, form(boot.ClientSecret)); st == http.StatusOK {
			issued++
		} else {
			t.Errorf("the client's request %d while the attack runs: %d", asked, st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The right secret from the attacker's address is refused: the address is blocked.
	if st, _ := post(attacker, form(boot.ClientSecret)); st != http.StatusTooManyRequests {
		t.Errorf("the right secret from the blocked address: %d, want 429", st)
	}
	close(stop)
	wg.Wait()

	if issued != asked || asked < 10 {
		t.Errorf("the client got %d tokens of %d", issued, asked)
	}
	first429 := -1
	for i, st := range statuses {
		if st == http.StatusTooManyRequests && first429 < 0 {
			first429 = i
		}
		if first429 >= 0 && st != http.StatusTooManyRequests {
			t.Fatalf("attempt %d from the blocked attacker answered %d: blocked sources must stay blocked while they try", i+2, st)
		}
	}
	// 1 + first429 wrong secrets were answered 401 before the block: the burst of 50 (plus at
	// most the few refilled while they were sent).
	if first429 < 0 || first429+1 < 50 || first429+1 > 60 || len(statuses)-first429 < 20 {
		t.Errorf("the attacker's %d attempts: first 429 after %d failures, want about 50 and then only 429s", len(statuses)+1, first429+1)
	}
}
