package conversation

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// The access rules, case by case: who may see, write and close a
// conversation, and who is told about it.
func TestAccessRules(t *testing.T) {
	const shop, buyer, holder, colleague = 1, 7, 2, 3
	assigned := kefu.Conversation{ID: 10, ShopID: shop, BuyerID: buyer, AgentID: holder, Status: kefu.StatusAssigned}
	queued := kefu.Conversation{ID: 11, ShopID: shop, BuyerID: buyer, Status: kefu.StatusQueued}
	closed := kefu.Conversation{ID: 12, ShopID: shop, BuyerID: buyer, AgentID: holder, Status: kefu.StatusClosed}

	theBuyer := Actor{Kind: kefu.SenderBuyer, ID: buyer, ShopID: shop}
	otherBuyer := Actor{Kind: kefu.SenderBuyer, ID: buyer + 1, ShopID: shop}
	theAgent := Actor{Kind: kefu.SenderAgent, ID: holder, ShopID: shop, Role: kefu.RoleAgent}
	otherAgent := Actor{Kind: kefu.SenderAgent, ID: colleague, ShopID: shop, Role: kefu.RoleAgent}
	supervisor := Actor{Kind: kefu.SenderAgent, ID: 4, ShopID: shop, Role: kefu.RoleSupervisor}
	owner := Actor{Kind: kefu.SenderAgent, ID: 5, ShopID: shop, Role: kefu.RoleOwner}

	cases := []struct {
		name       string
		actor      Actor
		conv       kefu.Conversation
		readErr    error // nil: may see it
		write      bool
		mayCloseIt bool
	}{
		{"buyer, own", theBuyer, assigned, nil, false, false},
		{"buyer, another's", otherBuyer, assigned, kefu.ErrNotFound, false, false},
		{"agent holding it", theAgent, assigned, nil, true, true},
		{"agent, a colleague's", otherAgent, assigned, ErrForbidden, false, false},
		{"agent, waiting", otherAgent, queued, nil, false, true},
		{"agent, held before, closed", theAgent, closed, nil, true, true},
		{"agent, a colleague's, closed", otherAgent, closed, ErrForbidden, false, true},
		{"supervisor, a colleague's", supervisor, assigned, nil, true, true},
		{"owner, waiting", owner, queued, nil, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mayRead(tc.actor, tc.conv)
			if (tc.readErr == nil) != (err == nil) || (tc.readErr != nil && !errors.Is(err, tc.readErr)) {
				t.Errorf("mayRead = %v, want %v", err, tc.readErr)
			}
			if tc.actor.Kind == kefu.SenderAgent {
				if got := mayWrite(tc.actor, tc.conv); got != tc.write {
					t.Errorf("mayWrite = %v, want %v", got, tc.write)
				}
			}
			if got := mayClose(tc.actor, tc.conv); got != tc.mayCloseIt {
				t.Errorf("mayClose = %v, want %v", got, tc.mayCloseIt)
			}
		})
	}

	t.Run("write rules", func(t *testing.T) {
		if r := writeRule(theBuyer); r != (kefu.WriteRule{OpenOnly: true, BuyerID: buyer}) {
			t.Errorf("buyer's rule %+v", r)
		}
		if r := writeRule(theAgent); r != (kefu.WriteRule{OpenOnly: true, Assigned: true, HolderID: holder}) {
			t.Errorf("agent's rule %+v", r)
		}
		if r := writeRule(supervisor); r != (kefu.WriteRule{OpenOnly: true, Assigned: true}) {
			t.Errorf("supervisor's rule %+v", r)
		}
		if closeHolder(theAgent) != holder || closeHolder(owner) != 0 {
			t.Error("close is checked against the agent, or nobody for owners")
		}
	})
	t.Run("who is told", func(t *testing.T) {
		if got, want := conversationTopics(queued), []string{"shop/1", "supervisor/1", "buyer/7"}; !slices.Equal(got, want) {
			t.Errorf("waiting: %v, want %v", got, want)
		}
		if got, want := conversationTopics(assigned), []string{"agent/2", "supervisor/1", "buyer/7"}; !slices.Equal(got, want) {
			t.Errorf("assigned: %v, want %v", got, want)
		}
		if got, want := AgentSocketTopics(kefu.Agent{ID: holder, ShopID: shop, Role: kefu.RoleAgent}), []string{"agent/2", "shop/1"}; !slices.Equal(got, want) {
			t.Errorf("agent socket: %v, want %v", got, want)
		}
		if got := AgentSocketTopics(kefu.Agent{ID: 4, ShopID: shop, Role: kefu.RoleSupervisor}); !slices.Contains(got, "supervisor/1") {
			t.Errorf("supervisor socket: %v", got)
		}
	})
	t.Run("lists", func(t *testing.T) {
		open := []kefu.ConversationStatus{kefu.StatusQueued, kefu.StatusAssigned}
		agent := kefu.Agent{ID: holder, ShopID: shop, Role: kefu.RoleAgent}
		got := ListFilters(agent, open, false, 50)
		if len(got) != 2 || got[0].AgentID != holder || !slices.Equal(got[0].Statuses, []kefu.ConversationStatus{kefu.StatusAssigned}) ||
			got[1].AgentID != 0 || !slices.Equal(got[1].Statuses, []kefu.ConversationStatus{kefu.StatusQueued}) {
			t.Errorf("plain agent's lists: %+v", got)
		}
		if got := ListFilters(kefu.Agent{ID: 5, ShopID: shop, Role: kefu.RoleOwner}, open, false, 50); len(got) != 1 || got[0].AgentID != 0 {
			t.Errorf("owner's lists: %+v", got)
		}
		if got := ListFilters(kefu.Agent{ID: 5, ShopID: shop, Role: kefu.RoleOwner}, open, true, 50); len(got) != 1 || got[0].AgentID != 5 {
			t.Errorf("owner's own lists: %+v", got)
		}
		if !ManagesShop(kefu.Agent{Role: kefu.RoleOwner}) || ManagesShop(kefu.Agent{Role: kefu.RoleSupervisor}) {
			t.Error("only the owner manages the shop")
		}
	})
}

