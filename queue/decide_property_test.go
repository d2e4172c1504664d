package queue

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/kefu/kefu"
)

// propertyCases is how many random shops each property is checked on. The
// seeds are fixed, so a failure names a case that fails again.
const propertyCases = 2000

// shopCase is one random decision: its inputs and what Decide made of them.
type shopCase struct {
	agents  []Agent
	waiting []Waiter
	counter uint64
	got     []Assignment
}

func (c shopCase) String() string {
	return fmt.Sprintf("agents %+v\nwaiting %+v\ncounter %d\ngot %v", c.agents, c.waiting, c.counter, c.got)
}

// randomShop is a small shop: up to 6 agents (some away, offline, full or
// over cap after manual takes) in up to 3 groups with weights 0 to 3, and up
// to 11 waiters asking for one of those groups, no group, or group 4 that
// nobody is in, with priorities, arrival ties, and last and dedicated agents
// that are of the shop or not.
func randomShop(r *rand.Rand) shopCase {
	var c shopCase
	for _, id := range r.Perm(12)[:r.IntN(7)] {
		a := Agent{ID: int64(id + 1), Presence: kefu.PresenceOnline, Cap: r.IntN(6), LastAssigned: uint64(r.IntN(6))}
		switch r.IntN(7) {
		case 0:
			a.Presence = kefu.PresenceAway
		case 1:
			a.Presence = kefu.PresenceOffline
		}
		a.Active = r.IntN(a.Cap + 2)
		for g := int64(1); g <= 3; g++ {
			if r.IntN(2) == 0 {
				continue
			}
			if a.Groups == nil {
				a.Groups = map[int64]int{}
			}
			a.Groups[g] = 1 + r.IntN(3)
			if r.IntN(10) == 0 {
				a.Groups[g] = 0
			}
		}
		c.agents = append(c.agents, a)
		c.counter = max(c.counter, a.LastAssigned)
	}
	c.counter += uint64(r.IntN(3))
	for _, conv := range r.Perm(40)[:r.IntN(12)] {
		c.waiting = append(c.waiting, Waiter{
			ConversationID:   int64(conv + 1),
			BuyerID:          int64(1 + r.IntN(6)),
			GroupID:          int64(r.IntN(5)),
			Priority:         r.IntN(3),
			Arrived:          uint64(r.IntN(8)),
			LastAgentID:      someAgent(r, c.agents),
			DedicatedAgentID: someAgent(r, c.agents),
		})
	}
	return c
}

// someAgent is no agent half the time, else one of the shop's or an id that
// is not of the shop.
func someAgent(r *rand.Rand, agents []Agent) int64 {
	switch k := r.IntN(4); {
	case k < 2:
		return 0
	case k == 2 && len(agents) > 0:
		return agents[r.IntN(len(agents))].ID
	default:
		return int64(13 + r.IntN(3))
	}
}

// forEachShop checks a property on every random case and stops at the first
// that breaks it.
func forEachShop(t *testing.T, property func(r *rand.Rand, c shopCase) error) {
	t.Helper()
	for i := range propertyCases {
		r := rand.New(rand.NewPCG(20240611, uint64(i)))
		c := randomShop(r)
		c.got = Decide(cloneAgents(c.agents), slices.Clone(c.waiting), c.counter)
		if err := property(r, c); err != nil {
			t.Fatalf("case %d: %v\n%v", i, err, c)
		}
	}
}

// inDecisionOrder is the line in the documented order: priority descending,
// then arrival, then conversation id.
func inDecisionOrder(waiting []Waiter) []Waiter {
	line := slices.Clone(waiting)
	slices.SortFunc(line, func(a, b Waiter) int {
		if a.Priority != b.Priority {
			return cmp.Compare(b.Priority, a.Priority)
		}
		if a.Arrived != b.Arrived {
			return cmp.Compare(a.Arrived, b.Arrived)
		}
		return cmp.Compare(a.ConversationID, b.ConversationID)
	})
	return line
}

// shopState is the agents by id, as they stand at some point of a decision.
type shopState map[int64]*Agent

