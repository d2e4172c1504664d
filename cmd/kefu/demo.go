package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/store"
)

//go:embed demo/store.html
var demoFiles embed.FS

// The demo shop's logins, printed at start. Demo only: a real shop's owner
// sets their own.
const demoPassword = "kefu1234"

var demoAgents = []struct {
	username, name string
	role           kefu.Role
}{
	{"owner", "店长", kefu.RoleOwner},
	{"xiaowang", "小王", kefu.RoleAgent},
	{"xiaoli", "小丽", kefu.RoleAgent},
}

// The demo's backup team (外包客服) is one agent, waibao (外包小张), made
// with the shop's overflow policy (seedOverflow).

var demoBuyers = []struct {
	externalID, name string
	orders           []kefu.Order
}{
	{"u1001", "张三", []kefu.Order{
		{OrderNo: "2026111100123", Status: "shipped", AmountCents: 29900, TrackingNo: "SF1234567890123",
			Items: []kefu.OrderItem{{Title: "加厚羽绒服 黑色 L", Quantity: 1, PriceCents: 29900}}},
		{OrderNo: "2026110800042", Status: "completed", AmountCents: 5800,
			Items: []kefu.OrderItem{{Title: "羊毛围巾 灰色", Quantity: 2, PriceCents: 2900}}},
	}},
	{"u1002", "李四", []kefu.Order{
		{OrderNo: "2026111100456", Status: "paid", AmountCents: 15900,
			Items: []kefu.OrderItem{{Title: "保暖内衣套装 M", Quantity: 1, PriceCents: 15900}}},
	}},
}

// demoShop is the seeded demo shop and the store page that embeds its widget.
type demoShop struct {
	shop     kefu.Shop
	storeURL string // the demo store page's origin
	kefuURL  string // where the page loads the widget from
}

func storeOrigins(storeURL string) []string {
	origins := []string{storeURL}
	if strings.HasPrefix(storeURL, "http://127.0.0.1:") {
		origins = append(origins, strings.Replace(storeURL, "127.0.0.1", "localhost", 1))
	}
	return origins
}

// demoPhrases are the demo shop's quick phrases, what a clothing shop's
// agents answer all day.
var demoPhrases = []kefu.Phrase{
	{Category: "物流", Shortcut: "fh", Text: "亲，下单后 48 小时内发货，默认中通快递，偏远地区顺延 1–2 天哦～"},
	{Category: "物流", Shortcut: "kd", Text: "亲，您的订单 {order.no} 已发货，快递单号 {order.tracking_no}，可在订单详情里查看物流～"},
	{Category: "商品", Shortcut: "cm", Text: "亲，这款偏宽松，身高 165–175 cm、体重 60–70 kg 建议 L 码，喜欢修身可以选 M 码～"},
	{Category: "售后", Shortcut: "th", Text: "亲，支持 7 天无理由退换（吊牌完好、不影响二次销售），在订单里申请退换后寄回即可，运费险会补贴运费～"},
	{Category: "售后", Shortcut: "fp", Text: "亲，{shop.name} 可以开电子发票，确认收货后在订单详情点「申请开票」，填写抬头和税号即可～"},
	{Category: "活动", Shortcut: "yhq", Text: "亲，店铺首页可以领满 299 减 30 的优惠券，下单时会自动抵扣哦～"},
	{Category: "通用", Shortcut: "hi", Text: "{buyer.name} 您好，我是客服 {agent.name}，很高兴为您服务～"},
}

// demoAssistant is the demo shop's assistant: on, greeting with the
// questions a clothing shop hears most, people answering first (bot-first
// off), open every day 09:00–23:00 once business hours are switched on.
func demoAssistant() kefu.AssistantSettings {
	a := kefu.DefaultAssistantSettings()
	a.Enabled = true
	a.Greeting = "亲，欢迎光临{shop.name}！我是智能助手小蜜，常见问题点下面就能问，也可以直接输入～"
	a.QuickQuestions = []string{"什么时候发货？", "怎么选尺码？", "可以退换货吗？", "能开发票吗？", "有优惠券吗？", "查快递单号"}
	for d := range a.Hours.Weekly {
		a.Hours.Weekly[d] = []kefu.TimeSpan{{Start: 9 * 60, End: 23 * 60}}
	}
	return a
}

