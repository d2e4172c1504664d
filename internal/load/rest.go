package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// rest is the REST calls the scenarios make (docs/openapi.yaml), as the
// shop's owner or as one of its agents.
type rest struct {
	cfg   Config
	http  http.Client
	owner string // owner's session token, once signed in
}

func (r *rest) do(ctx context.Context, method, path, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.cfg.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := r.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

func (r *rest) login(ctx context.Context, username string) (string, int64, error) {
	var out struct {
		Token string
		Agent struct{ ID int64 }
	}
	code, err := r.do(ctx, "POST", "/api/v1/auth/login", "",
		map[string]string{"shop": r.cfg.Shop, "username": username, "password": r.cfg.Password}, &out)
	if err == nil && code != 200 {
		err = fmt.Errorf("status %d", code)
	}
	return out.Token, out.Agent.ID, err
}

// ensureAgent creates a load agent with the owner's password if absent.
func (r *rest) ensureAgent(ctx context.Context, username string, agentCap int) error {
	code, err := r.do(ctx, "POST", "/api/v1/agents", r.owner, map[string]any{"username": username,
		"name": "压测 " + username, "password": r.cfg.Password, "max_concurrent": agentCap}, nil)
	if err == nil && code != 201 && code != 409 {
		err = fmt.Errorf("status %d", code)
	}
	if err != nil {
		return fmt.Errorf("create agent %s: %w", username, err)
	}
	return nil
}

type convList struct {
	Conversations []struct {
		ID      int64  `json:"id"`
		Status  string `json:"status"`
		AgentID *int64 `json:"agent_id"`
	} `json:"conversations"`
}

// closeOpenConversations closes what earlier runs left open in the shop, so
// agents start with free slots and nothing old is waiting; it returns how
// many it closed.
func (r *rest) closeOpenConversations(ctx context.Context) (int, error) {
	closed := 0
	for {
		var list convList
		if code, err := r.do(ctx, "GET", "/api/v1/conversations?status=open&limit=200", r.owner, nil, &list); err != nil || code != 200 {
			return closed, fmt.Errorf("list open conversations: status %d, %v", code, err)
		}
		if len(list.Conversations) == 0 {
			return closed, nil
		}
		if err := parallel(ctx, len(list.Conversations), 8, func(i int) error {
			return r.closeConversation(ctx, r.owner, list.Conversations[i].ID)
		}); err != nil {
			return closed, err
		}
		closed += len(list.Conversations)
	}
}

func (r *rest) closeConversation(ctx context.Context, token string, id int64) error {
	code, err := r.do(ctx, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", id), token, nil, nil)
	if err == nil && code != 200 {
		err = fmt.Errorf("close conversation %d: status %d", id, code)
	}
	return err
}

// heldConversations lists the open conversations an agent holds.
func (r *rest) heldConversations(ctx context.Context, token string, agentID int64) ([]int64, error) {
	var list convList
	if code, err := r.do(ctx, "GET", "/api/v1/conversations?status=assigned&mine=true&limit=200", token, nil, &list); err != nil || code != 200 {
		return nil, fmt.Errorf("list conversations: status %d, %v", code, err)
	}
	var ids []int64
	for _, c := range list.Conversations {
		if c.AgentID != nil && *c.AgentID == agentID {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