// Who may change what of an agent's account.
func TestAgentChangeRules(t *testing.T) {
	owner := kefu.Agent{ID: 1, ShopID: 1, Role: kefu.RoleOwner}
	otherOwner := kefu.Agent{ID: 2, ShopID: 1, Role: kefu.RoleOwner}
	supervisor := kefu.Agent{ID: 3, ShopID: 1, Role: kefu.RoleSupervisor}
	agent := kefu.Agent{ID: 4, ShopID: 1, Role: kefu.RoleAgent}
	name, cap, yes, no := "新名字", 3, true, false
	role := func(r kefu.Role) *kefu.Role { return &r }
	hash := "hash"

	cases := []struct {
		name           string
		viewer, target kefu.Agent
		ch             kefu.AgentChange
		want           error
	}{
		{"an agent renames a colleague", agent, supervisor, kefu.AgentChange{Name: &name}, ErrSupervisorOnly},
		{"an agent renames themselves", agent, agent, kefu.AgentChange{Name: &name}, ErrSupervisorOnly},
		{"a supervisor renames an agent", supervisor, agent, kefu.AgentChange{Name: &name, MaxConcurrent: &cap}, nil},
		{"a supervisor changes their own cap", supervisor, supervisor, kefu.AgentChange{MaxConcurrent: &cap}, nil},
		{"a supervisor renames an owner", supervisor, owner, kefu.AgentChange{Name: &name}, ErrOwnerOnly},
		{"a supervisor sets a role", supervisor, agent, kefu.AgentChange{Role: role(kefu.RoleSupervisor)}, ErrOwnerOnly},
		{"a supervisor disables", supervisor, agent, kefu.AgentChange{Disabled: &yes}, ErrOwnerOnly},
		{"a supervisor enables", supervisor, agent, kefu.AgentChange{Disabled: &no}, ErrOwnerOnly},
		{"a supervisor resets a password", supervisor, agent, kefu.AgentChange{PasswordHash: &hash}, ErrOwnerOnly},
		{"an owner does all to an agent", owner, agent, kefu.AgentChange{Name: &name, Role: role(kefu.RoleOwner), Disabled: &yes, PasswordHash: &hash}, nil},
		{"an owner demotes another owner", owner, otherOwner, kefu.AgentChange{Role: role(kefu.RoleAgent)}, nil},
		{"an owner disables another owner", owner, otherOwner, kefu.AgentChange{Disabled: &yes}, nil},
		{"an owner demotes themselves", owner, owner, kefu.AgentChange{Role: role(kefu.RoleSupervisor)}, ErrSelfLockout},
		{"an owner disables themselves", owner, owner, kefu.AgentChange{Disabled: &yes}, ErrSelfLockout},
		{"an owner keeps their role, renames and resets themselves", owner, owner,
			kefu.AgentChange{Role: role(kefu.RoleOwner), Disabled: &no, Name: &name, PasswordHash: &hash}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := MayChangeAgent(tc.viewer, tc.target, tc.ch); !errors.Is(err, tc.want) {
				t.Fatalf("MayChangeAgent = %v, want %v", err, tc.want)
			}
		})
	}
}

