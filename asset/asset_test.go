package asset

import "testing"

// HashOf versions a set of files: the same set hashes the same, and changing a
// file's content or name, or adding one, changes it.
func TestHashOf(t *testing.T) {
	base := map[string][]byte{"app.js": []byte("import './a.js';"), "a.js": []byte("export {};")}
	h := HashOf(base)
	if len(h) != 12 || HashOf(map[string][]byte{"a.js": []byte("export {};"), "app.js": []byte("import './a.js';")}) != h {
		t.Fatalf("HashOf is not a stable 12-digit hash: %q", h)
	}
	for name, files := range map[string]map[string][]byte{
		"content": {"app.js": []byte("import './a.js';"), "a.js": []byte("export { x };")},
		"name":    {"app.js": []byte("import './a.js';"), "b.js": []byte("export {};")},
		"added":   {"app.js": []byte("import './a.js';"), "a.js": []byte("export {};"), "b.js": nil},
		// The same bytes split differently between name and content.
		"boundary": {"app.js": []byte("import './a.js';"), "a.jsexport {};": nil},
	} {
		if HashOf(files) == h {
			t.Errorf("%s changed, hash did not", name)
		}
	}
}
