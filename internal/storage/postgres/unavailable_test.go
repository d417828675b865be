package postgres

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestUnavailableErrors: the errors of a database that cannot serve are told apart from those
// of a bad request; a store opened on a port where nothing listens fails fast.
func TestUnavailableErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "57P01"}, true}, // admin shutdown
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot connect now (starting up)
		{&pgconn.PgError{Code: "25006"}, true}, // read-only transaction: a standby
		{&pgconn.PgError{Code: "53300"}, true}, // too many connections
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "22P02"}, false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{errors.New("some bug"), false},
	} {
		if got := isUnavailable(c.err); got != c.want {
			t.Errorf("isUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	d := Dialect(false)
	if d.CommitUnknown(&pgconn.PgError{Code: "40001"}) || !d.CommitUnknown(errors.New("unexpected EOF")) {
		t.Error("CommitUnknown: a server's answer is definite, a broken connection is not")
	}

	// Nothing listens on the port: Open fails at once with an error that is Unavailable.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable")
	if err == nil || !isUnavailable(err) {
		t.Fatalf("Open on a closed port: %v", err)
	}
}
