package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/export"
	"github.com/kefu/kefu/store"
)

// kefu verify-export passes an export of the store it reads, and after a
// message is changed in the store fails naming it.
func TestVerifyExportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "acme", Name: "Acme", IdentitySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	buyer, err := st.IdentifiedBuyer(ctx, shop.ID, "u1", "v_cli0000001", "张三")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOrder(ctx, kefu.Order{ShopID: shop.ID, BuyerID: buyer.ID, OrderNo: "A-1", Status: "in_dispute", Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	conv, _, err := st.StartConversation(ctx, shop.ID, buyer.ID, 0, 0, false, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"我要退款", "亲，已为您登记"} {
		if _, _, err := st.AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText,
			Sender: kefu.SenderBuyer, SenderID: buyer.ID, SenderName: "张三", Text: text, ClientMsgID: "c" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.LinkOrder(ctx, shop.ID, conv.ID, "A-1", kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyer.ID}, nil); err != nil {
		t.Fatal(err)
	}
	doc, err := export.Build(ctx, st, shop.ID, "A-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	data, _ := json.Marshal(doc)
	file := filepath.Join(t.TempDir(), "a-1.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"verify-export", "--data-dir", dir, file}, &out, &errOut); err != nil {
		t.Fatalf("verify an untouched export: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "the export matches the store") {
		t.Errorf("output: %s", out.String())
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, "kefu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE messages SET text = '我不要退款' WHERE conversation_id = ? AND seq = 1`, conv.ID); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"verify-export", "--data-dir", dir, file}, &out, &errOut)
	if !errors.Is(err, errExportDiffers) || !strings.Contains(out.String(), "seq 1 (changed)") || !strings.Contains(out.String(), "its text differs") {
		t.Fatalf("verify after a change: %v\n%s", err, out.String())
	}
}
