package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

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
