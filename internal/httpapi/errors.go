package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/token"
)

// errorBody is the GreenLake error response.
type errorBody struct {
	HTTPStatusCode int           `json:"httpStatusCode"`
	ErrorCode      string        `json:"errorCode"`
	Message        string        `json:"message"`
	DebugID        string        `json:"debugId"`
	ErrorDetails   []errorDetail `json:"errorDetails,omitempty"`
}

type errorDetail struct {
	Type   string         `json:"type"`
	Issues []apperr.Issue `json:"issues"`
}

// writeError answers with the GreenLake error body for err and logs it under its debugId.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status := e.Kind.Status()
	body := errorBody{HTTPStatusCode: status, ErrorCode: e.ErrorCode(), Message: e.Message, DebugID: ids.New()}
	if len(e.Issues) > 0 {
		body.ErrorDetails = []errorDetail{{Type: "hpe.greenlake.bad_request", Issues: e.Issues}}
	}
	level := slog.LevelInfo
	attrs := []any{"debug_id", body.DebugID, "status", status, "error_code", body.ErrorCode, "request_id", requestID(w)}
	switch e.Kind {
	case apperr.Internal:
		level = slog.LevelError
		attrs = append(attrs, "cause", e.Error())
	case apperr.Unavailable:
		// The operator needs the cause (a full disk, a lost database); the client does not.
		level = slog.LevelWarn
		attrs = append(attrs, "cause", e.Error())
	default:
		attrs = append(attrs, "message", e.Message)
	}
	a.Log.Log(r.Context(), level, "request failed", attrs...)
	var ne *token.NonceError
	switch {
	case status == http.StatusUnauthorized && errors.As(err, &ne):
		// RFC 9449 §9: the DPoP challenge alone, with the nonce to sign the next proof with.
		w.Header().Set("WWW-Authenticate", dpopNonceChallenge)
		w.Header().Set(token.DPoPNonceHeader, ne.Nonce)
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyhold", error="invalid_token"`)
		w.Header().Add("WWW-Authenticate", dpopChallenge) // RFC 9449 §7.1
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if isSCIM(r) {
		a.writeSCIMError(w, r, e, body)
		return
	}
	writeJSON(w, status, body)
}

// contentTypeJSON is the Content-Type of every JSON response. Header slices are only read
// once set, so one slice serves every response.
var contentTypeJSON = []string{"application/json"}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header()["Content-Type"] = contentTypeJSON
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// dpopChallenge offers the DPoP scheme with the algorithms keyhold verifies.
var dpopChallenge = `DPoP realm="keyhold", algs="` + strings.Join(dpop.AlgorithmNames(), " ") + `"`

// dpopNonceChallenge asks for a proof with the server's nonce (RFC 9449 §9).
var dpopNonceChallenge = `DPoP realm="keyhold", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="` +
	strings.Join(dpop.AlgorithmNames(), " ") + `"`
