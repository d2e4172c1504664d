// Package asset serves files embedded in the binary: gzipped once at start,
// addressed by a content hash (of the file, or of a set of files served under
// one prefix) so browsers may cache them forever, and
// revalidated by ETag where the URL has to stay stable (widget.js).
package asset

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// shortHash is how much of a SHA-256 names content: 12 hex digits.
func shortHash(sum []byte) string { return hex.EncodeToString(sum[:6]) }

// HashOf is a content hash over a set of files (name to content), for files that
// must keep their names (ES modules import each other by relative path) and are
// versioned together under one prefix instead. Names count too, so renaming or
// adding a file changes it.
func HashOf(files map[string][]byte) string {
	h := sha256.New()
	var n [8]byte
	for _, name := range slices.Sorted(maps.Keys(files)) {
		// Lengths first, so no two different sets write the same bytes.
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(files[name])))
		h.Write(n[:])
		h.Write(files[name])
	}
	return shortHash(h.Sum(nil))
}

// File is one embedded file, ready to serve.
type File struct {
	HashedName  string // e.g. "app.3f2a9c0e7d4b.js"
	ContentType string
	ETag        string
	body        []byte
	gzipped     []byte
}

// NewFile prepares body for serving under name.
func NewFile(name string, body []byte) *File {
	sum := sha256.Sum256(body)
	hash := shortHash(sum[:])
	ext := path.Ext(name)
	ctype := mime.TypeByExtension(ext)
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	return &File{
		HashedName:  strings.TrimSuffix(name, ext) + "." + hash + ext,
		ContentType: ctype,
		ETag:        `"` + hash + `"`,
		body:        body,
		gzipped:     buf.Bytes(),
	}
}

// GzipSize is the size of the gzipped body, what a browser downloads.
func (f *File) GzipSize() int { return len(f.gzipped) }

// Serve writes the file. immutable says the URL names the content (hashed
// name) so it may be cached for a year; otherwise the browser revalidates.
func (f *File) Serve(w http.ResponseWriter, r *http.Request, immutable bool) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("ETag", f.ETag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300, must-revalidate")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
