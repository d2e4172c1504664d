package autoreply

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// The traditional→simplified table covers the CJK Unified Ideographs and
// Extension A, indexed from t2sFirst; 0 means the character stays.
const (
	t2sFirst = 0x3400
	t2sLast  = 0x9FFF
)

// t2s is built once, on first use, because loading OpenCC's dictionaries
// and converting every character takes about 10 ms that a process which
// never matches (a migration, a CLI command) should not pay.
var t2s struct {
	once  sync.Once
	table []rune
	err   error
}

// Prepare builds the traditional→simplified table Fold uses, if it is not
// built yet, and returns the error that kept OpenCC's dictionary from
// loading, if any. Fold works without it, leaving traditional characters as
// they are; a caller calls Prepare at start-up to pay the build there and to
// learn whether folding is complete.
func Prepare() error {
	t2sTable()
	return t2s.err
}

func t2sTable() []rune {
	t2s.once.Do(func() {
		t2s.table, t2s.err = buildT2S()
	})
	return t2s.table
}

func buildT2S() ([]rune, error) {
	cc, err := opencc.New("t2s")
	if err != nil {
		return nil, fmt.Errorf("autoreply: load opencc t2s: %w", err)
	}
	table := make([]rune, t2sLast-t2sFirst+1)
	var buf [utf8.UTFMax]byte
	for r := rune(t2sFirst); r <= t2sLast; r++ {
		n := utf8.EncodeRune(buf[:], r)
		out, err := cc.Convert(string(buf[:n]))
		if err != nil {
			return nil, fmt.Errorf("autoreply: opencc t2s %q: %w", r, err)
		}
		// Only a one-character result is a character mapping; longer ones
		// come from phrases, which a per-character table cannot apply.
		s, size := utf8.DecodeRuneInString(out)
		if size == len(out) && s != utf8.RuneError && s != r {
			table[r-t2sFirst] = s
		}
	}
	// A few mappings chain (薴→苧→苎): follow them to the end so that Fold of
	// folded text changes nothing, else a pattern written 苧 would fold to 苎
	// and never meet a message written 薴, which folds to 苧.
	for i, s := range table {
		for n := 0; n < 4 && t2sFirst <= s && s <= t2sLast && table[s-t2sFirst] != 0; n++ {
			s = table[s-t2sFirst]
		}
		table[i] = s
	}
	return table, nil
}

// What folding does with an ASCII byte.
const (
	asciiKeep  = iota // a lower-case letter or digit
	asciiDrop         // space, control or punctuation
	asciiLower        // an upper-case letter
)

var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for b := range c {
		switch {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
			c[b] = asciiKeep
		case 'A' <= b && b <= 'Z':
			c[b] = asciiLower
		default:
			c[b] = asciiDrop
		}
	}
	return c
}()

// Fold normalises text for matching: full-width ASCII forms become ASCII,
// letters lower case, traditional Chinese characters simplified ones (see
// Prepare), and white space, punctuation and invisible characters are
// removed; emoji and other symbols are kept. It returns s itself when
// nothing changes, and allocates only the result otherwise.
func Fold(s string) string {
	table := t2sTable()
	i := firstChange(s, table)
	if i == len(s) {
		return s
	}
	// A result that fits on the stack costs one allocation, the string.
	var stack [512]byte
	return string(appendFold(append(stack[:0], s[:i]...), s[i:], table))
}

// firstChange returns the index of the first byte of s that folding
// changes, or len(s).
func firstChange(s string, table []rune) int {
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if asciiClass[b] != asciiKeep {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if f, keep := foldRune(r, table); !keep || f != r || r == utf8.RuneError {
			return i
		}
		i += size
	}
	return len(s)
}

// appendFold appends the folding of s to dst.
func appendFold(dst []byte, s string, table []rune) []byte {
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			switch asciiClass[b] {
			case asciiKeep:
				dst = append(dst, b)
			case asciiLower:
				dst = append(dst, b+'a'-'A')
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if f, keep := foldRune(r, table); keep {
			dst = utf8.AppendRune(dst, f)
		}
	}
	return dst
}

// foldRune folds one non-ASCII rune; keep is false when folding removes it.
func foldRune(r rune, table []rune) (f rune, keep bool) {
	switch {
	case 0xFF01 <= r && r <= 0xFF5E:
		// Full-width forms sit at a fixed distance from ASCII.
		a := byte(r - 0xFF01 + '!')
		switch asciiClass[a] {
		case asciiKeep:
			return rune(a), true
		case asciiLower:
			return rune(a + 'a' - 'A'), true
		}
		return 0, false
	case t2sFirst <= r && r <= t2sLast:
		if table != nil {
			if s := table[r-t2sFirst]; s != 0 {
				return s, true
			}
		}
		return r, true
	case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsControl(r), invisible(r):
		return 0, false
	}
	return unicode.ToLower(r), true
}

// invisible reports whether r is a zero-width character or a variation
// selector: they make "❤️" and "❤" or a pasted "发\u200b货" differ though they
// look the same.
func invisible(r rune) bool {
	switch {
	case 0x200B <= r && r <= 0x200F, r == 0x2060, r == 0xFEFF:
		return true
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF:
		return true
	}
	return false
}
