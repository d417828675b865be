package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Lifetimes of what authload signs, within what keyhold accepts (internal/clientauth: exp at
// most 5 minutes ahead, accepted until exp + 30 s; internal/dpop: iat within the last 60 s).
const (
	assertionLifetime = 4*time.Minute + 30*time.Second
	// assertionMargin: an assertion is not sent later than exp - assertionMargin.
	assertionMargin = 5 * time.Second
	// proofUsable: a proof is not sent later than iat + proofUsable (keyhold: 60 s).
	proofUsable = 50 * time.Second
)

// key is the client's key pair: it signs client assertions or DPoP proofs.
type key struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	kid  string
}

func newKey(alg string) (*key, error) {
	k := &key{kid: "authload-" + randomHex(8)}
	switch alg {
	case "ES256":
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		k.alg, k.priv = jose.ES256, p
	case "EdDSA":
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.alg, k.priv = jose.EdDSA, p
	default:
		return nil, fmt.Errorf("-alg %q: want ES256 or EdDSA", alg)
	}
	return k, nil
}

// publicJWK is the key to register (inline JWKS), with kid, alg and use.
func (k *key) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// assertionSigner signs client assertions: kid in the header, no typ.
func (k *key) assertionSigner() (jose.Signer, error) {
	return jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, nil)
}

// proofSigner signs DPoP proofs: typ dpop+jwt and the public jwk in the header.
func (k *key) proofSigner() (jose.Signer, error) {
	return jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
}

// proofClaims are a DPoP proof's claims (RFC 9449 §4.2) for the token endpoint.
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// item is one pre-signed JWT: a client assertion or a DPoP proof.
type item struct {
	jwt   string
	until time.Time // not sent after this
	nonce string    // the DPoP nonce it carries ("" none)
}

// signFunc signs one item with the signer it was given and the nonce to carry.
type signFunc func(s jose.Signer, nonce string) (item, error)

// pool holds the pre-signed items, oldest first, and signs more when it runs low. Workers
// take from ch; items past their until, or carrying a nonce the server refused, are
// discarded as they come up.
type pool struct {
	newSigner func() (jose.Signer, error)
	sign      signFunc
	ch        chan item

	nonce   atomic.Pointer[string]          // the nonce new items carry
	refused atomic.Pointer[map[string]bool] // nonces the server refused (copy on write)
	mu      sync.Mutex                      // serialises writers of refused
	newest  atomic.Int64                    // unix nanos: until of the newest item queued

	kick chan struct{}

	// counters
	signedBefore  atomic.Int64 // signed before a measured phase (in fill)
	signedDuring  atomic.Int64 // signed in the background while a phase ran
	expired       atomic.Int64 // discarded: too old to send
	stale         atomic.Int64 // discarded: carried a refused nonce
	dry           atomic.Int64 // times a worker found the pool empty and waited
	nonceRenewals atomic.Int64 // nonces adopted after the first
}

func newPool(newSigner func() (jose.Signer, error), sign signFunc) *pool {
	p := &pool{newSigner: newSigner, sign: sign, ch: make(chan item, 1), kick: make(chan struct{}, 1)}
	empty := ""
	p.nonce.Store(&empty)
	p.refused.Store(&map[string]bool{})
	return p
}

// currentNonce is the nonce new items carry.
func (p *pool) currentNonce() string { return *p.nonce.Load() }

// setNonce makes new items carry n (a nonce from a DPoP-Nonce header).
func (p *pool) setNonce(n string) {
	if n == "" || n == p.currentNonce() {
		return
	}
	if p.currentNonce() != "" {
		p.nonceRenewals.Add(1)
	}
	p.nonce.Store(&n)
}

