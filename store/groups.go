package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type groupRow struct {
	ID        int64 `gorm:"primaryKey"`
	ShopID    int64
	Slug      string
	Name      string
	Scope     string
	InMenu    bool
	CreatedAt time.Time
}

func (groupRow) TableName() string { return "agent_groups" }

type groupMemberRow struct {
	ShopID  int64
	GroupID int64
	AgentID int64
	Weight  int
}

func (groupMemberRow) TableName() string { return "agent_group_members" }

// CreateGroup stores a new group of the shop with its members. A slug the
// shop already uses is kefu.ErrConflict; a member who is not an agent of the
// shop is kefu.ErrNotFound.
func (s *Store) CreateGroup(ctx context.Context, g kefu.Group) (kefu.Group, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	row := groupRow{ShopID: g.ShopID, Slug: g.Slug, Name: g.Name, Scope: string(g.Scope), InMenu: g.InMenu, CreatedAt: s.now().UTC().Truncate(microsecond)}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Groups are what routing decisions read: a change waits for the
		// shop's decision in progress.
		if err := s.lockShopRoutingGorm(tx, g.ShopID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&groupRow{}).Where("shop_id = ?", g.ShopID).Count(&n).Error; err != nil {
			return err
		}
		if n >= kefu.MaxGroupsPerShop {
			return fmt.Errorf("shop %d has %d groups already: %w", g.ShopID, n, kefu.ErrTooMany)
		}
		if err := tx.Create(&row).Error; err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("group %q: %w", g.Slug, kefu.ErrConflict)
			}
			return err
		}
		return setMembers(tx, g.ShopID, row.ID, g.Members)
	})
	if err != nil {
		return kefu.Group{}, fmt.Errorf("store: create group %q: %w", g.Slug, err)
	}
	return s.Group(ctx, g.ShopID, row.ID)
}

// UpdateGroup changes a group's name, scope and members (its slug stays).
func (s *Store) UpdateGroup(ctx context.Context, g kefu.Group) (kefu.Group, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockShopRoutingGorm(tx, g.ShopID); err != nil {
			return err
		}
		res := tx.Model(&groupRow{}).Where("shop_id = ? AND id = ?", g.ShopID, g.ID).
			Updates(map[string]any{"name": g.Name, "scope": string(g.Scope), "in_menu": g.InMenu})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("group %d: %w", g.ID, kefu.ErrNotFound)
		}
		return setMembers(tx, g.ShopID, g.ID, g.Members)
	})
	if err != nil {
		return kefu.Group{}, fmt.Errorf("store: update group %d: %w", g.ID, err)
	}
	return s.Group(ctx, g.ShopID, g.ID)
}

// DeleteGroup removes a group. Conversations that asked for it are routed to
// the whole shop from then on.
func (s *Store) DeleteGroup(ctx context.Context, shopID, id int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockShopRoutingGorm(tx, shopID); err != nil {
			return err
		}
		if err := tx.Where("shop_id = ? AND group_id = ?", shopID, id).Delete(&groupMemberRow{}).Error; err != nil {
			return err
		}
		res := tx.Where("shop_id = ? AND id = ?", shopID, id).Delete(&groupRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("group %d: %w", id, kefu.ErrNotFound)
		}
		return tx.Exec(`UPDATE conversations SET group_id = 0 WHERE shop_id = ? AND group_id = ?`, shopID, id).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete group %d: %w", id, err)
	}
	return nil
}

// setMembers replaces a group's members inside tx; every member must be an
// agent of the shop.
func setMembers(tx *gorm.DB, shopID, groupID int64, members []kefu.GroupMember) error {
	if err := tx.Where("shop_id = ? AND group_id = ?", shopID, groupID).Delete(&groupMemberRow{}).Error; err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	ids := make([]int64, len(members))
	rows := make([]groupMemberRow, len(members))
	for i, m := range members {
		ids[i] = m.AgentID
		rows[i] = groupMemberRow{ShopID: shopID, GroupID: groupID, AgentID: m.AgentID, Weight: m.Weight}
	}
	var n int64
	if err := tx.Model(&agentRow{}).Where("shop_id = ? AND id IN ?", shopID, ids).Count(&n).Error; err != nil {
		return err
	}
	if int(n) != len(members) {
		return fmt.Errorf("a member is not an agent of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return tx.Create(&rows).Error
}

// Group loads one group of the shop with its members.
func (s *Store) Group(ctx context.Context, shopID, id int64) (kefu.Group, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	groups, err := s.groups(ctx, shopID, "id = ?", id)
	if err != nil {
		return kefu.Group{}, err
	}
	if len(groups) == 0 {
		return kefu.Group{}, fmt.Errorf("store: group %d: %w", id, kefu.ErrNotFound)
	}
	return groups[0], nil
}

// GroupBySlug loads the shop's group a store page names.
func (s *Store) GroupBySlug(ctx context.Context, shopID int64, slug string) (kefu.Group, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	groups, err := s.groups(ctx, shopID, "slug = ?", slug)
	if err != nil {
		return kefu.Group{}, err
	}
	if len(groups) == 0 {
		return kefu.Group{}, fmt.Errorf("store: group %q: %w", slug, kefu.ErrNotFound)
	}
	return groups[0], nil
}

// Groups lists the shop's groups by slug, with their members.
func (s *Store) Groups(ctx context.Context, shopID int64) ([]kefu.Group, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return s.groups(ctx, shopID, "1 = 1")
}

func (s *Store) groups(ctx context.Context, shopID int64, where string, args ...any) ([]kefu.Group, error) {
	db := s.rdb.WithContext(ctx)
	var rows []groupRow
	if err := db.Where("shop_id = ?", shopID).Where(where, args...).Order("slug").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list groups of shop %d: %w", shopID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var members []groupMemberRow
	if err := db.Where("shop_id = ? AND group_id IN ?", shopID, ids).Find(&members).Error; err != nil {
		return nil, fmt.Errorf("store: list group members of shop %d: %w", shopID, err)
	}
	byGroup := map[int64][]kefu.GroupMember{}
	for _, m := range members {
		byGroup[m.GroupID] = append(byGroup[m.GroupID], kefu.GroupMember{AgentID: m.AgentID, Weight: m.Weight})
	}
	out := make([]kefu.Group, len(rows))
	for i, r := range rows {
		ms := byGroup[r.ID]
		sort.Slice(ms, func(a, b int) bool { return ms[a].AgentID < ms[b].AgentID })
		if ms == nil {
			ms = []kefu.GroupMember{}
		}
		out[i] = kefu.Group{ID: r.ID, ShopID: r.ShopID, Slug: r.Slug, Name: r.Name, Scope: kefu.GroupScope(r.Scope),
			InMenu: r.InMenu, Members: ms, CreatedAt: r.CreatedAt}
	}
	return out, nil
}
