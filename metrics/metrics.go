// Package metrics is kefu's /metrics in Prometheus's text format: one
// registry of its own (never the global default), the instruments, and the
// small methods the rest of kefu calls. Every instrument is named kefu_*;
// docs/performance.md lists them all.
//
// Labels are few and bounded: a sender or socket kind, a refusal reason or a
// limit name (fixed sets in the code), and per shop only the shop id, so a
// per-shop series count is bounded by the number of shops.
//
// The per-message cost is a few atomic operations: the children of every
// labelled counter on the message path are looked up once, in New.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kefu/kefu"
)

// Limit names RateLimited is told, and connection refusal reasons
// ConnectionRefused is told, that are known at start: their series exist
// (at 0) from the first scrape, so rate() over them works from the start.
var (
	knownLimits = []string{"buyer_frames", "agent_frames", "buyer_messages", "agent_messages",
		"sessions_per_address", "sessions_per_shop", "conversations_per_address", "conversations_per_shop"}
	knownRefusal = []string{"unauthorized", "account_changed", "origin_not_allowed", "server_restart", "internal", "too_many_connections"}
)

// queueCacheFor is how long a read of the shops' queue lengths serves
// scrapes: several scrapers (or a quick one) cost one store read.
const queueCacheFor = 5 * time.Second

// Metrics owns the registry and the instruments.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	now func() time.Time

	stored       *prometheus.CounterVec
	storedByKind map[kefu.SenderKind]prometheus.Counter // cached children of stored
	storedOther  prometheus.Counter
	delivery     prometheus.Histogram
	rateLimited  *prometheus.CounterVec
	refused      *prometheus.CounterVec
	// limitChildren and refusalChildren are the children of rateLimited and
	// refused for the known names, read-only after New: a flood of refusals
	// costs an increment each, not a label lookup.
	limitChildren   map[string]prometheus.Counter
	refusalChildren map[string]prometheus.Counter
	overflow        *prometheus.GaugeVec
	commitSize      prometheus.Histogram
	commitSeconds   prometheus.Histogram
}

