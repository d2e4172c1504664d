package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BuyerTokenTTL is how long a buyer token opens sockets. An open socket
// outlives it; a reconnect after it needs a new one (close code 4401).
const BuyerTokenTTL = 15 * time.Minute

// AgentSessionTTL is how long an agent stays signed in.
const AgentSessionTTL = 12 * time.Hour

// buyerTokens signs and checks the short-lived tokens a buyer's socket opens
// with. They are stateless (HMAC-SHA256 with a server secret kept in the
// database), so checking one costs no database read.
type buyerTokens struct {
	secret []byte
}

type buyerClaims struct {
	ShopID  int64
	BuyerID int64
	Expires time.Time
}

func (t buyerTokens) sign(c buyerClaims) string {
	payload := fmt.Sprintf("b1.%d.%d.%d", c.ShopID, c.BuyerID, c.Expires.Unix())
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac.Sum(nil))
}

func (t buyerTokens) verify(token string, now time.Time) (buyerClaims, bool) {
	enc := base64.RawURLEncoding
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return buyerClaims{}, false
	}
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return buyerClaims{}, false
	}
	mac := hmac.New(sha256.New, t.secret)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return buyerClaims{}, false
	}
	parts := strings.Split(string(payload), ".")
	if len(parts) != 4 || parts[0] != "b1" {
		return buyerClaims{}, false
	}
	shop, err1 := strconv.ParseInt(parts[1], 10, 64)
	buyer, err2 := strconv.ParseInt(parts[2], 10, 64)
	exp, err3 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return buyerClaims{}, false
	}
	c := buyerClaims{ShopID: shop, BuyerID: buyer, Expires: time.Unix(exp, 0)}
	if !now.Before(c.Expires) {
		return buyerClaims{}, false
	}
	return c, true
}

// newSessionToken returns a random agent session token and the hash stored
// for it; the database never holds a usable token.
func newSessionToken() (token, hash string) {
	buf := make([]byte, 32)
	rand.Read(buf)
	token = base64.RawURLEncoding.EncodeToString(buf)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewIdentitySecret returns a new random identity secret for a shop: 24
// random bytes in hex, the form `kefu create-shop` gives a new shop.
func NewIdentitySecret() string {
	buf := make([]byte, 24)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}

// BuyerSignature is what a shop's server computes to vouch for a logged-in
// buyer: hex(HMAC-SHA256(identity secret, buyer id)).
func BuyerSignature(identitySecret, buyerID string) string {
	mac := hmac.New(sha256.New, []byte(identitySecret))
	mac.Write([]byte(buyerID))
	return hex.EncodeToString(mac.Sum(nil))
}

func validSignature(identitySecret, buyerID, signature string) bool {
	want := BuyerSignature(identitySecret, buyerID)
	return hmac.Equal([]byte(strings.ToLower(signature)), []byte(want))
}
