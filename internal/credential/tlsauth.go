package credential

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// maxTLSCerts bounds the self-signed certificates one credential registers.
const maxTLSCerts = 5

// TLSInput registers a credential's TLS client authentication (RFC 8705): SubjectDN for a
// certificate issued by a CA keyhold trusts (tls_client_auth), SelfSigned for certificates
// the client presents as they are (self_signed_tls_client_auth; PEM).
type TLSInput struct {
	SubjectDN  string
	SelfSigned []string
}

// CertThumbprint is a certificate's base64url SHA-256 thumbprint (RFC 8705's x5t#S256).
func CertThumbprint(der []byte) string {
	s := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// SetTLS registers (replaces) the credential's TLS client authentication. It takes what a
// reset takes (see visible): the certificate's holder acts with the credential's rights.
func (s *Service) SetTLS(ctx context.Context, c *principal.Caller, id string, in TLSInput) (*storage.Credential, error) {
	dn := strings.TrimSpace(in.SubjectDN)
	if len(dn) > 1024 || strings.ContainsFunc(dn, unprintable) {
		return nil, apperr.Invalid(apperr.SourceField, "subjectDn", "at most 1024 printable characters")
	}
	if len(in.SelfSigned) > maxTLSCerts {
		return nil, apperr.Invalid(apperr.SourceField, "selfSignedCertificates", "at most 5 certificates")
	}
	var thumbs []string
	for _, p := range in.SelfSigned {
		der, err := certDER(p)
		if err != nil {
			return nil, apperr.Invalid(apperr.SourceField, "selfSignedCertificates", err.Error())
		}
		thumbs = append(thumbs, CertThumbprint(der))
	}
	if dn == "" && len(thumbs) == 0 {
		return nil, apperr.Invalid(apperr.SourceField, "subjectDn", "give subjectDn or selfSignedCertificates (DELETE removes them)")
	}
	return s.storeTLS(ctx, c, id, dn, thumbs)
}

// RemoveTLS forgets the credential's TLS client authentication.
func (s *Service) RemoveTLS(ctx context.Context, c *principal.Caller, id string) error {
	_, err := s.storeTLS(ctx, c, id, "", nil)
	return err
}

// certDER reads one PEM certificate that is valid now.
func certDER(p string) ([]byte, error) {
	b, rest := pem.Decode([]byte(p))
	if b == nil || b.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("each entry must be one PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, errors.New("a certificate does not parse")
	}
	if time.Now().After(cert.NotAfter) {
		return nil, errors.New("a certificate has expired")
	}
	return b.Bytes, nil
}

func (s *Service) storeTLS(ctx context.Context, c *principal.Caller, id, dn string, thumbs []string) (*storage.Credential, error) {
	return s.updateVisible(ctx, c, id, "store TLS client authentication", func(id string, at time.Time) (*storage.Credential, error) {
		return s.Store.SetCredentialTLS(ctx, id, dn, thumbs, at)
	})
}
