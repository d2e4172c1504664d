package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// An owner exports an order's conversations (JSON and HTML) and verifies
// either file over REST; a plain agent may do neither; bad input is named.
func TestDisputeExportAPI(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		owner := e.ownerToken()
		key := e.newAPIKey(owner, "platform")
		if code, _ := e.putOrder(key, order("D-1", "u1", "in_dispute")); code != 201 {
			t.Fatalf("put order: %d", code)
		}
		token := e.signedInToken("v_exportbuyer1", "u1")
		b := e.dial("/ws/buyer", token, storeOrigin)
		b.next("ready")
		b.send(map[string]any{"type": "send", "client_msg_id": "card-1", "card": map[string]any{"kind": "order", "order_no": "D-1"}})
		conv := b.next("ack").Msg.ConversationID
		b.send(sendFrame(conv, "t-1", "东西坏了，要退款"))
		b.next("ack")

		fetch := func(method, path, token, ctype string, body []byte) (int, string, []byte) {
			t.Helper()
			req, _ := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header.Get("Content-Type"), data
		}
		code, ctype, doc := fetch("GET", "/api/v1/orders/D-1/export", owner, "", nil)
		if code != 200 || !strings.HasPrefix(ctype, "application/json") || !bytes.Contains(doc, []byte("东西坏了，要退款")) || !bytes.Contains(doc, []byte(`"chain_head"`)) {
			t.Fatalf("JSON export: %d %s %s", code, ctype, doc)
		}
		code, ctype, page := fetch("GET", "/api/v1/orders/D-1/export?format=html", owner, "", nil)
		if code != 200 || !strings.HasPrefix(ctype, "text/html") || bytes.Contains(bytes.ToLower(page), []byte("<script")) || !bytes.Contains(page, []byte("东西坏了，要退款")) {
			t.Fatalf("HTML export: %d %s", code, ctype)
		}
		for _, file := range [][]byte{doc, page} {
			code, _, out := fetch("POST", "/api/v1/exports/verify", owner, "application/json", file)
			if code != 200 || !strings.Contains(string(out), `"ok":true`) {
				t.Fatalf("verify: %d %s", code, out)
			}
		}
		li := e.login("acme", "li")
		if code, _, _ := fetch("GET", "/api/v1/orders/D-1/export", li, "", nil); code != 403 {
			t.Errorf("a plain agent exports: %d", code)
		}
		if code, _, out := fetch("GET", "/api/v1/orders/NOPE/export", owner, "", nil); code != 404 || !strings.Contains(string(out), "order_not_found") {
			t.Errorf("an unknown order: %d %s", code, out)
		}
		if code, _, out := fetch("POST", "/api/v1/exports/verify", owner, "application/json", []byte(`{"hello":1}`)); code != 400 || !strings.Contains(string(out), "invalid_export") {
			t.Errorf("not an export: %d %s", code, out)
		}
		other := bytes.Replace(doc, []byte(`"shop":{"id":`), []byte(`"shop":{"id":99`), 1)
		if code, _, out := fetch("POST", "/api/v1/exports/verify", owner, "application/json", other); code != 403 || !strings.Contains(string(out), "export_of_another_shop") {
			t.Errorf("another shop's export: %d %s", code, out)
		}
	})
}
