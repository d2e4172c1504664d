package conversation

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/queue"
)

// Overflow (Double-11): each shop's stage is decided once a second by the
// pure core (queue.NextStage) from its live line, kept in memory, and read
// from memory by the message path; every change is an event
// (EventOverflowStage, EventSurgeStarted/Ended) and a frame to the shop's
// consoles. docs/overflow.md says what each stage does.

// overflowReload is how often the shops' overflow settings are read again
// (a change made through this process applies at once).
const overflowReload = 10 * time.Second

// overflow holds the shops' overflow settings and state. It is a cache:
// lost with the process, a restart starts every shop normal and decides
// again within a second.
type overflow struct {
	mu       sync.Mutex
	settings map[int64]kefu.OverflowSettings
	loaded   time.Time
	// gen counts SetOverflowSettings calls: a reload read before one of
	// them is stale and not kept.
	gen   uint64
	shops map[int64]*shopOverflow
}

// shopOverflow is one shop's state between ticks.
type shopOverflow struct {
	stage queue.StageState
	eff   queue.Effective
	told  protocol.OverflowFrame // the last frame sent to the consoles
	state kefu.OverflowState
}

func newOverflow() *overflow {
	return &overflow{settings: map[int64]kefu.OverflowSettings{}, shops: map[int64]*shopOverflow{}}
}

// current is the shop's stage as last decided and what its settings put in
// force at now, as the message path reads them: from memory.
func (o *overflow) current(shopID int64, now time.Time) (kefu.OverflowStage, queue.Effective) {
	o.mu.Lock()
	defer o.mu.Unlock()
	stage := kefu.StageNormal
	if so := o.shops[shopID]; so != nil {
		stage = so.stage.Stage
	}
	set, ok := o.settings[shopID]
	if !ok {
		return stage, queue.Effective{}
	}
	return stage, queue.EffectiveAt(set, now)
}

// SetOverflowSettings puts a shop's new overflow settings in force in this
// process (the store holds them; other processes read them within
// overflowReload). The next tick decides the stage again.
func (s *Service) SetOverflowSettings(shopID int64, settings kefu.OverflowSettings) {
	s.overflow.mu.Lock()
	s.overflow.settings[shopID] = settings
	s.overflow.gen++
	s.overflow.mu.Unlock()
	s.line.moved(shopID)
}

// OverflowState returns the shop's overflow stage, surge mode and the
// numbers driving them, as last decided.
func (s *Service) OverflowState(shopID int64) kefu.OverflowState {
	s.overflow.mu.Lock()
	defer s.overflow.mu.Unlock()
	if so := s.overflow.shops[shopID]; so != nil {
		return so.state
	}
	eff := queue.EffectiveAt(s.overflow.settings[shopID], s.now())
	return kefu.OverflowState{Stage: kefu.StageNormal, Surge: eff.Surge, Policy: eff.Policy}
}

// loadOverflow reads every shop's overflow settings when the last read is
// older than overflowReload.
func (s *Service) loadOverflow(ctx context.Context, now time.Time) {
	if now.Sub(s.overflow.loaded) < overflowReload {
		return
	}
	s.overflow.mu.Lock()
	gen := s.overflow.gen
	s.overflow.mu.Unlock()
	all, err := s.store.AllOverflowSettings(ctx)
	if err != nil {
		s.log.Error("overflow settings", "err", err)
		return
	}
	s.overflow.mu.Lock()
	if s.overflow.gen == gen { // else a change made here since the read: read again next tick
		s.overflow.settings, s.overflow.loaded = all, now
	}
	s.overflow.mu.Unlock()
}

// overflowShops returns the shops whose stage is weighed at this tick:
// those whose policy in force is enabled, whose surge mode changed, or that
// are not normal.
func (s *Service) overflowShops(now time.Time) map[int64]bool {
	s.overflow.mu.Lock()
	defer s.overflow.mu.Unlock()
	out := map[int64]bool{}
	for id, set := range s.overflow.settings {
		eff := queue.EffectiveAt(set, now)
		so := s.overflow.shops[id]
		if eff.Policy.Enabled || eff.Surge || (so != nil && (so.eff.Surge || so.stage.Stage != kefu.StageNormal)) {
			out[id] = true
		}
	}
	for id, so := range s.overflow.shops {
		if _, ok := s.overflow.settings[id]; !ok && (so.eff.Surge || so.stage.Stage != kefu.StageNormal) {
			out[id] = true // settings gone: back to normal
		}
	}
	return out
}

