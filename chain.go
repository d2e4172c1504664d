package kefu

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
)

// The tamper-evident chain of a conversation's messages (docs/orders.md,
// "Dispute export"). Each message is stored with
//
//	hash = SHA-256(previous hash ‖ seq as 8 bytes big-endian ‖ digest)
//
// where the previous hash is that of the message before it in the
// conversation (32 zero bytes for the first) and digest is MessageDigest.
// Changing, deleting or reordering a stored message breaks the chain from
// that message on, and the last hash (the chain head) a dispute export
// carries pins everything before it.

// ChainVersion names the digest's layout; it is the digest's first field.
const ChainVersion = "kefu-message-v1"

// MessageDigest is the SHA-256 of a message's content as the chain covers it:
// ChainVersion, shop, conversation, kind, sender, sender id, sender name,
// text, code, card (its JSON as encoding/json writes kefu.Card, "" for
// none), quick replies (a JSON array, "" for none) and the time in microseconds since 1970 UTC. Numbers
// are 8 bytes big-endian; each text is its length (4 bytes big-endian) and
// its UTF-8 bytes.
func MessageDigest(m Message) [sha256.Size]byte {
	var card, quick []byte
	if m.Card != nil {
		card, _ = json.Marshal(m.Card) // a struct of strings and numbers always marshals
	}
	if len(m.QuickReplies) > 0 {
		quick, _ = json.Marshal(m.QuickReplies)
	}
	return digest(m, card, quick)
}

func digest(m Message, card, quick []byte) [sha256.Size]byte {
	b := make([]byte, 0, 128+len(m.Text)+len(m.SenderName)+len(card)+len(quick))
	text := func(s []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	num := func(n int64) { b = binary.BigEndian.AppendUint64(b, uint64(n)) }
	text([]byte(ChainVersion))
	num(m.ShopID)
	num(m.ConversationID)
	text([]byte(m.Kind))
	text([]byte(m.Sender))
	num(m.SenderID)
	text([]byte(m.SenderName))
	text([]byte(m.Text))
	text([]byte(m.Code))
	text(card)
	text(quick)
	num(m.CreatedAt.UnixMicro())
	return sha256.Sum256(b)
}

// ChainHash is the hash of the message at seq with the given digest after a
// message whose hash is prev (hex; "" for none, which counts as 32 zero
// bytes), in hex. An
// unreadable prev counts as none: the result then cannot match a sound chain.
func ChainHash(prev string, seq int64, digest [sha256.Size]byte) string {
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		p = make([]byte, sha256.Size)
	}
	b := make([]byte, 0, 2*sha256.Size+8)
	b = append(b, p...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, digest[:]...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
