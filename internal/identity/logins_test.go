package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

type fakeLogins struct {
	mu    sync.Mutex
	calls [][]storage.Login
	fail  bool
}

func (f *fakeLogins) RecordLogins(_ context.Context, l []storage.Login) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("store down")
	}
	f.calls = append(f.calls, append([]storage.Login(nil), l...))
	return nil
}

// TestLoginRecorder: Note never touches the store; Flush writes each user once with its
// latest login, in batches; a failed flush keeps the logins for the next; the pending set is
// bounded.
func TestLoginRecorder(t *testing.T) {
	st := &fakeLogins{}
	r := &LoginRecorder{Store: st, Max: 1000}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 600 {
		r.Note(fmt.Sprintf("u%d", i), t0)
	}
	r.Note("u1", t0.Add(time.Minute))
	r.Note("u1", t0.Add(time.Second)) // older: ignored
	r.Note("", t0)
	if len(st.calls) != 0 {
		t.Fatal("Note wrote to the store")
	}
	r.Flush(context.Background())
	if len(st.calls) != 2 || len(st.calls[0]) != loginBatch || len(st.calls[1]) != 100 || r.Written() != 600 {
		t.Fatalf("flush wrote %d batches, %d logins", len(st.calls), r.Written())
	}
	for _, b := range st.calls {
		for _, l := range b {
			if l.UserID == "u1" && !l.At.Equal(t0.Add(time.Minute)) {
				t.Errorf("u1 recorded at %v, want its latest login", l.At)
			}
		}
	}
	r.Flush(context.Background())
	if len(st.calls) != 2 {
		t.Fatal("an empty flush wrote")
	}
	st.fail = true
	r.Note("u2", t0.Add(time.Hour))
	r.Flush(context.Background())
	r.Note("u3", t0)
	st.fail = false
	r.Flush(context.Background())
	if last := st.calls[len(st.calls)-1]; len(last) != 2 {
		t.Fatalf("after a failed flush the next wrote %v, want u2 and u3", last)
	}
	small := &LoginRecorder{Store: st, Max: 2}
	for i := range 5 {
		small.Note(fmt.Sprintf("v%d", i), t0)
	}
	small.Note("v0", t0.Add(time.Minute)) // a pending user still advances
	if small.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", small.Dropped())
	}
	var nilRec *LoginRecorder
	nilRec.Note("x", t0) // a nil recorder records nothing
}

// BenchmarkLoginNote is the token path's cost of a last login.
func BenchmarkLoginNote(b *testing.B) {
	r := &LoginRecorder{Store: &fakeLogins{}}
	users := make([]string, 1024)
	for i := range users {
		users[i] = fmt.Sprintf("user-%d", i)
	}
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Note(users[i%len(users)], now)
			i++
		}
	})
}
