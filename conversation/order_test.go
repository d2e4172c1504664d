package conversation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// seqRecorder is a socket that notes the seq of every message frame it gets.
type seqRecorder struct {
	mu   sync.Mutex
	seqs []int64
}

func (r *seqRecorder) Deliver(frame []byte) {
	var f struct {
		Type    string `json:"type"`
		Message struct {
			Seq int64 `json:"seq"`
		} `json:"message"`
	}
	if json.Unmarshal(frame, &f) == nil && f.Type == "message" {
		r.mu.Lock()
		r.seqs = append(r.seqs, f.Message.Seq)
		r.mu.Unlock()
	}
}

// Live message frames of one conversation reach every socket in seq order,
// however many senders write to it at once: the buyer on several tabs and
// the agent, each waiting for their own commits.
func TestLiveMessagesArriveInSeqOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	agent := f.agents[0]
	f.svc.AgentConnected(ctx, agent)
	buyer := conversation.BuyerActor(f.buyer(t, 0))
	first, _, err := f.svc.Send(ctx, buyer, 0, "first", "hi")
	if err != nil {
		t.Fatal(err)
	}
	buyerSock, agentSock := &seqRecorder{}, &seqRecorder{}
	f.svc.Broker().Subscribe(conversation.BuyerTopic(buyer.ID), buyerSock)
	f.svc.Broker().Subscribe(conversation.AgentTopic(agent.ID), agentSock)

	const senders, each = 8, 100
	var wg sync.WaitGroup
	for s := range senders {
		actor := buyer
		if s%2 == 1 {
			actor = conversation.AgentActor(agent)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, _, err := f.svc.Send(ctx, actor, first.ConversationID, fmt.Sprintf("s%d-%d", s, i), "x"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c, err := f.st.Conversation(ctx, f.shop.ID, first.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*seqRecorder{"buyer": buyerSock, "agent": agentSock} {
		if len(r.seqs) != senders*each {
			t.Errorf("%s got %d message frames, want %d", name, len(r.seqs), senders*each)
		}
		for i := 1; i < len(r.seqs); i++ {
			if r.seqs[i] != r.seqs[i-1]+1 {
				t.Errorf("%s got seq %d after %d", name, r.seqs[i], r.seqs[i-1])
				break
			}
		}
		if n := len(r.seqs); n > 0 && r.seqs[n-1] != c.LastSeq {
			t.Errorf("%s's last seq is %d, the conversation's %d", name, r.seqs[n-1], c.LastSeq)
		}
	}
	if c.Status != kefu.StatusAssigned {
		t.Errorf("conversation %s", c.Status)
	}
}

// frameRecorder keeps every frame a socket gets.
type frameRecorder struct {
	mu     sync.Mutex
	frames [][]byte
}

func (r *frameRecorder) Deliver(frame []byte) {
	r.mu.Lock()
	r.frames = append(r.frames, frame)
	r.mu.Unlock()
}

// A buyer naming another buyer's conversation is refused as not found and
// nothing is stored; their first message, with no agent online, announces
// the waiting conversation whole (its start time included).
func TestBuyerWritesOnlyTheirOwnAndQueuedFramesAreWhole(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	shopSock := &frameRecorder{}
	f.svc.Broker().Subscribe(conversation.ShopTopic(f.shop.ID), shopSock)
	a, b := conversation.BuyerActor(f.buyer(t, 0)), conversation.BuyerActor(f.buyer(t, 1))
	first, _, err := f.svc.Send(ctx, a, 0, "a1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Send(ctx, b, first.ConversationID, "b1", "not yours"); !errors.Is(err, kefu.ErrNotFound) {
		t.Errorf("send into another buyer's conversation: %v, want not found", err)
	}
	if _, err := f.st.LatestConversation(ctx, f.shop.ID, b.ID); !errors.Is(err, kefu.ErrNotFound) {
		t.Errorf("the refused send opened a conversation for the other buyer (%v)", err)
	}
	var queued struct {
		Type         string `json:"type"`
		Conversation struct {
			Status    string    `json:"status"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"conversation"`
	}
	found := false
	for _, fr := range shopSock.frames {
		if json.Unmarshal(fr, &queued) == nil && queued.Type == "conversation" && queued.Conversation.Status == "queued" {
			found = true
			if queued.Conversation.CreatedAt.IsZero() {
				t.Errorf("queued conversation frame without its start time: %s", fr)
			}
		}
	}
	if !found {
		t.Error("no queued conversation frame")
	}
}