func stateOf(agents []Agent) shopState {
	s := shopState{}
	for _, a := range agents {
		s[a.ID] = &a
	}
	return s
}

// roomy reports whether the agent of the id is of the shop and has room.
func (s shopState) roomy(id int64) bool {
	a, ok := s[id]
	return ok && id != 0 && a.Presence == kefu.PresenceOnline && a.Active < a.Cap
}

// member reports whether the agent may take a waiter of the group through
// the group.
func member(a *Agent, group int64) bool {
	if a == nil {
		return false
	}
	_, ok := a.Groups[group]
	return group == 0 || ok
}

// groupChoices are the agents with room a waiter of the group may take
// through the group.
func (s shopState) groupChoices(group int64) []*Agent {
	var out []*Agent
	for id, a := range s {
		if s.roomy(id) && member(a, group) {
			out = append(out, a)
		}
	}
	return out
}

// hasAnyChoice reports whether the waiter could be given an agent now, by
// any step.
func (s shopState) hasAnyChoice(w Waiter) bool {
	return s.roomy(w.LastAgentID) || s.roomy(w.DedicatedAgentID) || len(s.groupChoices(w.GroupID)) > 0
}

// after applies the assignments to the agents' loads.
func (s shopState) after(got []Assignment) shopState {
	for _, as := range got {
		if a, ok := s[as.AgentID]; ok {
			a.Active++
		}
	}
	return s
}

// ranksBefore reports whether a comes strictly before b for a waiter of the
// group, by the documented order with exact fractions: load per weight
// (active+1)/weight ascending, free share (cap-active)/cap descending, last
// assignment ascending, id ascending. It is written apart from Decide's
// cross-multiplication on purpose.
func ranksBefore(a, b *Agent, group int64) bool {
	weight := func(a *Agent) int64 {
		if group == 0 {
			return 1
		}
		return int64(max(a.Groups[group], 1))
	}
	load := func(a *Agent) *big.Rat { return big.NewRat(int64(a.Active+1), weight(a)) }
	free := func(a *Agent) *big.Rat { return big.NewRat(int64(a.Cap-a.Active), int64(a.Cap)) }
	if c := load(a).Cmp(load(b)); c != 0 {
		return c < 0
	}
	if c := free(a).Cmp(free(b)); c != 0 {
		return c > 0
	}
	if a.LastAssigned != b.LastAssigned {
		return a.LastAssigned < b.LastAssigned
	}
	return a.ID < b.ID
}

func assignedTo(got []Assignment) map[int64]int64 {
	m := map[int64]int64{}
	for _, as := range got {
		m[as.ConversationID] = as.AgentID
	}
	return m
}

