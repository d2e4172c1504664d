package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu/kefu"
)

type phraseOut struct {
	ID       int64
	Scope    string
	Category string
	Shortcut string
	Text     string
	Uses     int64
}

// Quick phrases over REST: the shop's are managed by owners and supervisors,
// each agent keeps their own; bad input stores nothing; uses order the list.
func TestQuickPhrases(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		lead := e.login("acme", e.addAgent("lead", kefu.RoleSupervisor).Username)
		wang := e.login("acme", "wang")
		li := e.login("acme", "li")
		var created struct{ Phrase phraseOut }
		var refused apiErr
		if code := e.do("POST", "/api/v1/phrases", wang, "", map[string]any{"scope": "shop", "text": "亲，在的"}, &refused); code != 403 || refused.Error.Code != "supervisor_only" {
			t.Fatalf("a plain agent adds a shop phrase: %d %q", code, refused.Error.Code)
		}
		if code := e.do("POST", "/api/v1/phrases", lead, "", map[string]any{"scope": "shop", "category": "物流", "shortcut": "fh",
			"text": "亲，{order.no} 今天发货，快递单号 {order.tracking_no}"}, &created); code != 201 || created.Phrase.Scope != "shop" {
			t.Fatalf("create a shop phrase: %d %+v", code, created)
		}
		shared := created.Phrase.ID
		for _, bad := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"scope": "shop", "text": "亲，{buyer.nickname}"}, "unknown_variable"},
			{map[string]any{"scope": "shop", "text": "订单 {订单号}"}, "unknown_variable"},
			{map[string]any{"scope": "shop", "text": "订单 { order.no }"}, "unknown_variable"},
			{map[string]any{"scope": "shop", "text": "  "}, "text_empty"},
			{map[string]any{"scope": "shop", "text": strings.Repeat("长", 2001)}, "text_too_long"},
			{map[string]any{"scope": "shop", "text": "x", "shortcut": "发货"}, "invalid_shortcut"},
			{map[string]any{"scope": "team", "text": "x"}, "invalid_scope"},
		} {
			refused = apiErr{}
			if code := e.do("POST", "/api/v1/phrases", lead, "", bad.body, &refused); code != 400 || refused.Error.Code != bad.code {
				t.Errorf("%v: %d %q, want 400 %s", bad.body, code, refused.Error.Code, bad.code)
			}
		}
		if code := e.do("POST", "/api/v1/phrases", lead, "", map[string]any{"scope": "shop", "shortcut": "fh", "text": "again"}, &refused); code != 409 || refused.Error.Code != "shortcut_taken" {
			t.Fatalf("a taken shortcut: %d %q", code, refused.Error.Code)
		}
		// The same shortcut is free for an agent's own phrase.
		if code := e.do("POST", "/api/v1/phrases", wang, "", map[string]any{"scope": "personal", "shortcut": "fh", "text": "我的发货话术"}, &created); code != 201 || created.Phrase.Scope != "personal" {
			t.Fatalf("a personal phrase: %d %+v", code, created)
		}
		own := created.Phrase.ID
		if code := e.do("POST", "/api/v1/phrases/"+itoa(shared)+"/use", wang, "", nil, nil); code != 204 {
			t.Fatalf("use: %d", code)
		}
		var list struct{ Phrases []phraseOut }
		e.do("GET", "/api/v1/phrases", wang, "", nil, &list)
		if len(list.Phrases) != 2 || list.Phrases[0].ID != shared || list.Phrases[0].Uses != 1 || list.Phrases[1].ID != own {
			t.Fatalf("wang's phrases: %+v, want the used shop phrase first, then his own", list.Phrases)
		}
		list.Phrases = nil
		e.do("GET", "/api/v1/phrases", li, "", nil, &list)
		if len(list.Phrases) != 1 || list.Phrases[0].ID != shared {
			t.Fatalf("li sees %+v, want the shop's phrase alone (not wang's own)", list.Phrases)
		}
		for _, try := range []struct {
			method, token string
			want          int
		}{
			{"PUT", li, 404}, {"DELETE", li, 404}, {"POST", li, 404}, // a colleague's own: not found
		} {
			path := "/api/v1/phrases/" + itoa(own)
			if try.method == "POST" {
				path += "/use"
			}
			if code := e.do(try.method, path, try.token, "", map[string]any{"text": "x"}, nil); code != try.want {
				t.Errorf("%s %s by li: %d, want %d", try.method, path, code, try.want)
			}
		}
		if code := e.do("PUT", "/api/v1/phrases/"+itoa(shared), wang, "", map[string]any{"text": "x"}, nil); code != 403 {
			t.Errorf("a plain agent changes a shop phrase: %d, want 403", code)
		}
		var changed struct{ Phrase phraseOut }
		if code := e.do("PUT", "/api/v1/phrases/"+itoa(shared), lead, "", map[string]any{"category": "物流", "shortcut": "fh", "text": "亲，今天发货"}, &changed); code != 200 ||
			changed.Phrase.Text != "亲，今天发货" || changed.Phrase.Uses != 1 {
			t.Fatalf("change: %d %+v (uses kept)", code, changed.Phrase)
		}
		if code := e.do("DELETE", "/api/v1/phrases/"+itoa(own), wang, "", nil, nil); code != 204 {
			t.Fatalf("delete own: %d", code)
		}
	})
}