// demoRules are the demo shop's keyword rules, one per question of the
// greeting and a few more.
var demoRules = []kefu.AutoReplyRule{
	{Name: "发货时间", Match: kefu.MatchAny, Patterns: []string{"发货", "什么时候发", "几天发", "多久发", "啥时候发", "什么时候到"}, Priority: 100,
		Answer:    "亲，{shop.name}下单后 48 小时内发货，默认中通快递，江浙沪一般 1–2 天送到，偏远地区顺延 1–2 天哦～",
		FollowUps: []string{"用什么快递？", "查快递单号"}},
	{Name: "快递公司", Match: kefu.MatchAny, Patterns: []string{"什么快递", "哪个快递", "哪家快递", "顺丰"}, Priority: 110,
		Answer: "亲，默认发中通快递；需要顺丰的话下单时备注「顺丰」，到付补差价即可～"},
	{Name: "快递单号", Match: kefu.MatchAny, Patterns: []string{"快递单号", "物流", "单号", "查快递", "到哪了"}, Priority: 120,
		Answer:    "亲，您的订单 {order.no}（{order.status}）快递单号是 {order.tracking_no}，在「我的订单」里点「查看物流」能看到实时进度～",
		FollowUps: []string{"转人工"}},
	{Name: "尺码", Match: kefu.MatchAny, Patterns: []string{"尺码", "尺寸", "多大码", "选码", "什么码", "码数", "偏大", "偏小", "身高", "体重"}, Priority: 100,
		Answer:    "亲，这款偏宽松：身高 165–175 cm、体重 60–70 kg 建议 L 码，喜欢修身选 M 码；告诉小蜜您的身高体重，客服也可以帮您确认～",
		FollowUps: []string{"可以退换货吗？"}},
	{Name: "退换货", Match: kefu.MatchAny, Patterns: []string{"退货", "换货", "退换", "退款", "无理由", "不合适"}, Priority: 100,
		Answer:    "亲，支持 7 天无理由退换（吊牌完好、不影响二次销售），在订单里申请退换后寄回即可，运费险会补贴运费～",
		FollowUps: []string{"运费谁出？", "转人工"}},
	{Name: "运费", Match: kefu.MatchAny, Patterns: []string{"运费", "包邮", "邮费"}, Priority: 90,
		Answer: "亲，全场满 99 元包邮（偏远地区除外）；退换货有运费险补贴，一般不用您出运费～"},
	{Name: "发票", Match: kefu.MatchAny, Patterns: []string{"发票", "开票", "税号", "抬头"}, Priority: 100,
		Answer: "亲，{shop.name}可以开电子发票：确认收货后在订单详情点「申请开票」，填写抬头和税号即可，1–3 个工作日发到您的邮箱～"},
	{Name: "优惠券", Match: kefu.MatchAny, Patterns: []string{"优惠券", "优惠", "领券", "打折", "满减", "便宜点"}, Priority: 100,
		Answer:    "亲，店铺首页可以领满 299 减 30 的优惠券，下单时自动抵扣；关注店铺还能再领一张 5 元无门槛券哦～",
		FollowUps: []string{"什么时候发货？"}},
	{Name: "投诉", Match: kefu.MatchAny, Patterns: []string{"投诉", "差评", "质量问题", "破损"}, Priority: 200,
		Answer: "非常抱歉给您带来不好的体验，小蜜马上为您转接人工客服处理～", Handoff: kefu.HandoffHuman},
}

// seedAssistant gives the demo shop its assistant and keyword rules, unless
// its assistant was ever set up (by this or by its owner).
func seedAssistant(ctx context.Context, st *store.Store, shopID int64) error {
	configured, err := st.AssistantConfigured(ctx, shopID)
	if err != nil || configured {
		return err
	}
	if err := st.SetAssistantSettings(ctx, shopID, demoAssistant()); err != nil {
		return err
	}
	for _, r := range demoRules {
		r.ShopID, r.Enabled = shopID, true
		if _, err := st.SaveAutoReplyRule(ctx, r, nil); err != nil {
			return err
		}
	}
	return nil
}

