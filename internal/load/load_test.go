package load

import "testing"

func TestRequireLoopback(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.4.5", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://10.0.0.1:8080", false},
		{"https://127.0.0.1", false},
		{"http://example.com", false},
	} {
		if err := RequireLoopback(tt.url); (err == nil) != tt.ok {
			t.Errorf("RequireLoopback(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
	if a, b := buyerAddress(0), buyerAddress(65536+258); a != "198.18.0.0" || b != "198.19.1.2" {
		t.Errorf("buyer addresses %s, %s", a, b)
	}
	if !isLoopback("ws://127.0.0.1:8080/ws/buyer") || isLoopback("wss://kefu.example.com/ws/buyer") {
		t.Error("isLoopback of socket URLs")
	}
}
