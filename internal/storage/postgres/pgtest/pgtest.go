// Package pgtest gives each test a PostgreSQL database of its own. The server comes from
// KEYHOLD_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// Without a reachable server a test is skipped, except when CI is set: there it fails, so a CI
// run can never pass without having run the PostgreSQL suite.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// DefaultURL is the server tests use when KEYHOLD_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the administrative URL of the test server.
func ServerURL() string {
	if u := os.Getenv("KEYHOLD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Database creates an empty database for the test, drops it when the test ends, and returns
// its URL.
func Database(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", ServerURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required in CI and is not reachable at %s: %v", ServerURL(), err)
		}
		t.Skipf("no PostgreSQL at %s (set KEYHOLD_TEST_POSTGRES): %v", ServerURL(), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "keyhold_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
