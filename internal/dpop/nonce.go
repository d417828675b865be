package dpop

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// NonceWindow is the length of a nonce window (RFC 9449 §8, §9). A nonce names the window it
// was made in; it is accepted while the checking node's clock is in that window or the next
// one (and one window early, for nodes whose clocks run a little apart). A nonce is thus
// good for at least NonceWindow after it is handed out, and at most twice that.
const NonceWindow = 5 * time.Minute

// Nonce sizes: a 4-byte window number and a 16-byte MAC, base64url without padding.
const (
	nonceWindowLen = 4
	nonceMACLen    = 16
	nonceRawLen    = nonceWindowLen + nonceMACLen
	// NonceLen is the length of every nonce keyhold makes.
	NonceLen = (nonceRawLen*8 + 5) / 6
)

// nonceInfo separates the nonce MAC key from any other use of the secret it is derived from.
const nonceInfo = "keyhold DPoP nonce v1"

// NonceKey derives the MAC key of DPoP nonces from secret (high-entropy key material every
// node holds, e.g. a signing key's PKCS#8 encoding) with HKDF-SHA256: the MAC key reveals
// nothing of secret.
func NonceKey(secret []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, nonceInfo, sha256.Size)
}

// NonceState is what a check says of a proof's nonce.
type NonceState int

const (
	// NonceInvalid: missing, malformed, forged, made with a key no longer held, or expired.
	// The server answers use_dpop_nonce with a fresh one.
	NonceInvalid NonceState = iota
	// NonceValid: made by a node sharing the keys, in the current window with the current key.
	NonceValid
	// NonceStale: still valid, but from an earlier window or a previous key: the server
	// accepts the proof and hands out a fresh nonce (DPoP-Nonce) with its answer.
	NonceStale
)

// Nonces makes and checks stateless DPoP nonces: HMAC-SHA256 over the window number, with a
// key every node derives from the same shared secret, so a nonce made by one node is
// accepted by all of them with no store access. Nonces are unpredictable without the key
// and expire with their window; they are not single-use (a proof's jti is what refuses
// replays), and every client gets the same nonce in a window.
type Nonces struct {
	// Keys returns the MAC keys (from NonceKey): the first makes nonces, all are accepted. It
	// is called on every Make and Check, so it must be cheap (an in-memory read), and it
	// should return the same slice until the keys change (the MACs of the current window
	// are remembered for it). No keys: Make fails and every nonce is invalid.
	Keys func() [][]byte

	memo atomic.Pointer[nonceMemo]
}

// nonceMemo is every key's nonce of one window, for one slice of keys: most proofs carry the
// current window's nonce, which then costs a comparison and no HMAC.
type nonceMemo struct {
	first  *[]byte // &keys[0]: the identity of the keys slice
	n      int
	window uint32
	raw    [][nonceRawLen]byte
}

// nonces returns the raw nonces of window w under each key, from the memo when it is for
// these keys and w (a memo for the current window replaces an older one).
func (n *Nonces) nonces(keys [][]byte, w, cur uint32) [][nonceRawLen]byte {
	if len(keys) == 0 {
		return nil
	}
	if m := n.memo.Load(); m != nil && m.first == &keys[0] && m.n == len(keys) && m.window == w {
		return m.raw
	}
	raw := make([][nonceRawLen]byte, len(keys))
	for i, k := range keys {
		raw[i] = rawNonce(k, w)
	}
	if w == cur {
		n.memo.Store(&nonceMemo{first: &keys[0], n: len(keys), window: w, raw: raw})
	}
	return raw
}

// window is the number of the window t falls in.
func window(t time.Time) uint32 { return uint32(t.Unix() / int64(NonceWindow/time.Second)) }

// rawNonce is the nonce of window w under key, before encoding: the window number and the
// first 16 bytes of HMAC-SHA256(key, window number).
func rawNonce(key []byte, w uint32) [nonceRawLen]byte {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint32(raw[:nonceWindowLen], w)
	m := hmac.New(sha256.New, key)
	m.Write(raw[:nonceWindowLen])
	var sum [sha256.Size]byte
	copy(raw[nonceWindowLen:], m.Sum(sum[:0]))
	return raw
}

// Make returns the nonce of now's window; ok is false when there is no key to make one with.
func (n *Nonces) Make(now time.Time) (nonce string, ok bool) {
	w := window(now)
	raw := n.nonces(n.Keys(), w, w)
	if len(raw) == 0 {
		return "", false
	}
	return base64.RawURLEncoding.EncodeToString(raw[0][:]), true
}

// ParseNonce returns the window a nonce claims to be from; ok is false when it does not
// have the shape of a nonce keyhold makes (it says nothing of the MAC).
func ParseNonce(nonce string) (w uint32, ok bool) {
	raw, ok := decodeNonce(nonce)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint32(raw[:nonceWindowLen]), true
}

// strictB64 refuses spare bits; the decoder skips CR and LF, which the fixed length then
// refuses (fewer bytes decode): a nonce has one spelling.
var strictB64 = base64.RawURLEncoding.Strict()

// decodeNonce decodes a nonce of keyhold's shape (NonceLen characters of base64url).

func decodeNonce(nonce string) (raw [nonceRawLen]byte, ok bool) {
	if len(nonce) != NonceLen {
		return raw, false
	}
	var buf [NonceLen]byte
	copy(buf[:], nonce)
	if n, err := strictB64.Decode(raw[:], buf[:]); err != nil || n != nonceRawLen {
		return raw, false
	}
	return raw, true
}

// Check says whether nonce, sent in a proof at now, is one this service made and still
// accepts.
func (n *Nonces) Check(nonce string, now time.Time) NonceState {
	raw, ok := decodeNonce(nonce)
	if !ok {
		return NonceInvalid
	}
	w := binary.BigEndian.Uint32(raw[:nonceWindowLen])
	cur := window(now)
	// The window before, this one, and the next (a node whose clock is a little ahead).
	if w+1 < cur || w > cur+1 {
		return NonceInvalid
	}
	for i, want := range n.nonces(n.Keys(), w, cur) {
		if subtle.ConstantTimeCompare(want[nonceWindowLen:], raw[nonceWindowLen:]) == 1 {
			if i == 0 && w >= cur {
				return NonceValid
			}
			return NonceStale
		}
	}
	return NonceInvalid
}
