// Command probe measures what one ordinary client sees of a loaded keyhold: it asks the token
// endpoint for a token, one request at a time, every -interval for -duration, and prints the
// answers by status and the latency of the 200 answers (p50, p99, max) as one line of
// Markdown table cells, so bench/overload.sh can show the latency of admitted requests as a
// client measures it (wrk's own percentiles mix admitted and refused answers).
//
// Usage: probe -url TOKEN_URL [-duration 10s] [-interval 50ms] (CLIENT_ID and CLIENT_SECRET
// from the environment, so the secret is not on the command line).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	target := flag.String("url", "", "token endpoint URL")
	duration := flag.Duration("duration", 10*time.Second, "how long to probe")
	interval := flag.Duration("interval", 50*time.Millisecond, "time between the starts of two requests")
	flag.Parse()
	if *target == "" || os.Getenv("CLIENT_ID") == "" || os.Getenv("CLIENT_SECRET") == "" {
		fmt.Fprintln(os.Stderr, "probe: -url, CLIENT_ID and CLIENT_SECRET are required")
		os.Exit(2)
	}
	r := probe(*target, os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET"), *duration, *interval)
	fmt.Println(r.cells())
}

type result struct {
	ok       []time.Duration
	byStatus map[string]int
}

// probe sends one request at a time, each on the tick of interval (a request that takes
// longer delays the next), over a keep-alive connection.
func probe(target, id, secret string, duration, interval time.Duration) result {
	client := &http.Client{Timeout: 30 * time.Second}
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
	res := result{byStatus: map[string]int{}}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for end := time.Now().Add(duration); time.Now().Before(end); <-tick.C {
		start := time.Now()
		resp, err := client.Post(target, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			res.byStatus["error"]++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.byStatus[fmt.Sprint(resp.StatusCode)]++
		if resp.StatusCode == http.StatusOK {
			res.ok = append(res.ok, time.Since(start))
		}
	}
	return res
}

// cells: "200s | other answers | p50 | p99 | max" of the 200 answers, in milliseconds.
func (r result) cells() string {
	var other []string
	for s, n := range r.byStatus {
		if s != "200" {
			other = append(other, fmt.Sprintf("%s×%d", s, n))
		}
	}
	slices.Sort(other)
	if len(other) == 0 {
		other = []string{"none"}
	}
	if len(r.ok) == 0 {
		return fmt.Sprintf("0 | %s | n/a | n/a | n/a", strings.Join(other, " "))
	}
	slices.Sort(r.ok)
	q := func(p float64) string {
		i := min(len(r.ok)-1, int(p*float64(len(r.ok))))
		return fmt.Sprintf("%.2f", float64(r.ok[i].Microseconds())/1000)
	}
	return fmt.Sprintf("%d | %s | %s | %s | %s", len(r.ok), strings.Join(other, " "), q(0.5), q(0.99), q(1))
}