// passedOver calls f, in decision order, for each waiter left waiting (early)
// and each waiter after it that was served (late, by agent), and returns f's
// first error.
func passedOver(c shopCase, f func(early, late Waiter, agent int64) error) error {
	served := assignedTo(c.got)
	line := inDecisionOrder(c.waiting)
	for i, early := range line {
		if _, ok := served[early.ConversationID]; ok {
			continue
		}
		for _, late := range line[i+1:] {
			if agent, ok := served[late.ConversationID]; ok {
				if err := f(early, late, agent); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func TestDecideProperties(t *testing.T) {
	t.Run("no agent ends above cap", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			given := map[int64]int{}
			for _, as := range c.got {
				given[as.AgentID]++
			}
			for _, a := range c.agents {
				switch {
				case a.Presence != kefu.PresenceOnline && given[a.ID] > 0:
					return fmt.Errorf("agent %d is %s and was given %d", a.ID, a.Presence, given[a.ID])
				case a.Active >= a.Cap && given[a.ID] > 0:
					return fmt.Errorf("agent %d held %d of %d and was given %d", a.ID, a.Active, a.Cap, given[a.ID])
				case given[a.ID] > 0 && a.Active+given[a.ID] > a.Cap:
					return fmt.Errorf("agent %d holds %d+%d, cap %d", a.ID, a.Active, given[a.ID], a.Cap)
				}
			}
			return nil
		})
	})

	t.Run("each conversation of the line at most once, with its buyer", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			line := map[int64]Waiter{}
			for _, w := range c.waiting {
				line[w.ConversationID] = w
			}
			seen := map[int64]bool{}
			for _, as := range c.got {
				w, ok := line[as.ConversationID]
				switch {
				case !ok:
					return fmt.Errorf("%v: conversation %d is not waiting", as, as.ConversationID)
				case seen[as.ConversationID]:
					return fmt.Errorf("conversation %d assigned twice", as.ConversationID)
				case as.BuyerID != w.BuyerID:
					return fmt.Errorf("%v: buyer %d, want %d", as, as.BuyerID, w.BuyerID)
				}
				seen[as.ConversationID] = true
			}
			return nil
		})
	})

	t.Run("only to an agent with room who is sticky, dedicated or of the group", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			start := stateOf(c.agents)
			line := map[int64]Waiter{}
			for _, w := range c.waiting {
				line[w.ConversationID] = w
			}
			for _, as := range c.got {
				w := line[as.ConversationID]
				a, ok := start[as.AgentID]
				switch {
				case !ok:
					return fmt.Errorf("%v: agent %d is not of the shop", as, as.AgentID)
				case !start.roomy(as.AgentID):
					return fmt.Errorf("%v: agent %d had no room", as, as.AgentID)
				case as.AgentID != w.LastAgentID && as.AgentID != w.DedicatedAgentID && !member(a, w.GroupID):
					return fmt.Errorf("%v: agent %d is neither sticky, dedicated nor of group %d", as, as.AgentID, w.GroupID)
				}
			}
			return nil
		})
	})

	// FIFO needs no exception here: room only shrinks, so a waiter left
	// waiting has no agent with room at the end either.
	t.Run("work-conserving: nobody left waiting who could be served", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			end := stateOf(c.agents).after(c.got)
			served := assignedTo(c.got)
			for _, w := range c.waiting {
				if _, ok := served[w.ConversationID]; !ok && end.hasAnyChoice(w) {
					return fmt.Errorf("conversation %d left waiting with an agent free for it", w.ConversationID)
				}
			}
			return nil
		})
	})

	t.Run("FIFO within a group and priority", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			start := stateOf(c.agents)
			return passedOver(c, func(early, late Waiter, agent int64) error {
				if late.GroupID != early.GroupID || late.Priority != early.Priority {
					return nil
				}
				own := agent == late.LastAgentID || agent == late.DedicatedAgentID
				if !own || member(start[agent], early.GroupID) {
					return fmt.Errorf("conversation %d waits while %d, after it in group %d, went to agent %d",
						early.ConversationID, late.ConversationID, early.GroupID, agent)
				}
				return nil
			})
		})
	})

	// Rule 5 in its strong form: no later waiter, of any group or priority and
	// by any step, takes an agent a waiter left waiting could have had.
	t.Run("a waiter left waiting loses no agent to a later one", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			start := stateOf(c.agents)
			return passedOver(c, func(early, late Waiter, agent int64) error {
				if agent == early.LastAgentID || agent == early.DedicatedAgentID || member(start[agent], early.GroupID) {
					return fmt.Errorf("conversation %d waits while %d, after it, went to agent %d it could have had",
						early.ConversationID, late.ConversationID, agent)
				}
				return nil
			})
		})
	})

	t.Run("each decision, in order, is the rules' choice at its turn", func(t *testing.T) {
		var fired ruleCount
		forEachShop(t, func(_ *rand.Rand, c shopCase) error { return replay(c, &fired) })
		// The random shops must reach every rule, or the properties above
		// prove little.
		for rule, n := range map[string]int{
			"sticky": fired.sticky, "dedicated": fired.dedicated, "group": fired.group, "no group": fired.noGroup,
			"left waiting": fired.waited, "served by own agent after a group waiter was left": fired.ownPastWaiter,
			"choice among several candidates": fired.contested,
		} {
			if n < propertyCases/40 {
				t.Errorf("rule %q fired only %d times in %d cases", rule, n, propertyCases)
			}
		}
		t.Logf("rules fired: %+v", fired)
	})

	t.Run("independent of the order of the agents", func(t *testing.T) {
		forEachShop(t, func(r *rand.Rand, c shopCase) error {
			for range 3 {
				agents := cloneAgents(c.agents)
				r.Shuffle(len(agents), func(i, j int) { agents[i], agents[j] = agents[j], agents[i] })
				if got := Decide(agents, c.waiting, c.counter); !slices.Equal(got, c.got) {
					return fmt.Errorf("agents as %v: %v", agents, got)
				}
			}
			return nil
		})
	})

	t.Run("independent of the order of the line", func(t *testing.T) {
		forEachShop(t, func(r *rand.Rand, c shopCase) error {
			for range 3 {
				waiting := slices.Clone(c.waiting)
				r.Shuffle(len(waiting), func(i, j int) { waiting[i], waiting[j] = waiting[j], waiting[i] })
				if got := Decide(c.agents, waiting, c.counter); !slices.Equal(got, c.got) {
					return fmt.Errorf("line as %v: %v", waiting, got)
				}
			}
			return nil
		})
	})

	t.Run("inputs unchanged, and the same answer again", func(t *testing.T) {
		forEachShop(t, func(_ *rand.Rand, c shopCase) error {
			agents, waiting := cloneAgents(c.agents), slices.Clone(c.waiting)
			got := Decide(agents, waiting, c.counter)
			switch {
			case !reflect.DeepEqual(agents, c.agents):
				return fmt.Errorf("agents changed to %+v", agents)
			case !slices.Equal(waiting, c.waiting):
				return fmt.Errorf("line changed to %+v", waiting)
			case !slices.Equal(got, c.got):
				return fmt.Errorf("second answer %v", got)
			}
			return nil
		})
	})
}