// seedDemo creates the demo shop, its agents, buyers and orders if absent,
// gives it an assistant if it has none, and registers the demo store page's
// origins if they are not yet registered; a shop it created gets span of
// generated history. It never removes or replaces anything a shop owner set.
func seedDemo(ctx context.Context, st *store.Store, origins []string, passwordCost int, span demoHistorySpan) (*demoShop, error) {
	shop, err := st.ShopBySlug(ctx, "demo")
	created := errors.Is(err, kefu.ErrNotFound)
	if created {
		secret := make([]byte, 24)
		rand.Read(secret)
		shop, err = st.CreateShop(ctx, kefu.Shop{Slug: "demo", Name: "小铺 Demo 旗舰店", IdentitySecret: hex.EncodeToString(secret), Origins: origins})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		hash, err := api.HashPassword(demoPassword, passwordCost)
		if err != nil {
			return nil, fmt.Errorf("demo: hash password: %w", err)
		}
		for _, a := range demoAgents {
			if _, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: a.username, Name: a.name, Role: a.role, PasswordHash: hash}); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
		}
		if _, err := st.SavePhrases(ctx, shop.ID, 0, demoPhrases); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		for _, b := range demoBuyers {
			buyer, err := st.IdentifiedBuyer(ctx, shop.ID, b.externalID, "", b.name)
			if err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			for i, o := range b.orders {
				o.ShopID, o.BuyerID = shop.ID, buyer.ID
				o.CreatedAt = time.Now().Add(-time.Duration(24*(i+1)) * time.Hour)
				if _, err := st.CreateOrder(ctx, o); err != nil {
					return nil, fmt.Errorf("demo: %w", err)
				}
			}
		}
	} else if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else {
		// The shop is there from an earlier run: what its owner changed
		// stays. Only this run's store page is registered if missing (its
		// port may differ from the last run's); no origin is removed.
		if err := st.AddShopOrigins(ctx, shop.ID, origins); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if shop, err = st.Shop(ctx, shop.ID); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := seedAssistant(ctx, st, shop.ID); err != nil {
		return nil, fmt.Errorf("demo: assistant: %w", err)
	}
	if err := seedOverflow(ctx, st, shop.ID, passwordCost); err != nil {
		return nil, fmt.Errorf("demo: overflow: %w", err)
	}
	if created {
		if err := seedHistory(ctx, st, shop, span); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return &demoShop{shop: shop}, nil
}

// seedOverflow gives the demo shop a backup team (外包客服, one agent) and
// an overflow policy that a surge of kefu-load reaches (docs/overflow.md),
// unless its overflow was ever set (by this or by its owner).
func seedOverflow(ctx context.Context, st *store.Store, shopID int64, passwordCost int) error {
	all, err := st.AllOverflowSettings(ctx)
	if _, configured := all[shopID]; err != nil || configured {
		return err
	}
	hash, err := api.HashPassword(demoPassword, passwordCost)
	if err != nil {
		return err
	}
	backup, err := st.AgentByUsername(ctx, shopID, "waibao")
	if errors.Is(err, kefu.ErrNotFound) {
		backup, err = st.CreateAgent(ctx, kefu.Agent{ShopID: shopID, Username: "waibao", Name: "外包小张", Role: kefu.RoleAgent, PasswordHash: hash})
	}
	if err != nil {
		return err
	}
	group, err := st.GroupBySlug(ctx, shopID, "waibao")
	if errors.Is(err, kefu.ErrNotFound) {
		group, err = st.CreateGroup(ctx, kefu.Group{ShopID: shopID, Slug: "waibao", Name: "外包客服",
			Members: []kefu.GroupMember{{AgentID: backup.ID, Weight: 1}}})
	}
	if err != nil {
		return err
	}
	o := kefu.DefaultOverflowSettings()
	o.Policy = kefu.OverflowPolicy{Enabled: true, BackupGroupID: group.ID, HoldSeconds: 30,
		Backup:       kefu.StageTrigger{QueueLength: 10, WaitSeconds: 60},
		BotFirst:     kefu.StageTrigger{QueueLength: 25, WaitSeconds: 180},
		LeaveMessage: kefu.StageTrigger{QueueLength: 50, WaitSeconds: 420},
		QueueFull:    kefu.StageTrigger{QueueLength: 100, WaitSeconds: 900},
	}
	o.Surge.Profile.Overflow.BackupGroupID = group.ID
	return st.SetOverflowSettings(ctx, shopID, o)
}

func (d *demoShop) printWelcome(w io.Writer) {
	fmt.Fprintf(w, "  demo store:    %s/\n", d.storeURL)
	fmt.Fprintf(w, "  demo logins (shop \"demo\", password %q):", demoPassword)
	for _, a := range demoAgents {
		fmt.Fprintf(w, " %s (%s)", a.username, a.name)
	}
	fmt.Fprintln(w, " waibao (外包小张, the backup team)")
}

// handler serves the demo store: a product page that embeds the widget the
// way any shop would, and /identity, standing in for the shop's own server
// signing its logged-in buyer for the widget.
func (d *demoShop) handler() http.Handler {
	page := template.Must(template.ParseFS(demoFiles, "demo/store.html"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		// ?group=presales puts data-group on the widget's tag, so the walk-through can
		// reach a group from the page's own links (the widget ignores a malformed slug).
		page.Execute(w, map[string]string{"KefuURL": d.kefuURL, "Shop": d.shop.Slug, "Lang": q.Get("lang"), "Group": q.Get("group")})
	})
	mux.HandleFunc("GET /identity", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("buyer")
		for _, b := range demoBuyers {
			if b.externalID == id {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]string{"buyer_id": id, "name": b.name,
					"signature": api.BuyerSignature(d.shop.IdentitySecret, id)})
				return
			}
		}
		http.NotFound(w, r)
	})
	return mux
}