// refuse records that the server refused nonce (use_dpop_nonce) and offered next instead:
// items carrying the refused nonce are discarded from then on.
func (p *pool) refuse(nonce, next string) {
	p.setNonce(next)
	if nonce == next {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.refused.Load()
	if old[nonce] {
		return
	}
	m := make(map[string]bool, len(old)+1)
	for k := range old {
		m[k] = true
	}
	m[nonce] = true
	p.refused.Store(&m)
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// resize gives the pool room for n items (keeping the ones it holds). Only between phases.
func (p *pool) resize(n int) {
	if n <= cap(p.ch) {
		return
	}
	ch := make(chan item, n)
	for len(p.ch) > 0 {
		ch <- <-p.ch
	}
	p.ch = ch
}

// fill signs n items on workers goroutines and queues them.
func (p *pool) fill(n, workers int) error {
	if n <= 0 {
		return nil
	}
	p.resize(len(p.ch) + n)
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		errOnce sync.Once
		err     error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, e := p.newSigner()
			if e != nil {
				errOnce.Do(func() { err = e })
				return
			}
			for next.Add(1) <= int64(n) {
				it, e := p.sign(s, p.currentNonce())
				if e != nil {
					errOnce.Do(func() { err = e })
					return
				}
				p.push(it)
				p.signedBefore.Add(1)
			}
		}()
	}
	wg.Wait()
	return err
}

func (p *pool) push(it item) {
	p.ch <- it
	if u := it.until.UnixNano(); u > p.newest.Load() {
		p.newest.Store(u)
	}
}

// take returns the next item fit to send, waiting for the background signer when the pool
// is empty; false when done closes first.
func (p *pool) take(done <-chan struct{}) (item, bool) {
	for {
		var it item
		select {
		case it = <-p.ch:
		default:
			p.dry.Add(1)
			select {
			case p.kick <- struct{}{}:
			default:
			}
			select {
			case it = <-p.ch:
			case <-done:
				return item{}, false
			}
		}
		if time.Now().After(it.until) {
			p.expired.Add(1)
			continue
		}
		if it.nonce != "" && (*p.refused.Load())[it.nonce] {
			p.stale.Add(1)
			continue
		}
		return it, true
	}
}

// background keeps the pool above low items, and keeps items in it that stay sendable for a
// while, with one goroutine, until done closes. What it signs is counted in signedDuring.
func (p *pool) background(done <-chan struct{}, low int) {
	s, err := p.newSigner()
	if err != nil {
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		case <-p.kick:
		}
		for p.needs(low) {
			select {
			case <-done:
				return
			default:
			}
			for range 32 {
				it, err := p.sign(s, p.currentNonce())
				if err != nil {
					return
				}
				select {
				case p.ch <- it:
				default: // full: the workers have enough
				}
				if u := it.until.UnixNano(); u > p.newest.Load() {
					p.newest.Store(u)
				}
				p.signedDuring.Add(1)
			}
		}
	}
}

// needs: fewer than low items queued, or every queued item stops being sendable within 10 s.
func (p *pool) needs(low int) bool {
	if len(p.ch) >= cap(p.ch)-32 {
		return false
	}
	return len(p.ch) < low || time.Until(time.Unix(0, p.newest.Load())) < 10*time.Second
}

// assertionFunc signs client assertions for clientID with aud the token endpoint.
func assertionFunc(clientID, aud string) signFunc {
	return func(s jose.Signer, _ string) (item, error) {
		now := time.Now()
		exp := now.Add(assertionLifetime)
		c := jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud}, ID: randomHex(16),
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp)}
		tok, err := jwt.Signed(s).Claims(c).Serialize()
		return item{jwt: tok, until: exp.Add(-assertionMargin)}, err
	}
}

// proofFunc signs DPoP proofs for POST to htu.
func proofFunc(htu string) signFunc {
	return func(s jose.Signer, nonce string) (item, error) {
		iat := time.Now().Unix()
		tok, err := jwt.Signed(s).Claims(proofClaims{JTI: randomHex(16), HTM: "POST", HTU: htu, IAT: iat, Nonce: nonce}).Serialize()
		return item{jwt: tok, until: time.Unix(iat, 0).Add(proofUsable), nonce: nonce}, err
	}
}