// Who may rate a conversation and who may invite a rating, case by case.
func TestRatingRules(t *testing.T) {
	const shop, buyer, holder, helper = 1, 7, 2, 3
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	assigned := kefu.Conversation{ID: 10, ShopID: shop, BuyerID: buyer, AgentID: holder, HelperIDs: []int64{helper}, Status: kefu.StatusAssigned}
	invited := assigned
	invited.RatingInvitedAt = &now
	closed := kefu.Conversation{ID: 12, ShopID: shop, BuyerID: buyer, AgentID: holder, Status: kefu.StatusClosed}
	rated := closed
	rated.Rating = 4
	queued := kefu.Conversation{ID: 11, ShopID: shop, BuyerID: buyer, Status: kefu.StatusQueued}

	theBuyer := Actor{Kind: kefu.SenderBuyer, ID: buyer, ShopID: shop}
	otherBuyer := Actor{Kind: kefu.SenderBuyer, ID: buyer + 1, ShopID: shop}
	theAgent := Actor{Kind: kefu.SenderAgent, ID: holder, ShopID: shop, Role: kefu.RoleAgent}
	theHelper := Actor{Kind: kefu.SenderAgent, ID: helper, ShopID: shop, Role: kefu.RoleAgent}
	colleague := Actor{Kind: kefu.SenderAgent, ID: 9, ShopID: shop, Role: kefu.RoleAgent}
	supervisor := Actor{Kind: kefu.SenderAgent, ID: 4, ShopID: shop, Role: kefu.RoleSupervisor}

	rates := []struct {
		name  string
		actor Actor
		conv  kefu.Conversation
		want  error // nil: may rate
	}{
		{"buyer, closed", theBuyer, closed, nil},
		{"buyer, open and invited", theBuyer, invited, nil},
		{"buyer, open", theBuyer, assigned, ErrNotRatable},
		{"buyer, waiting", theBuyer, queued, ErrNotRatable},
		{"buyer, rated", theBuyer, rated, ErrAlreadyRated},
		{"another buyer", otherBuyer, closed, kefu.ErrNotFound},
		{"an agent", theAgent, closed, ErrForbidden},
	}
	for _, tc := range rates {
		t.Run("rate: "+tc.name, func(t *testing.T) {
			err := mayRate(tc.actor, tc.conv)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("mayRate = %v, want %v", err, tc.want)
			}
		})
	}
	invites := []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"the agent holding it", theAgent, true},
		{"a helper", theHelper, true},
		{"a supervisor", supervisor, true},
		{"a colleague", colleague, false},
		{"the buyer", theBuyer, false},
	}
	for _, tc := range invites {
		t.Run("invite: "+tc.name, func(t *testing.T) {
			if got := mayInviteRating(tc.actor, assigned); got != tc.want {
				t.Errorf("mayInviteRating = %v, want %v", got, tc.want)
			}
		})
	}
	if err := validRating(0, ""); !errors.Is(err, ErrInvalidRating) {
		t.Errorf("0 stars: %v", err)
	}
	if err := validRating(5, strings.Repeat("好", kefu.MaxRatingCommentRunes)); err != nil {
		t.Errorf("a 500-character comment: %v", err)
	}
	if err := validRating(5, strings.Repeat("好", kefu.MaxRatingCommentRunes+1)); !errors.Is(err, ErrCommentTooLong) {
		t.Errorf("a 501-character comment: %v", err)
	}
}