// ruleCount counts the rules the replay saw fire.
type ruleCount struct {
	sticky, dedicated, group, noGroup, waited, ownPastWaiter, contested int
}

// replay walks the line in the documented order with the agents' state at
// each turn, and checks that Decide's answers come in that order and that
// each waiter got what the rules give it then: its last agent if they have
// room, else its dedicated agent if they have room, else the first of its
// group's agents with room by ranksBefore, else nothing.
func replay(c shopCase, fired *ruleCount) error {
	state := stateOf(c.agents)
	counter := c.counter
	got := c.got
	waitedIn := map[int64]bool{} // groups with a waiter left waiting so far
	for _, w := range inDecisionOrder(c.waiting) {
		var as *Assignment
		if len(got) > 0 && got[0].ConversationID == w.ConversationID {
			as, got = &got[0], got[1:]
		}
		choices := state.groupChoices(w.GroupID)
		var want int64
		switch {
		case state.roomy(w.LastAgentID):
			want = w.LastAgentID
			fired.sticky++
		case state.roomy(w.DedicatedAgentID):
			want = w.DedicatedAgentID
			fired.dedicated++
		case len(choices) > 0:
			best := choices[0]
			for _, a := range choices[1:] {
				if ranksBefore(a, best, w.GroupID) {
					best = a
				}
			}
			want = best.ID
			if w.GroupID == 0 {
				fired.noGroup++
			} else {
				fired.group++
			}
			if len(choices) > 1 {
				fired.contested++
			}
		}
		switch {
		case want == 0 && as == nil:
			fired.waited++
			waitedIn[w.GroupID] = true
			continue
		case want == 0:
			return fmt.Errorf("%v: conversation %d had no agent with room at its turn", *as, w.ConversationID)
		case as == nil:
			return fmt.Errorf("conversation %d not assigned at its turn, want agent %d", w.ConversationID, want)
		case as.AgentID != want:
			return fmt.Errorf("%v: want agent %d at its turn", *as, want)
		}
		if waitedIn[w.GroupID] {
			fired.ownPastWaiter++
		}
		counter++
		state[want].Active++
		state[want].LastAssigned = counter
	}
	if len(got) > 0 {
		return errors.New("assignments out of decision order, or of conversations not waiting, from " + fmt.Sprint(got))
	}
	return nil
}