// weighOverflow decides the shop's stage from its line as read now (with
// decide false it only counts the line again, the stage kept: the second
// look after a change let routing give out more), and records a change of
// stage or of surge mode as an event. It returns the stage and whether it
// or surge mode changed (either may let routing give out more now). A shop
// without overflow settings that is normal keeps no state.
func (s *Service) weighOverflow(ctx context.Context, shopID int64, waiting []kefu.Waiting, now time.Time, decide bool) (kefu.OverflowStage, bool) {
	live, left := 0, 0
	for _, w := range waiting {
		if w.Priority == kefu.PriorityLeftMessage {
			left++
		} else {
			live++
		}
	}
	load := queue.Load{Waiting: live, Wait: s.line.eta(shopID, live, now), Backlog: live + left, BacklogWait: s.line.eta(shopID, live+left, now)}

	s.overflow.mu.Lock()
	set, configured := s.overflow.settings[shopID] // the zero settings: everything off
	so := s.overflow.shops[shopID]
	if so == nil && !configured {
		s.overflow.mu.Unlock()
		return kefu.StageNormal, false
	}
	if so == nil {
		so = &shopOverflow{stage: queue.StageState{Stage: kefu.StageNormal, Since: now}}
		s.overflow.shops[shopID] = so
	}
	eff := queue.EffectiveAt(set, now)
	surgeChanged := decide && eff.Surge != so.eff.Surge
	next := so.stage
	if decide {
		next = queue.NextStage(eff.Policy, so.stage, load, now)
	}
	from := so.stage.Stage
	so.stage, so.eff = next, eff
	so.state = kefu.OverflowState{Stage: next.Stage, Since: next.Since, Surge: eff.Surge, Waiting: live,
		WaitSeconds: int(load.Wait / time.Second), LeftMessages: left, Policy: eff.Policy}
	if !configured && next.Stage == kefu.StageNormal && !eff.Surge {
		delete(s.overflow.shops, shopID) // settings gone and back to normal: nothing to keep
	}
	s.overflow.mu.Unlock()

	if surgeChanged {
		typ := kefu.EventSurgeEnded
		if eff.Surge {
			typ = kefu.EventSurgeStarted
		}
		if _, err := s.store.RecordShopEvent(ctx, shopID, typ, kefu.EventData{}, s.committed(nil)); err != nil {
			s.log.Error("record surge", "shop", shopID, "err", err)
		}
	}
	changed := next.Stage != from
	if changed {
		data := kefu.EventData{Stage: next.Stage, FromStage: from, Waiting: live, WaitSeconds: int(load.Wait / time.Second)}
		if _, err := s.store.RecordShopEvent(ctx, shopID, kefu.EventOverflowStage, data, s.committed(nil)); err != nil {
			s.log.Error("record overflow stage", "shop", shopID, "err", err)
		}
	}
	return next.Stage, changed || surgeChanged
}

// tellOverflow sends the shop's consoles an overflow frame when its stage,
// surge mode or numbers changed since the last one: once per tick at most,
// and only for a shop with overflow settings (or one going back to normal
// after they were removed).
func (s *Service) tellOverflow(ctx context.Context, shopID int64) {
	s.overflow.mu.Lock()
	so := s.overflow.shops[shopID]
	var frame protocol.OverflowFrame
	tell := false
	if so != nil {
		st := so.state
		frame = protocol.OverflowFrame{Type: protocol.TypeOverflow, Stage: string(st.Stage), Since: st.Since.UTC(), Surge: st.Surge,
			Waiting: st.Waiting, WaitSeconds: st.WaitSeconds, LeftMessages: st.LeftMessages}
		tell = frame != so.told
		so.told = frame
	}
	s.overflow.mu.Unlock()
	if tell {
		s.publish(ctx, protocol.Encode(frame), ShopTopic(shopID), SupervisorTopic(shopID))
	}
}

// stageNotice is the line a buyer whose conversation starts waiting in the
// stage is told (nil: none). A left message is told by leftMessageLine.
func stageNotice(stage kefu.OverflowStage, assistantFirst bool) *kefu.Message {
	m := kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem}
	switch {
	case stage == kefu.StageBackup:
		m.Text, m.Code = "当前咨询人数较多，已为您加开备用客服通道，请稍候", kefu.SystemOverflowBackup
	case stage.Level() >= kefu.StageBotFirst.Level() && assistantFirst:
		m.Text, m.Code = "当前咨询人数较多，智能助手先为您解答；需要人工客服请发送“转人工”", kefu.SystemOverflowBotFirst
	case stage.Level() >= kefu.StageBotFirst.Level():
		m.Text, m.Code = "当前咨询人数较多，已为您排队，客服会尽快为您服务，请稍候", kefu.SystemOverflowBusy
	default:
		return nil
	}
	return &m
}