// Export writes CSV that Excel opens (UTF-8 with a BOM); import takes it
// back, all or nothing, naming every refused line.
func TestQuickPhrasesCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lead := e.login("acme", e.addAgent("lead", kefu.RoleSupervisor).Username)
	raw := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+lead)
		req.Header.Set("Content-Type", "text/csv")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, data
	}
	good := "\ufeffcategory,shortcut,text\r\n尺码,cm,\"亲，身高 170 建议 L 码，\"\"偏瘦\"\"选 M\"\r\n发票,fp,{shop.name} 可开电子发票\r\n公式,,'=1+1 是文字\r\n"
	code, data := raw("POST", "/api/v1/phrases/import?scope=shop", good)
	if code != 200 || !bytes.Contains(data, []byte(`"imported":3`)) {
		t.Fatalf("import: %d %s", code, data)
	}
	var list struct{ Phrases []phraseOut }
	e.do("GET", "/api/v1/phrases", lead, "", nil, &list)
	stored := false
	for _, p := range list.Phrases {
		stored = stored || p.Text == "=1+1 是文字"
	}
	if !stored {
		t.Fatalf("the apostrophe Excel keeps before a formula-like cell was stored: %+v", list.Phrases)
	}
	bad := "category,shortcut,text\n退换,th,七天无理由退换\n退换,th,重复的快捷词\n,,\n售后,sh,{order.amount}\n"
	code, data = raw("POST", "/api/v1/phrases/import?scope=shop", bad)
	var refused struct {
		Error struct{ Code string }
		Rows  []struct {
			Line int
			Code string
		}
	}
	json.Unmarshal(data, &refused)
	if code != 400 || refused.Error.Code != "invalid_rows" || len(refused.Rows) != 3 ||
		refused.Rows[0].Line != 3 || refused.Rows[0].Code != "shortcut_taken" ||
		refused.Rows[1].Line != 4 || refused.Rows[1].Code != "text_empty" || refused.Rows[2].Line != 5 || refused.Rows[2].Code != "unknown_variable" {
		t.Fatalf("bad rows: %d %s", code, data)
	}
	// Lines are the file's: a quoted cell over two lines moves the next row down; a shortcut
	// stored already is named too.
	multi := "category,shortcut,text\n尺码,xx,\"第一行\n第二行\"\n发票,fp,again\n"
	code, data = raw("POST", "/api/v1/phrases/import?scope=shop", multi)
	if code != 400 || !bytes.Contains(data, []byte(`{"line":4,"code":"shortcut_taken"`)) || bytes.Contains(data, []byte(`"line":2`)) {
		t.Fatalf("after a two-line cell: %d %s", code, data)
	}
	dup := "category,shortcut,text\n退换,th,七天无理由退换\n退换,th,重复的快捷词\n"
	code, data = raw("POST", "/api/v1/phrases/import?scope=shop", dup)
	if code != 400 || !bytes.Contains(data, []byte(`"line":3`)) || !bytes.Contains(data, []byte(`shortcut_taken`)) {
		t.Fatalf("a shortcut twice in the file: %d %s", code, data)
	}
	code, data = raw("GET", "/api/v1/phrases/export?scope=shop", "")
	want := "\ufeffcategory,shortcut,text,uses\r\n"
	if code != 200 || !strings.HasPrefix(string(data), want) || strings.Count(string(data), "\r\n") != 4 ||
		!strings.Contains(string(data), "'=1+1 是文字") || // a cell Excel would run is kept as text

		!strings.Contains(string(data), `"亲，身高 170 建议 L 码，""偏瘦""选 M"`) || strings.Contains(string(data), "七天无理由") {
		t.Fatalf("export (nothing of the refused files in it): %d %q", code, data)
	}
	if code, _ := raw("POST", "/api/v1/phrases/import?scope=shop", "name,text\nx,y\n"); code != 400 {
		t.Errorf("a file without the header: %d, want 400", code)
	}
}
