package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/tlscert/tlscerttest"
)

// mtlsCert makes a client certificate: self-signed when parent is nil, else signed by it.
func mtlsCert(t *testing.T, subject pkix.Name, isCA bool, parent *tls.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func certPEM(c tls.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}))
}

// mtlsClient trusts the server's CA and presents cert (none when nil).
func mtlsClient(ca *tlscerttest.CA, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

func mtlsDo(t *testing.T, c *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func mtlsToken(t *testing.T, c *http.Client, tokenURL, clientID string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body := mtlsDo(t, c, req)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tr)
	return st, tr.AccessToken, body
}

func mtlsGet(t *testing.T, c *http.Client, u, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	st, _ := mtlsDo(t, c, req)
	return st
}

// Mutual TLS (RFC 8705): self-signed and CA-issued client certificates authenticate the
// credentials that registered them, and the tokens are bound to the certificate.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "clients.pem")
	serverCA := tlscerttest.NewCA(t)
	serverCA.Write(t, "keyhold", certFile, keyFile)
	clientCA := mtlsCert(t, pkix.Name{CommonName: "client CA"}, true, nil)
	if err := os.WriteFile(caFile, []byte(certPEM(clientCA)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.Start(t, app.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: caFile})
	ws := e.Admin.WorkspaceID
	tokenURL, apiURL := e.TokenURL(ws), e.Base+credsPath
	admin := mtlsClient(serverCA, nil)
	adminTok := func() string {
		st, tok, body := func() (int, string, []byte) {
			req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"},
				"client_id": {e.Admin.ClientID}, "client_secret": {e.Admin.ClientSecret}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			st, b := mtlsDo(t, admin, req)
			var tr struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(b, &tr)
			return st, tr.AccessToken, b
		}()
		if st != http.StatusOK {
			t.Fatalf("admin token: %d %s", st, body)
		}
		return tok
	}()
	put := func(id string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPut, apiURL+"/"+id+"/tls-client-auth", strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+adminTok)
		req.Header.Set("Content-Type", "application/json")
		return mtlsDo(t, admin, req)
	}
	create := func(name string) string {
		b, _ := json.Marshal(map[string]string{"credentialName": name})
		req, _ := http.NewRequest(http.MethodPost, apiURL, strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+adminTok)
		req.Header.Set("Content-Type", "application/json")
		st, body := mtlsDo(t, admin, req)
		var c struct{ ID string }
		if st != http.StatusCreated || json.Unmarshal(body, &c) != nil {
			t.Fatalf("create: %d %s", st, body)
		}
		return c.ID
	}

	// self_signed_tls_client_auth.
	self := mtlsCert(t, pkix.Name{CommonName: "job"}, false, nil)
	selfID := create("self-signed")
	if st, body := put(selfID, map[string]any{"selfSignedCertificates": []string{certPEM(self)}}); st != http.StatusOK ||
		!strings.Contains(string(body), credential.CertThumbprint(self.Certificate[0])) {
		t.Fatalf("register self-signed: %d %s", st, body)
	}
	selfClient := mtlsClient(serverCA, &self)
	st, tok, body := mtlsToken(t, selfClient, tokenURL, selfID)
	if st != http.StatusOK {
		t.Fatalf("self_signed_tls_client_auth: %d %s", st, body)
	}
	if got := mtlsGet(t, selfClient, apiURL, tok); got != http.StatusOK {
		t.Errorf("bound token with its certificate: %d", got)
	}
	other := mtlsCert(t, pkix.Name{CommonName: "job"}, false, nil)
	if got := mtlsGet(t, mtlsClient(serverCA, &other), apiURL, tok); got != http.StatusUnauthorized {
		t.Errorf("bound token with another certificate: %d, want 401", got)
	}
	if got := mtlsGet(t, admin, apiURL, tok); got != http.StatusUnauthorized {
		t.Errorf("bound token without a certificate: %d, want 401", got)
	}
	if st, _, body := mtlsToken(t, mtlsClient(serverCA, &other), tokenURL, selfID); st != http.StatusUnauthorized {
		t.Errorf("an unregistered self-signed certificate: %d %s", st, body)
	}

	// tls_client_auth: a certificate of the trusted CA with the registered subject.
	issued := mtlsCert(t, pkix.Name{CommonName: "job", Organization: []string{"Acme"}}, false, &clientCA)
	caID := create("ca-issued")
	if st, body := put(caID, map[string]any{"subjectDn": issued.Leaf.Subject.String()}); st != http.StatusOK {
		t.Fatalf("register subject DN: %d %s", st, body)
	}
	issuedClient := mtlsClient(serverCA, &issued)
	if st, tok, body := mtlsToken(t, issuedClient, tokenURL, caID); st != http.StatusOK {
		t.Errorf("tls_client_auth: %d %s", st, body)
	} else if got := mtlsGet(t, issuedClient, apiURL, tok); got != http.StatusOK {
		t.Errorf("tls_client_auth token with its certificate: %d", got)
	}
	// Same subject, not issued by the trusted CA; the right CA but another subject.
	forged := mtlsCert(t, issued.Leaf.Subject, false, nil)
	if st, _, body := mtlsToken(t, mtlsClient(serverCA, &forged), tokenURL, caID); st != http.StatusUnauthorized {
		t.Errorf("a self-made certificate with the registered subject: %d %s", st, body)
	}
	wrongSubject := mtlsCert(t, pkix.Name{CommonName: "other"}, false, &clientCA)
	if st, _, body := mtlsToken(t, mtlsClient(serverCA, &wrongSubject), tokenURL, caID); st != http.StatusUnauthorized {
		t.Errorf("the CA's certificate with another subject: %d %s", st, body)
	}
	// A certificate registered for one credential does not authenticate another.
	if st, _, body := mtlsToken(t, selfClient, tokenURL, caID); st != http.StatusUnauthorized {
		t.Errorf("another credential's certificate: %d %s", st, body)
	}

	// Metadata and bad input.
	req, _ := http.NewRequest(http.MethodGet, e.Base+"/.well-known/oauth-authorization-server"+strings.TrimPrefix(e.Node.Issuer.IssuerURL(ws), e.Base), nil)
	st, body = mtlsDo(t, admin, req)
	if st != http.StatusOK || !strings.Contains(string(body), `"tls_client_certificate_bound_access_tokens":true`) ||
		!strings.Contains(string(body), "self_signed_tls_client_auth") {
		t.Errorf("metadata: %d %s", st, body)
	}
	for name, b := range map[string]any{
		"not PEM":       map[string]any{"selfSignedCertificates": []string{"nope"}},
		"nothing":       map[string]any{},
		"six":           map[string]any{"selfSignedCertificates": []string{certPEM(self), certPEM(self), certPEM(self), certPEM(self), certPEM(self), certPEM(self)}},
		"control in DN": map[string]any{"subjectDn": "CN=a\x00"},
	} {
		if st, body := put(selfID, b); st != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	_ = storage.WorkspaceStandard
}

// Across workspaces the TLS client authentication routes answer 404, like a credential that
// does not exist; a node without TLS does not offer the methods.
func TestMutualTLSNotOffered(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	resp, raw := e.Do(t, http.MethodGet, "/.well-known/oauth-authorization-server/authorization/v2/oauth2/"+strings.ReplaceAll(e.Admin.WorkspaceID, "-", ""), "", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(raw), "tls_client_auth") || !strings.Contains(string(raw), `"tls_client_certificate_bound_access_tokens":false`) {
		t.Errorf("metadata without TLS: %d %s", resp.StatusCode, raw)
	}
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "tls"})
	other := e.CreateWorkspace(t, "Other", storage.WorkspaceStandard, "mtls-other@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
		resp, raw := e.Do(t, m, credsPath+"/"+c.ID+"/tls-client-auth", otherTok, map[string]any{"subjectDn": "CN=x"})
		wantCredErr(t, resp, raw, http.StatusNotFound)
	}
}

// TestTLSClientCAFileRefusals: a node refuses to start with --tls-client-ca-file when it does
// not serve TLS itself (it would never see a client certificate) or when the file holds no
// PEM certificate, and says which flag is wrong.
func TestTLSClientCAFileRefusals(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	tlscerttest.NewCA(t).Write(t, "keyhold", certFile, keyFile)
	caFile, junkFile := filepath.Join(dir, "clients.pem"), filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(caFile, []byte(certPEM(mtlsCert(t, pkix.Name{CommonName: "client CA"}, true, nil))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junkFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  app.Config
		want string
	}{
		{"without TLS", app.Config{TLSClientCAFile: caFile}, "--tls-client-ca-file needs --tls-cert-file"},
		{"no PEM", app.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: junkFile}, "no PEM certificate"},
		{"missing file", app.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: filepath.Join(dir, "none.pem")}, "--tls-client-ca-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.DataDir, c.cfg.Listen, c.cfg.Stdout = t.TempDir(), "127.0.0.1:0", io.Discard
			n, err := app.Open(context.Background(), c.cfg)
			if err == nil {
				n.Close()
				t.Fatalf("Open accepted %+v", c.cfg)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open: %v, want it to say %q", err, c.want)
			}
		})
	}
}
