package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// BenchmarkSearch measures transcript search on the embedded default over a
// shop of KEFU_BENCH_MESSAGES messages (default 20,000; the figure
// is at 1,000,000), 10 per conversation, generated from word lists. The
// fixture is bulk-loaded with multi-row INSERTs (the search index is filled
// by the store's indexer, as in production), once per run in a temp dir, or kept in
// KEFU_BENCH_DIR and reused by the next run of the same size. Each query
// kind reports p50 and p95 latency.
//
//	KEFU_BENCH_MESSAGES=1000000 KEFU_BENCH_DIR=/tmp/kefu-search-bench go test -run '^$' -bench BenchmarkSearch -benchtime 200x ./store/
func BenchmarkSearch(b *testing.B) {
	size := 20000
	if v := os.Getenv("KEFU_BENCH_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("KEFU_BENCH_MESSAGES=%q: want a number from 1000", v)
		}
		size = n
	}
	dir := os.Getenv("KEFU_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir = filepath.Join(dir, strconv.Itoa(size))
	}
	ctx := context.Background()
	begin := time.Now()
	st, fx, err := openSearchFixture(ctx, dir, size)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.Logf("fixture of %d messages ready in %s", size, time.Since(begin).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	kinds := []struct {
		name   string
		filter func() kefu.SearchFilter
	}{
		{"2-char word", func() kefu.SearchFilter { return kefu.SearchFilter{Text: pick(benchTwoChar)} }},
		{"4-char phrase", func() kefu.SearchFilter { return kefu.SearchFilter{Text: pick(benchFourChar)} }},
		{"order number", func() kefu.SearchFilter { return kefu.SearchFilter{OrderNo: fx.orderNos[rng.IntN(len(fx.orderNos))]} }},
		{"4-char phrase, plain agent, closed", func() kefu.SearchFilter {
			return kefu.SearchFilter{Text: pick(benchFourChar), ReaderID: fx.agentIDs[rng.IntN(len(fx.agentIDs))],
				Statuses: []kefu.ConversationStatus{kefu.StatusClosed}}
		}},
		{"2-char word, agent filter", func() kefu.SearchFilter {
			return kefu.SearchFilter{Text: pick(benchTwoChar), AgentID: fx.agentIDs[rng.IntN(len(fx.agentIDs))]}
		}},
		{"rare 2-char word", func() kefu.SearchFilter { return kefu.SearchFilter{Text: "鸿雁"} }},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			hits := 0
			for b.Loop() {
				f := k.filter()
				f.Limit = 20
				t0 := time.Now()
				page, err := st.SearchConversations(ctx, fx.shopID, f)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				hits += len(page.Hits)
			}
			slices.Sort(lat)
			ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.95), "p95-ms")
			b.ReportMetric(float64(hits)/float64(len(lat)), "hits/op")
		})
	}
}

// Word lists for the fixture: what buyers and agents of a Chinese store write.
var (
	benchTwoChar  = []string{"发货", "退款", "快递", "优惠", "尺码", "颜色", "质量", "地址"}
	benchFourChar = []string{"什么时候", "七天无理", "尽快发货", "申请退款", "包邮的吗", "有没有货"}
	benchBuyer    = []string{
		"你好，在吗", "请问什么时候发货呀", "这个有没有货", "能便宜一点吗", "有优惠券吗", "包邮的吗",
		"我想申请退款", "快递到哪里了", "尺码偏大还是偏小", "颜色和图片一样吗", "质量怎么样", "可以七天无理由退货吗",
		"我要改一下收货地址", "怎么还没发货", "麻烦尽快发货", "收到的东西有破损", "发票怎么开", "能不能发顺丰",
	}
	benchAgent = []string{
		"亲，您好，很高兴为您服务", "一般48小时内发货哦", "已经为您催促仓库了", "请您稍等，我帮您查一下",
		"支持七天无理由退货", "亲，尺码是标准的，按平时穿的选就可以", "颜色以实物为准，会有轻微色差",
		"退款申请已经为您通过了", "快递单号已经发给您了", "店铺满200减20的优惠可以用", "亲，默认发中通，顺丰需要补差价",
		"地址已经帮您改好了", "给您带来不便非常抱歉",
	}
	benchProducts = []string{"连衣裙", "蓝牙耳机", "手机壳", "羽绒服", "运动鞋", "保温杯", "双肩包", "面霜", "数据线", "毛衣"}
)

type searchFixture struct {
	shopID   int64
	agentIDs []int64
	orderNos []string
}

// openSearchFixture opens the fixture in dir, building it first unless a
// complete one of this size is there.
func openSearchFixture(ctx context.Context, dir string, size int) (*Store, searchFixture, error) {
	done := filepath.Join(dir, "complete")
	_, err := os.Stat(done)
	fresh := err != nil
	if fresh {
		os.RemoveAll(dir)
	}
	st, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		return nil, searchFixture{}, err
	}
	var fx searchFixture
	if fresh {
		if fx, err = buildSearchFixture(ctx, st, size); err != nil {
			st.Close()
			return nil, searchFixture{}, err
		}
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			st.Close()
			return nil, searchFixture{}, err
		}
	}
	db := st.rdb.WithContext(ctx)
	if err := db.Raw(`SELECT id FROM shops WHERE slug = 'bench'`).Scan(&fx.shopID).Error; err != nil {
		return nil, fx, err
	}
	if err := db.Raw(`SELECT id FROM agents WHERE shop_id = ? AND role = 'agent' ORDER BY id`, fx.shopID).Scan(&fx.agentIDs).Error; err != nil {
		return nil, fx, err
	}
	if err := db.Raw(`SELECT order_no FROM bench_orders ORDER BY order_no`).Scan(&fx.orderNos).Error; err != nil {
		return nil, fx, err
	}
	return st, fx, nil
}