// New returns the instruments registered in a registry of their own, with
// Go's runtime and the process's collectors beside them. log (nil: none)
// hears of a failed read behind a scrape.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log, now: time.Now}
	m.stored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_messages_stored_total",
		Help: "Messages this process committed, by sender kind (buyer, agent, system, bot); rate() is messages per second.",
	}, []string{"sender"})
	m.storedByKind = map[kefu.SenderKind]prometheus.Counter{}
	for _, k := range []kefu.SenderKind{kefu.SenderBuyer, kefu.SenderAgent, kefu.SenderSystem, kefu.SenderBot} {
		m.storedByKind[k] = m.stored.WithLabelValues(string(k))
	}
	m.storedOther = m.stored.WithLabelValues("other")
	m.delivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kefu_message_delivery_seconds",
		Help: "Time from a message's created_at (stamped by the store's writer as it writes the message's batch) " +
			"until the socket fan-out has handed it to every subscribed socket's buffer: the batch's write and commit plus the fan-out.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_rate_limited_total",
		Help: "Requests and frames refused by a rate limit, by limit name (buyer_messages, agent_messages, ...).",
	}, []string{"limit"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_connections_refused_total",
		Help: "Socket connections refused, by reason (unauthorized, account_changed, origin_not_allowed, server_restart, internal, ...).",
	}, []string{"reason"})
	m.overflow = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kefu_overflow_stage",
		Help: "The overflow stage each shop is in (0: none); one series per shop id, bounded by the number of shops.",
	}, []string{"shop"})
	m.commitSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kefu_store_commit_messages",
		Help: "Messages stored per commit of the store's message writer (group commit: under load many share one); " +
			"a line a command writes with its change of state (a welcome, a farewell) commits with it and is not counted here.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kefu_store_commit_seconds",
		Help:    "Time the store's message writer took to write and commit one batch of messages.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.limitChildren, m.refusalChildren = map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for _, l := range knownLimits {
		m.limitChildren[l] = m.rateLimited.WithLabelValues(l)
	}
	for _, r := range knownRefusal {
		m.refusalChildren[r] = m.refused.WithLabelValues(r)
	}
	m.reg.MustRegister(m.stored, m.delivery, m.rateLimited, m.refused, m.overflow, m.commitSize, m.commitSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// RateLimited counts one refusal by the named limit. A name that is not in
// knownLimits costs a label lookup per call: add a new limit's name there.
func (m *Metrics) RateLimited(limit string) { inc(m.limitChildren, m.rateLimited, limit) }

// ConnectionRefused counts one socket connection refused for reason (a
// name in knownRefusal, or a new one: see RateLimited).
func (m *Metrics) ConnectionRefused(reason string) { inc(m.refusalChildren, m.refused, reason) }

// inc increments the child of vec for label, cached in known if it is there.
func inc(known map[string]prometheus.Counter, vec *prometheus.CounterVec, label string) {
	if c, ok := known[label]; ok {
		c.Inc()
		return
	}
	vec.WithLabelValues(label).Inc()
}

// SetOverflowStage records the overflow stage a shop is in now (0: none).
// Call it on a change of stage, not per message.
func (m *Metrics) SetOverflowStage(shopID int64, stage int) {
	m.overflow.WithLabelValues(strconv.FormatInt(shopID, 10)).Set(float64(stage))
}

// StoreCommit records one commit of the store's message writer: how many
// messages it stored and how long the write and commit took. The writer
// calls it (store.Config.Commits) on its own goroutine; it costs two
// histogram observations.
func (m *Metrics) StoreCommit(messages int, took time.Duration) {
	m.commitSize.Observe(float64(messages))
	m.commitSeconds.Observe(took.Seconds())
}

// messageStored counts a committed message and how long it took to reach
// the sockets' buffers.
func (m *Metrics) messageStored(msg *kefu.Message) {
	c, ok := m.storedByKind[msg.Sender]
	if !ok {
		c = m.storedOther
	}
	c.Inc()
	if !msg.CreatedAt.IsZero() {
		m.delivery.Observe(max(m.now().Sub(msg.CreatedAt), 0).Seconds())
	}
}

// CountSockets reports the open sockets on every scrape, by kind, from
// count (api.Server.Sockets): read where they are kept, so the gauge cannot
// drift from the truth.
func (m *Metrics) CountSockets(count func() (buyers, agents int)) {
	m.reg.MustRegister(&socketCollector{count: count, desc: prometheus.NewDesc("kefu_open_sockets",
		"Open WebSockets by kind (buyer, agent).", []string{"kind"}, nil)})
}

type socketCollector struct {
	count func() (buyers, agents int)
	desc  *prometheus.Desc
}

func (c *socketCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *socketCollector) Collect(ch chan<- prometheus.Metric) {
	buyers, agents := c.count()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(buyers), "buyer")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(agents), "agent")
}

// CountQueues reports each shop's queue length on a scrape, from read
// (store.QueueLengths: one grouped count over the database, which every
// process on it agrees on), at most once per queueCacheFor. A shop whose
// line emptied reports 0 rather than vanishing.
func (m *Metrics) CountQueues(read func(ctx context.Context) (map[int64]int, error)) {
	m.reg.MustRegister(&queueCollector{read: read, m: m, lengths: map[int64]int{}, desc: prometheus.NewDesc("kefu_queue_length",
		"Conversations waiting for an agent, per shop id (bounded by the number of shops); read from the store at most every 5 s.",
		[]string{"shop"}, nil)})
}

type queueCollector struct {
	read func(ctx context.Context) (map[int64]int, error)
	m    *Metrics
	desc *prometheus.Desc

	mu      sync.Mutex
	readAt  time.Time
	lengths map[int64]int // every shop seen waiting since start
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.m.now(); now.Sub(c.readAt) >= queueCacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fresh, err := c.read(ctx)
		cancel()
		if err != nil {
			// The last values stand; the next scrape tries again.
			c.m.log.Warn("metrics: read queue lengths", "err", err)
		} else {
			c.readAt = now
			for id := range c.lengths {
				c.lengths[id] = 0
			}
			for id, n := range fresh {
				c.lengths[id] = n
			}
		}
	}
	for id, n := range c.lengths {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), strconv.FormatInt(id, 10))
	}
}