// leftMessageLine tells a buyer their message is kept as a left message:
// with the order attached, and in the queue_full stage their place and an
// honest estimate (or that there is none yet).
func leftMessageLine(full bool, orderNo string, position int, eta time.Duration) kefu.Message {
	order := ""
	if orderNo != "" {
		order = fmt.Sprintf("（已附上订单 %s）", orderNo)
	}
	m := kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Code: kefu.SystemLeftMessage,
		Text: fmt.Sprintf("当前咨询人数较多，已为您转为留言%s，客服会按顺序尽快回复您，回复会显示在这里", order)}
	if !full {
		return m
	}
	m.Code = kefu.SystemQueueFull
	when := "暂时无法估计回复时间"
	if eta > 0 {
		when = fmt.Sprintf("预计约 %d 分钟后回复", max(1, int((eta+time.Minute-1)/time.Minute)))
	}
	m.Text = fmt.Sprintf("当前排队已满，您的消息已转为留言%s，前面还有 %d 位，%s，回复会显示在这里", order, max(0, position-1), when)
	return m
}

// surgeAutoClose is the auto-close limit, in minutes, of every shop whose
// surge mode shortens it now.
func (s *Service) surgeAutoClose() map[int64]int {
	s.overflow.mu.Lock()
	defer s.overflow.mu.Unlock()
	var out map[int64]int
	for id, so := range s.overflow.shops {
		if so.eff.Surge && so.eff.AutoCloseMinutes > 0 {
			if out == nil {
				out = map[int64]int{}
			}
			out[id] = so.eff.AutoCloseMinutes
		}
	}
	return out
}

// overflowStart says what the shop's stage and surge mode make of a
// conversation starting now with the priority: a left message (from the
// leave_message stage; never a VIP's or a returning one), and whether it is
// to be bot-first (the bot_first stage and above, or surge mode's profile).
func (s *Service) overflowStart(shopID int64, priority int) (leftMessage, botFirst bool) {
	stage, eff := s.overflow.current(shopID, s.now())
	if !eff.Policy.Enabled {
		return false, eff.BotFirst
	}
	leftMessage = stage.Level() >= kefu.StageLeaveMessage.Level() && priority < kefu.PriorityVIP
	return leftMessage, eff.BotFirst || stage.Level() >= kefu.StageBotFirst.Level()
}

// attachOrder links the order the buyer came about, or else their latest
// order, to their left message, so the team answering later has it in view.
func (s *Service) attachOrder(ctx context.Context, actor Actor, convID int64) {
	orderNo := ""
	if actor.Entry.OrderNo != "" {
		if _, err := s.store.BuyerOrder(ctx, actor.ShopID, actor.ID, actor.Entry.OrderNo); err == nil {
			orderNo = actor.Entry.OrderNo
		}
	}
	if orderNo == "" {
		orders, err := s.store.LatestOrders(ctx, actor.ShopID, actor.ID, 1)
		if err != nil {
			s.log.Error("left message: latest order", "buyer", actor.ID, "err", err)
		}
		if len(orders) == 0 {
			return
		}
		orderNo = orders[0].OrderNo
	}
	if _, _, err := s.store.LinkOrder(ctx, actor.ShopID, convID, orderNo, kefu.SystemActor, s.committed(nil)); err != nil {
		s.log.Error("left message: attach order", "conversation", convID, "order", orderNo, "err", err)
	}
}

// tellLeftMessage tells the buyer their conversation is a left message,
// naming the order attached, and in the queue_full stage their place and
// the estimated wait.
func (s *Service) tellLeftMessage(ctx context.Context, conv kefu.Conversation, stage kefu.OverflowStage) {
	orderNo := ""
	if orders, err := s.store.ConversationOrders(ctx, conv.ShopID, conv.ID); err == nil && len(orders) > 0 {
		orderNo = orders[0].OrderNo
	}
	full := stage == kefu.StageQueueFull
	position, eta := 0, time.Duration(0)
	if full {
		var err error
		if position, err = s.store.QueuePosition(ctx, conv); err != nil {
			s.log.Error("left message: place in line", "conversation", conv.ID, "err", err)
		}
		eta = s.line.eta(conv.ShopID, position, s.now())
	}
	line := leftMessageLine(full, orderNo, position, eta)
	line.ShopID, line.ConversationID = conv.ShopID, conv.ID
	if _, _, err := s.store.Append(ctx, line, kefu.WriteRule{OpenOnly: true}, s.committed(nil)); err != nil {
		s.log.Error("left message line", "conversation", conv.ID, "err", err)
	}
}

// ShopLimitFactor is what surge mode multiplies the shop's per-shop
// admission limits by now (1: as set).
func (s *Service) ShopLimitFactor(shopID int64) int {
	_, eff := s.overflow.current(shopID, s.now())
	return max(1, eff.ShopLimitFactor)
}
