package httpapi

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessEntry is one access-log line: the request's id, method, route pattern, path, status,
// duration and source address. Never the query string, headers or body: tokens and secrets
// travel there.
type accessEntry struct {
	time                         time.Time
	id, method, route, path, src string
	status                       int
	duration                     time.Duration
}

// durationMS is the logged duration: milliseconds with microsecond precision.
func (e *accessEntry) durationMS() float64 { return float64(e.duration.Microseconds()) / 1000 }

// logAccess writes e at level Info, when Log enables it: appended by hand to AccessLog if
// that is set, else through Log's handler (called directly: the Logger would also capture a
// caller's program counter, which no handler of keyhold's prints).
func (a *API) logAccess(ctx context.Context, e *accessEntry) {
	h := a.Log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if a.AccessLog != nil {
		bp := lineBuffers.Get().(*[]byte)
		*bp = appendAccessLine((*bp)[:0], e)
		_, _ = a.AccessLog.Write(*bp)
		lineBuffers.Put(bp)
		return
	}
	r := slog.NewRecord(e.time, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("request_id", e.id), slog.String("method", e.method), slog.String("route", e.route),
		slog.String("path", e.path), slog.Int("status", e.status), slog.Float64("duration_ms", e.durationMS()),
		slog.String("remote", e.src))
	_ = h.Handle(ctx, r)
}

// lineBuffers holds the buffers access-log lines are appended to.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendAccessLine appends e as the line slog.NewJSONHandler writes for the same record
// (TestAccessLineMatchesSlog holds the two together).
func appendAccessLine(b []byte, e *accessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendJSONString(b, e.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"duration_ms":`...)
	// slog writes floats as encoding/json does: the shortest decimal form, which is strconv's
	// 'f' form for every value from 1e-6 to 1e21 and for zero. A duration in whole
	// microseconds, counted in milliseconds, is one of those.
	b = strconv.AppendFloat(b, e.durationMS(), 'f', -1, 64)
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, e.src)
	return append(b, "}\n"...)
}

// appendJSONString appends s quoted and escaped by slog's JSON rules: \", \\, \n, \r, \t,
// other control characters as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped;
// everything else, HTML characters included, as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		size := 1
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || n != 1) && r != '\u2028' && r != '\u2029' {
				i += n
				continue
			}
			size = n
		}
		b = appendEscaped(append(b, s[start:i]...), s[i:i+size])
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscaped appends the escape of one byte or rune that JSON strings may not hold as is.
func appendEscaped(b []byte, c string) []byte {
	const hex = "0123456789abcdef"
	switch {
	case c == "\"" || c == "\\":
		return append(b, '\\', c[0])
	case c == "\n":
		return append(b, `\n`...)
	case c == "\r":
		return append(b, `\r`...)
	case c == "\t":
		return append(b, `\t`...)
	case len(c) == 1 && c[0] < 0x20:
		return append(b, '\\', 'u', '0', '0', hex[c[0]>>4], hex[c[0]&0xF])
	case c == "\u2028":
		return append(b, `\u2028`...)
	case c == "\u2029":
		return append(b, `\u2029`...)
	}
	return append(b, `\ufffd`...) // invalid UTF-8
}
