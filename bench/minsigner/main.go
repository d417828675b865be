// Command minsigner is the "practical limit" baseline for keyhold's token endpoint.
//
// It serves POST /token with the least work an OAuth 2.0 client_credentials token endpoint
// can do and still answer like keyhold: parse the form, build the same claim set keyhold puts
// in an API access token, sign it (ES256 by default, EdDSA with -alg EdDSA) with go-jose v4,
// and encode the JSON response. There is no client authentication, no storage, no audit, no
// rate limiting: whatever keyhold's /token costs on top of this figure is the price of its
// real work. It is a benchmark fixture, never a token service: every token it signs is
// signed by a key generated at start and thrown away at exit.
//
// GET /readyz answers 200 so the load harness can wait for it like it waits for keyhold.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const tokenLifetime = 900 * time.Second

// claims is the claim set keyhold issues for an API client's access token. A struct, not a
// map, so encoding costs what it costs in a well-written service.
type claims struct {
	Issuer                  string `json:"iss"`
	Subject                 string `json:"sub"`
	Audience                string `json:"aud"`
	IssuedAt                int64  `json:"iat"`
	NotBefore               int64  `json:"nbf"`
	Expiry                  int64  `json:"exp"`
	ID                      string `json:"jti"`
	ClientID                string `json:"client_id"`
	HPETokenType            string `json:"hpe_token_type"`
	HPEWorkspaceID          string `json:"hpe_workspace_id"`
	HPEPrincipalType        string `json:"hpe_principal_type"`
	HPECredentialGeneration int    `json:"hpe_credential_generation"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

type issuer struct {
	signer      jose.Signer
	issuer      string
	audience    string
	workspaceID string
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func main() {
	log.SetFlags(0)
	log.SetPrefix("minsigner: ")

	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on (host:port)")
	alg := flag.String("alg", "ES256", "signature algorithm: ES256 (P-256) or EdDSA (Ed25519)")
	iss := flag.String("issuer", "", "iss claim (default http://LISTEN)")
	aud := flag.String("audience", "", "aud claim (default: the issuer)")
	ws := flag.String("workspace-id", "", "hpe_workspace_id claim, 32 hex digits (default: random)")
	flag.Parse()

	if *iss == "" {
		*iss = "http://" + *listen
	}
	if *aud == "" {
		*aud = *iss
	}
	if *ws == "" {
		*ws = randomHex(16)
	}
	if !hex32.MatchString(*ws) {
		log.Fatalf("-workspace-id %q: want 32 lower-case hex digits", *ws)
	}

	signer, kid, err := newSigner(*alg)
	if err != nil {
		log.Fatal(err)
	}
	is := &issuer{signer: signer, issuer: *iss, audience: *aud, workspaceID: *ws}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", is.serveToken)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()

	log.Printf("listening on http://%s (alg %s, kid %s, iss %s)", ln.Addr(), *alg, kid, *iss)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newSigner makes a fresh key for alg and a go-jose signer whose protected header carries
// typ "at+jwt" (RFC 9068) and a kid, the key's RFC 7638 thumbprint.
func newSigner(alg string) (jose.Signer, string, error) {
	var (
		key    any
		pub    any
		sigAlg jose.SignatureAlgorithm
	)
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, "", err
		}
		key, pub, sigAlg = k, &k.PublicKey, jose.ES256
	case "EdDSA":
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, "", err
		}
		key, pub, sigAlg = k, p, jose.EdDSA
	default:
		return nil, "", fmt.Errorf("-alg %q: want ES256 or EdDSA", alg)
	}

	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", err
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)

	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: sigAlg, Key: key}, opts)
	if err != nil {
		return nil, "", err
	}
	return s, kid, nil
}

func (is *issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_request", ErrorDescription: "malformed form body"})
		return
	}
	grantType := r.PostForm.Get("grant_type")
	clientID := r.PostForm.Get("client_id")
	_ = r.PostForm.Get("client_secret") // parsed like keyhold does, never checked
	if clientID == "" {
		// client_secret_basic: take the client id from the header, still without checking.
		if id, _, ok := r.BasicAuth(); ok {
			clientID = id
		}
	}
	if grantType != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "unsupported_grant_type"})
		return
	}
	if clientID == "" {
		writeJSON(w, http.StatusUnauthorized, oauthError{Error: "invalid_client"})
		return
	}

	now := time.Now()
	payload, err := json.Marshal(claims{
		Issuer:                  is.issuer,
		Subject:                 "api-client:" + clientID,
		Audience:                is.audience,
		IssuedAt:                now.Unix(),
		NotBefore:               now.Unix(),
		Expiry:                  now.Add(tokenLifetime).Unix(),
		ID:                      randomHex(16),
		ClientID:                clientID,
		HPETokenType:            "api-v1.2",
		HPEWorkspaceID:          is.workspaceID,
		HPEPrincipalType:        "api-client",
		HPECredentialGeneration: 1,
	})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{Error: "server_error"})
		return
	}
	jws, err := is.signer.Sign(payload)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{Error: "server_error"})
		return
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{Error: "server_error"})
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: compact, TokenType: "Bearer", ExpiresIn: int(tokenLifetime / time.Second)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return hex.EncodeToString(b)
}
