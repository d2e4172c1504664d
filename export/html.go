package export

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/kefu/kefu"
)

// labels are the HTML export's words: Chinese by default, English on request.
var labels = map[string]map[string]string{
	"zh": {"title": "订单纠纷证据", "order": "订单", "status": "状态", "amount": "金额", "tracking": "快递单号", "buyer": "买家",
		"items": "商品", "history": "状态记录", "conversation": "会话", "agent": "客服", "started": "开始", "closed": "结束",
		"time": "时间", "sender": "发送者", "kind": "类型", "text": "内容", "hash": "链哈希", "head": "链头", "exported": "导出时间",
		"none": "（无关联会话）", "verify": "核验：kefu verify-export 本文件，或 POST /api/v1/exports/verify（docs/orders.md §10）。时间为",
		"unchained": "（链前消息）"},
	"en": {"title": "Order dispute export", "order": "Order", "status": "Status", "amount": "Amount", "tracking": "Tracking no.", "buyer": "Buyer",
		"items": "Items", "history": "Status history", "conversation": "Conversation", "agent": "Agent", "started": "Started", "closed": "Closed",
		"time": "Time", "sender": "Sender", "kind": "Kind", "text": "Text", "hash": "Chain hash", "head": "Chain head", "exported": "Exported",
		"none": "(no linked conversation)", "verify": "Verify: kefu verify-export this file, or POST /api/v1/exports/verify (docs/orders.md §10). Times are in",
		"unchained": "(before the chain)"},
}

// page is the HTML export. Its functions take what varies per export (the
// time zone, the language) from the data: {{time $.Loc .At}}.
var page = template.Must(template.New("export").Funcs(template.FuncMap{
	"time": func(loc *time.Location, v any) string {
		switch v := v.(type) {
		case time.Time:
			return v.In(loc).Format("2006-01-02 15:04:05")
		case *time.Time:
			if v != nil {
				return v.In(loc).Format("2006-01-02 15:04:05")
			}
		}
		return ""
	},
	"status": func(lang, status string) string {
		if lang == "en" {
			return status
		}
		return kefu.OrderStatusName(status)
	},
	"money": kefu.FormatAmount,
}).Parse(`<!doctype html>
<html lang="{{.HTMLLang}}"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.L.title}} {{.Doc.Order.OrderNo}}</title>
<style>
body{font:14px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#111}
h1{font-size:20px}h2{font-size:16px;margin-top:2em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.hash{font:11px/1.3 ui-monospace,monospace;word-break:break-all;color:#555}
.text{white-space:pre-wrap;word-break:break-word}.note{color:#555;font-size:12px}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}
</style></head><body>
<h1>{{.L.title}} · {{.L.order}} {{.Doc.Order.OrderNo}}</h1>
<p class="note">{{.Doc.Shop.Name}} ({{.Doc.Shop.Slug}}) · {{.L.exported}} {{time $.Loc .Doc.ExportedAt}} · {{.Doc.Format}}</p>
<table>
<tr><th>{{.L.order}}</th><td>{{.Doc.Order.OrderNo}}</td><th>{{.L.status}}</th><td>{{status $.Lang .Doc.Order.Status}}</td></tr>
<tr><th>{{.L.amount}}</th><td>{{money .Doc.Order.AmountCents .Doc.Order.Currency}}</td><th>{{.L.tracking}}</th><td>{{.Doc.Order.TrackingNo}}</td></tr>
<tr><th>{{.L.buyer}}</th><td colspan="3">{{.Doc.Order.BuyerID}}</td></tr>
<tr><th>{{.L.items}}</th><td colspan="3">{{range .Doc.Order.Items}}{{.Title}}{{if .SKU}} ({{.SKU}}){{end}} × {{.Quantity}} · {{money .PriceCents $.Doc.Order.Currency}}<br>{{end}}</td></tr>
<tr><th>{{.L.history}}</th><td colspan="3">{{range .Doc.Order.History}}{{time $.Loc .At}} {{status $.Lang .Status}}<br>{{end}}</td></tr>
</table>
{{range .Doc.Conversations}}
<h2>{{$.L.conversation}} #{{.ID}} · {{.BuyerName}}{{if .AgentName}} · {{$.L.agent}} {{.AgentName}}{{end}}</h2>
<p class="note">{{$.L.started}} {{time $.Loc .CreatedAt}}{{if .ClosedAt}} · {{$.L.closed}} {{time $.Loc .ClosedAt}}{{end}} · {{.Status}}</p>
<table><tr><th>#</th><th>{{$.L.time}}</th><th>{{$.L.sender}}</th><th>{{$.L.kind}}</th><th>{{$.L.text}}</th><th>{{$.L.hash}}</th></tr>
{{range .Messages}}<tr><td>{{.Seq}}</td><td>{{time $.Loc .CreatedAt}}</td><td>{{.SenderName}} ({{.Sender}})</td><td>{{.Kind}}</td><td class="text">{{.Text}}</td><td class="hash">{{if .Hash}}{{.Hash}}{{else}}{{$.L.unchained}}{{end}}</td></tr>
{{end}}</table>
<p class="hash">{{$.L.head}}: seq {{.ChainHead.Seq}} · {{.ChainHead.Hash}}</p>
{{else}}<p>{{.L.none}}</p>
{{end}}
<p class="note">{{.L.verify}} {{.Loc}}.</p>
<pre id="kefu-export-json" hidden>{{.JSON}}</pre>
</body></html>
`))

// WriteHTML writes the export as a page for people: it prints well, runs no
// script and loads nothing, with times in loc, in Chinese unless lang is
// "en". It carries the JSON document too, so the page itself can be
// verified.
func WriteHTML(w io.Writer, doc Document, loc *time.Location, lang string) error {
	if lang != "en" {
		lang = "zh"
	}
	if loc == nil {
		loc = time.UTC
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("export: encode: %w", err)
	}
	return page.Execute(w, map[string]any{"Doc": doc, "L": labels[lang], "Lang": lang, "HTMLLang": map[string]string{"zh": "zh-CN", "en": "en"}[lang],
		"Loc": loc, "JSON": string(data)})
}