// buildSearchFixture fills a new store: the bench shop with 20 agents and
// size messages, and a second shop with a tenth as many (what the first
// must never see).
func buildSearchFixture(ctx context.Context, st *Store, size int) (searchFixture, error) {
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	var fx searchFixture
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := st.sqlW
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_orders (order_no TEXT PRIMARY KEY)`); err != nil {
		return fx, err
	}
	for _, shop := range []struct {
		slug     string
		messages int
	}{{"bench", size}, {"neighbour", max(1000, size/10)}} {
		s, err := st.CreateShop(ctx, kefu.Shop{Slug: shop.slug, Name: shop.slug})
		if err != nil {
			return fx, err
		}
		var agents []int64
		for i := range 20 {
			a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: s.ID, Username: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("客服%d", i),
				Role: kefu.RoleAgent, PasswordHash: "h"})
			if err != nil {
				return fx, err
			}
			agents = append(agents, a.ID)
		}
		convs := shop.messages / 10
		const batch = 2000 // conversations per transaction
		for first := 0; first < convs; first += batch {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return fx, err
			}
			var buyers, conversations, messages, orders strings.Builder
			var buyerArgs, convArgs, msgArgs, orderArgs []any
			n := min(batch, convs-first)
			// Ids are given, so the rows of one transaction refer to each other.
			var base int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM conversations`).Scan(&base); err != nil {
				tx.Rollback()
				return fx, err
			}
			for i := range n {
				id := base + int64(i) + 1
				t := at.Add(time.Duration(first+i) * time.Minute)
				agent := agents[rng.IntN(len(agents))]
				status := "closed"
				if first+i >= convs-50 {
					status = "assigned"
				}
				sep := ","
				if i == 0 {
					sep = ""
				}
				buyers.WriteString(sep + "(?, ?, ?, ?, ?)")
				buyerArgs = append(buyerArgs, id, s.ID, fmt.Sprintf("v_bench%010d", id), fmt.Sprintf("买家%d", id), t)
				conversations.WriteString(sep + "(?, ?, ?, ?, ?, 10, ?, ?, ?)")
				convArgs = append(convArgs, id, s.ID, id, agent, status, t, t, t)
				for seq := 1; seq <= 10; seq++ {
					kind, sender, senderID, text := "text", "buyer", id, pick(benchBuyer)
					switch {
					case seq == 1:
						kind, sender, senderID, text = "system", "system", 0, "客服已接入，为您服务"
					case seq%2 == 1:
						sender, senderID, text = "agent", agent, pick(benchAgent)
					case rng.IntN(4) == 0:
						text = "我买的" + pick(benchProducts) + text
					}
					if sender == "buyer" && rng.IntN(20) == 0 {
						no := fmt.Sprintf("2026%02d%09d", s.ID, rng.IntN(1_000_000_000))
						text = "订单 " + no + " " + text
						if shop.slug == "bench" {
							orders.WriteString(",(?)")
							orderArgs = append(orderArgs, no)
						}
					}
					if messages.Len() > 0 {
						messages.WriteString(",")
					}
					messages.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
					msgArgs = append(msgArgs, s.ID, id, seq, kind, sender, senderID, text, t.Add(time.Duration(seq)*time.Second))
				}
			}
			stmts := []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO buyers (id, shop_id, visitor_id, name, created_at) VALUES ` + buyers.String(), buyerArgs},
				{`INSERT INTO conversations (id, shop_id, buyer_id, agent_id, status, last_seq, created_at, queued_at, assigned_at) VALUES ` +
					conversations.String(), convArgs},
			}
			// SQLite takes at most 32766 parameters a statement: messages go in chunks.
			const rowsPerInsert = 4000
			for i := 0; i < len(msgArgs); i += rowsPerInsert * 8 {
				part := msgArgs[i:min(len(msgArgs), i+rowsPerInsert*8)]
				values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?),", len(part)/8), ",")
				stmts = append(stmts, struct {
					sql  string
					args []any
				}{`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES ` + values, part})
			}
			if len(orderArgs) > 0 {
				stmts = append(stmts, struct {
					sql  string
					args []any
				}{`INSERT OR IGNORE INTO bench_orders (order_no) VALUES ` + strings.TrimPrefix(orders.String(), ","), orderArgs})
			}
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
					tx.Rollback()
					return fx, fmt.Errorf("bulk load: %w", err)
				}
			}
			if err := tx.Commit(); err != nil {
				return fx, err
			}
		}
	}
	// The store's indexer fills the search index, as in production; the
	// benchmark must not time a search reading unindexed messages.
	if _, err := st.indexSearch(ctx); err != nil {
		return fx, err
	}
	_, err := db.ExecContext(ctx, `ANALYZE`)
	return fx, err
}
