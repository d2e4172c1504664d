package export_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/export"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// backend is a store and a raw connection to its database, for tampering.
type backend struct {
	st  *store.Store
	raw *sql.DB
	pg  bool
}

func backends(t *testing.T, clock *testclock.Clock) map[string]func(t *testing.T) backend {
	return map[string]func(t *testing.T) backend{
		"sqlite": func(t *testing.T) backend {
			dir := t.TempDir()
			st, err := store.Open(context.Background(), store.Config{DataDir: dir, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			raw, err := sql.Open("sqlite", filepath.Join(dir, "kefu.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return backend{st: st, raw: raw}
		},
		"postgres": func(t *testing.T) backend {
			u := testdb.PostgresURL(t)
			st, err := store.Open(context.Background(), store.Config{DatabaseURL: u, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			raw, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return backend{st: st, raw: raw, pg: true}
		},
	}
}

func (b backend) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if !b.pg {
		q = strings.NewReplacer("$1", "?", "$2", "?", "$3", "?").Replace(q)
	}
	if _, err := b.raw.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// A conversation about an order, exported and verified: the export matches;
// a message changed, deleted or two reordered in the store make the check
// fail and name the message; an edited file is caught on its own.
func TestExportThenVerify(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	for name, open := range backends(t, clock) {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				name    string
				tamper  func(t *testing.T, b backend, conv int64)
				problem string
				seq     int64
			}{
				{"untouched", func(*testing.T, backend, int64) {}, "", 0},
				{"text changed", func(t *testing.T, b backend, conv int64) {
					b.exec(t, `UPDATE messages SET text = $1 WHERE conversation_id = $2 AND seq = $3`, "没有收到货", conv, 2)
				}, export.ProblemChanged, 2},
				{"deleted", func(t *testing.T, b backend, conv int64) {
					b.exec(t, `DELETE FROM messages WHERE conversation_id = $1 AND seq = $2`, conv, 3)
				}, export.ProblemMissing, 3},
				{"reordered", func(t *testing.T, b backend, conv int64) {
					b.exec(t, `UPDATE messages SET seq = -1 WHERE conversation_id = $1 AND seq = $2`, conv, 2)
					b.exec(t, `UPDATE messages SET seq = $1 WHERE conversation_id = $2 AND seq = $3`, 2, conv, 3)
					b.exec(t, `UPDATE messages SET seq = $1 WHERE conversation_id = $2 AND seq = -1`, 3, conv)
				}, export.ProblemMoved, 2},
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					b := open(t)
					ctx := context.Background()
					shop, conv := seed(t, b.st, clock, fmt.Sprintf("shop%d", i))
					doc, err := export.Build(ctx, b.st, shop.ID, "2026111100123", clock.Now())
					if err != nil {
						t.Fatal(err)
					}
					if len(doc.Conversations) != 1 || len(doc.Conversations[0].Messages) != 4 || doc.Conversations[0].ChainHead.Seq != 4 {
						t.Fatalf("export: %+v", doc.Conversations)
					}
					// The HTML export carries the same document.
					var page bytes.Buffer
					if err := export.WriteHTML(&page, doc, time.UTC, ""); err != nil {
						t.Fatal(err)
					}
					if strings.Contains(strings.ToLower(page.String()), "<script") {
						t.Error("the HTML export holds a script")
					}
					parsed, err := export.Parse(page.Bytes())
					if err != nil {
						t.Fatal(err)
					}
					tc.tamper(t, b, conv)
					r, err := export.Verify(ctx, b.st, shop.ID, parsed)
					if err != nil {
						t.Fatal(err)
					}
					if tc.problem == "" {
						if !r.OK || r.FirstDifference != nil || r.Conversations[0].Checked != 4 {
							t.Fatalf("untouched store: %+v %+v", r, r.FirstDifference)
						}
						return
					}
					d := r.FirstDifference
					if r.OK || d == nil || d.Problem != tc.problem || d.Seq != tc.seq || d.ConversationID != conv {
						t.Fatalf("report %+v, first difference %+v; want %s at seq %d", r, d, tc.problem, tc.seq)
					}
				})
			}
			t.Run("re-encoded by another tool", func(t *testing.T) {
				// jq or Python re-encode a file: other spacing and key order,
				// no HTML escaping. It still checks, card and all.
				b := open(t)
				ctx := context.Background()
				shop, conv := seed(t, b.st, clock, "reencoded")
				card := &kefu.Card{OrderNo: "2026111100123", Status: "shipped", Title: "羽绒服 <加厚> & 保暖", PriceCents: 29900, Currency: "CNY"}
				if _, _, err := b.st.AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv, Kind: kefu.KindOrder,
					Sender: kefu.SenderSystem, SenderName: "kefu", Text: "[订单] 2026111100123 已发货", Card: card,
					QuickReplies: []string{"几天到 & 怎么查？"}}); err != nil {
					t.Fatal(err)
				}
				doc, err := export.Build(ctx, b.st, shop.ID, "2026111100123", clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				data, _ := json.Marshal(doc)
				var generic any
				if err := json.Unmarshal(data, &generic); err != nil {
					t.Fatal(err)
				}
				var again bytes.Buffer
				enc := json.NewEncoder(&again)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "    ")
				if err := enc.Encode(generic); err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(again.Bytes(), data) || !bytes.Contains(again.Bytes(), []byte("<加厚> &")) {
					t.Fatal("the re-encoding did not change the bytes")
				}
				parsed, err := export.Parse(again.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				r, err := export.Verify(ctx, b.st, shop.ID, parsed)
				if err != nil {
					t.Fatal(err)
				}
				if !r.OK || r.Conversations[0].Checked != 5 {
					t.Fatalf("a re-encoded export: %+v %+v", r, r.FirstDifference)
				}
			})
			t.Run("file edited", func(t *testing.T) {
				b := open(t)
				shop, _ := seed(t, b.st, clock, "edited")
				doc, err := export.Build(context.Background(), b.st, shop.ID, "2026111100123", clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				doc.Conversations[0].Messages[1].Text = "改过的话"
				r, err := export.Verify(context.Background(), b.st, shop.ID, doc)
				if err != nil {
					t.Fatal(err)
				}
				if d := r.FirstDifference; r.OK || d == nil || d.Problem != export.ProblemExportAltered || d.Seq != 2 {
					t.Fatalf("an edited export: %+v", d)
				}
			})
		})
	}
}

// seed makes a shop with a buyer, their order 2026111100123 and one
// conversation of four messages linked to it.
func seed(t *testing.T, st *store.Store, clock *testclock.Clock, slug string) (kefu.Shop, int64) {
	t.Helper()
	ctx := context.Background()
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: slug, Name: "Acme", IdentitySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	buyer, err := st.IdentifiedBuyer(ctx, shop.ID, "u1", "v_"+slug+"000001", "张三")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOrder(ctx, kefu.Order{ShopID: shop.ID, BuyerID: buyer.ID, OrderNo: "2026111100123", Status: "shipped",
		AmountCents: 29900, Currency: "CNY", Items: []kefu.OrderItem{{Title: "加厚羽绒服", Quantity: 1, PriceCents: 29900}}}); err != nil {
		t.Fatal(err)
	}
	conv, _, err := st.StartConversation(ctx, shop.ID, buyer.ID, 0, 0, false, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"我的羽绒服到哪了？", "亲，已经发货了", "几天能到？", "预计明天送达"} {
		clock.Advance(time.Second)
		m := kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer, SenderID: buyer.ID,
			SenderName: "张三", Text: text, ClientMsgID: fmt.Sprintf("c%d", i)}
		if i%2 == 1 {
			m.Sender, m.SenderID, m.SenderName = kefu.SenderSystem, 0, "kefu"
		}
		if _, _, err := st.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.LinkOrder(ctx, shop.ID, conv.ID, "2026111100123", kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyer.ID}, nil); err != nil {
		t.Fatal(err)
	}
	return shop, conv.ID
}
