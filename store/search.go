package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kefu/kefu"
)

// Transcript search (docs/search.md). A term of three characters or more is
// found through the index (SQLite FTS5 trigram, PostgreSQL pg_trgm); shorter
// ones cannot be (a trigram index has nothing to look up), so a search whose
// terms are all short reads the candidate conversations newest first, at
// most searchScanBudget of them per page, and checks their messages with
// LIKE.
const (
	minIndexedRunes  = 3
	searchScanBudget = 10000 // conversations a search without an indexable term reads per page
	searchSnippets   = 3
	snippetBefore    = 20  // characters kept before the first match
	snippetRunes     = 120 // characters of a snippet at most
)

// SearchConversations finds the shop's conversations whose messages match f,
// newest first, with up to three matching messages each.
func (s *Store) SearchConversations(ctx context.Context, shopID int64, f kefu.SearchFilter) (kefu.SearchPage, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if f.Limit <= 0 || f.Limit > kefu.MaxPageSize {
		f.Limit = kefu.MaxPageSize
	}
	terms := strings.Fields(f.Text)
	orderNo := strings.TrimSpace(f.OrderNo)
	ids, next, err := s.searchIDs(ctx, shopID, f, terms, orderNo)
	if err != nil {
		return kefu.SearchPage{}, fmt.Errorf("store: search conversations of shop %d: %w", shopID, err)
	}
	page := kefu.SearchPage{NextBeforeID: next}
	if len(ids) == 0 {
		return page, nil
	}
	var rows []conversationRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id IN ?", shopID, ids).Order("id DESC").Find(&rows).Error; err != nil {
		return kefu.SearchPage{}, fmt.Errorf("store: search conversations of shop %d: %w", shopID, err)
	}
	sums, err := s.summarize(ctx, shopID, rows)
	if err != nil {
		return kefu.SearchPage{}, err
	}
	snippets, err := s.searchSnippets(ctx, shopID, ids, terms, orderNo)
	if err != nil {
		return kefu.SearchPage{}, fmt.Errorf("store: search conversations of shop %d: snippets: %w", shopID, err)
	}
	page.Hits = make([]kefu.SearchHit, len(sums))
	for i, sum := range sums {
		page.Hits[i] = kefu.SearchHit{ConversationSummary: sum, Snippets: snippets[sum.ID]}
	}
	return page, nil
}

// searchQuery builds a statement with $N placeholders: every value from the
// caller is an argument, never SQL.
type searchQuery struct {
	args []any
}

func (q *searchQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// like is a LIKE pattern finding term anywhere in a text.
func like(term string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term) + "%"
}

// likeOp is the dialect's LIKE that ignores the case of ASCII letters, as
// the trigram index does.
func (s *Store) likeOp() string {
	if s.dialect.name == postgresDialect.name {
		return "ILIKE"
	}
	return "LIKE"
}

// textHolds is the condition that message column m's text holds every term.
func (s *Store) textHolds(q *searchQuery, m string, terms []string) string {
	conds := make([]string, len(terms))
	for i, t := range terms {
		conds[i] = m + ".text " + s.likeOp() + " " + q.arg(like(t)) + ` ESCAPE '\'`
	}
	return strings.Join(conds, " AND ")
}

// someMessageHolds is the condition that some text message of conversation
// c holds every term.
func (s *Store) someMessageHolds(q *searchQuery, shop string, terms []string) string {
	return `EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = c.id AND o.shop_id = ` + shop +
		` AND o.kind <> 'system' AND ` + s.textHolds(q, "o", terms) + `)`
}

// conversationConds are f's conditions on conversations c.
func conversationConds(q *searchQuery, shop string, f kefu.SearchFilter) []string {
	conds := []string{"c.shop_id = " + shop}
	if f.ReaderID != 0 {
		// What conversation.mayRead allows a plain agent: what they hold or
		// held, help in, and the queue.
		conds = append(conds, "(c.agent_id = "+q.arg(f.ReaderID)+" OR c.status = 'queued' OR (c.helpers <> '' AND ',' || c.helpers || ',' LIKE "+
			q.arg("%,"+strconv.FormatInt(f.ReaderID, 10)+",%")+"))")
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ph[i] = q.arg(string(st))
		}
		conds = append(conds, "c.status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.AgentID != 0 {
		conds = append(conds, "c.agent_id = "+q.arg(f.AgentID))
	}
	if f.BuyerID != 0 {
		conds = append(conds, "c.buyer_id = "+q.arg(f.BuyerID))
	}
	if f.GroupID != 0 {
		conds = append(conds, "c.group_id = "+q.arg(f.GroupID))
	}
	if !f.From.IsZero() {
		conds = append(conds, "c.created_at >= "+q.arg(f.From.UTC()))
	}
	if !f.To.IsZero() {
		conds = append(conds, "c.created_at < "+q.arg(f.To.UTC()))
	}
	if f.BeforeID != 0 {
		conds = append(conds, "c.id < "+q.arg(f.BeforeID))
	}
	return conds
}

// searchIDs finds the ids of a page of matching conversations, newest
// first, and the next page's BeforeID (0: none).
func (s *Store) searchIDs(ctx context.Context, shopID int64, f kefu.SearchFilter, terms []string, orderNo string) ([]int64, int64, error) {
	// Words too short for the index are checked with LIKE on what it finds.
	var long []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= minIndexedRunes {
			long = append(long, t)
		}
	}
	// One buyer's conversations are few: reading them beats the index.
	indexed := f.BuyerID == 0 && (len(long) > 0 || utf8.RuneCountInString(orderNo) >= minIndexedRunes)
	if indexed {
		return s.searchIndexed(ctx, shopID, f, terms, long, orderNo)
	}
	return s.searchScan(ctx, shopID, f, terms, orderNo)
}

// searchIndexed finds matching messages through the index, then their
// conversations. The index drives with the text's long terms (all within one
// message with the short ones), or else with the order number.
func (s *Store) searchIndexed(ctx context.Context, shopID int64, f kefu.SearchFilter, terms, long []string, orderNo string) ([]int64, int64, error) {
	q := &searchQuery{}
	shop := q.arg(shopID)
	driving, rest := terms, []string(nil)
	indexTerms := long
	if len(long) == 0 {
		// Only the order number can be looked up; the short terms are
		// checked per conversation.
		driving, indexTerms = []string{orderNo}, []string{orderNo}
		rest = terms
		orderNo = ""
	}
	var from string
	conds := []string{"m.shop_id = " + shop, "m.kind <> 'system'"}
	if s.dialect.name == postgresDialect.name {
		from = "messages m"
		conds = append(conds, s.textHolds(q, "m", driving))
	} else {
		phrases := make([]string, len(indexTerms))
		for i, t := range indexTerms {
			phrases[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		}
		// The index holds the messages up to its mark; the few committed
		// since its last pass (search_index.go) are read with LIKE, so a
		// message is found from its commit on. One statement reads both
		// from one snapshot: no message is in both or in neither.
		from = "(SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH " + q.arg(strings.Join(phrases, " AND ")) +
			" UNION ALL SELECT t.id FROM messages t WHERE t.id > (SELECT last_id FROM messages_fts_mark) AND t.kind <> 'system' AND " +
			s.textHolds(q, "t", indexTerms) + ") hit JOIN messages m ON m.id = hit.id"
		if short := slices.DeleteFunc(slices.Clone(driving), func(t string) bool { return slices.Contains(indexTerms, t) }); len(short) > 0 {
			conds = append(conds, s.textHolds(q, "m", short))
		}
	}
	// Every match is joined to its conversation only when a condition needs
	// it: a whole-shop search by text alone (an owner's) skips a lookup per
	// matching message.
	byMessage := f.ReaderID == 0 && len(f.Statuses) == 0 && f.AgentID == 0 && f.BuyerID == 0 && f.GroupID == 0 &&
		f.From.IsZero() && f.To.IsZero() && len(rest) == 0 && orderNo == ""
	if byMessage {
		if f.BeforeID != 0 {
			conds = append(conds, "m.conversation_id < "+q.arg(f.BeforeID))
		}
	} else {
		from += ` JOIN conversations c ON c.id = m.conversation_id`
		conds = append(conds, conversationConds(q, shop, f)...)
	}
	if len(rest) > 0 {
		conds = append(conds, s.someMessageHolds(q, shop, rest))
	}
	if orderNo != "" {
		conds = append(conds, s.someMessageHolds(q, shop, []string{orderNo}))
	}
	stmt := `SELECT m.conversation_id FROM ` + from + ` WHERE ` +
		strings.Join(conds, " AND ") + ` GROUP BY m.conversation_id ORDER BY m.conversation_id DESC LIMIT ` + q.arg(f.Limit+1)
	ids, err := s.queryIDs(ctx, stmt, q.args)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) > f.Limit {
		ids = ids[:f.Limit]
		return ids, ids[len(ids)-1], nil
	}
	return ids, 0, nil
}

// searchScan reads the conversations f allows newest first and keeps those
// with a matching message: at most searchScanBudget of them per page when
// there is text to match (without any, every one read is a hit).
func (s *Store) searchScan(ctx context.Context, shopID int64, f kefu.SearchFilter, terms []string, orderNo string) ([]int64, int64, error) {
	q := &searchQuery{}
	shop := q.arg(shopID)
	candidates := `SELECT c.id FROM conversations c WHERE ` + strings.Join(conversationConds(q, shop, f), " AND ") + ` ORDER BY c.id DESC`
	if len(terms) == 0 && orderNo == "" {
		ids, err := s.queryIDs(ctx, candidates+` LIMIT `+q.arg(f.Limit+1), q.args)
		if err != nil {
			return nil, 0, err
		}
		if len(ids) > f.Limit {
			ids = ids[:f.Limit]
			return ids, ids[len(ids)-1], nil
		}
		return ids, 0, nil
	}
	candidates += ` LIMIT ` + q.arg(searchScanBudget)
	scanArgs := slices.Clone(q.args)
	var conds []string
	if len(terms) > 0 {
		conds = append(conds, s.someMessageHolds(q, shop, terms))
	}
	if orderNo != "" {
		conds = append(conds, s.someMessageHolds(q, shop, []string{orderNo}))
	}
	stmt := `SELECT c.id FROM (` + candidates + `) c WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY c.id DESC LIMIT ` + q.arg(f.Limit+1)
	ids, err := s.queryIDs(ctx, stmt, q.args)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) > f.Limit {
		ids = ids[:f.Limit]
		return ids, ids[len(ids)-1], nil
	}
	// Fewer than a page: the next one starts below the last conversation
	// read, if the budget ended the reading.
	var n, oldest int64
	if err := s.rdb.WithContext(ctx).Raw(s.sql(`SELECT COUNT(*), COALESCE(MIN(id), 0) FROM (`+candidates+`) c`), scanArgs...).
		Row().Scan(&n, &oldest); err != nil {
		return nil, 0, err
	}
	if n < searchScanBudget {
		return ids, 0, nil
	}
	return ids, oldest, nil
}

func (s *Store) queryIDs(ctx context.Context, stmt string, args []any) ([]int64, error) {
	rows, err := s.rdb.WithContext(ctx).Raw(s.sql(stmt), args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// searchSnippets reads up to searchSnippets matching messages of each
// conversation: those holding every term, or the order number.
func (s *Store) searchSnippets(ctx context.Context, shopID int64, ids []int64, terms []string, orderNo string) (map[int64][]kefu.Snippet, error) {
	if len(terms) == 0 && orderNo == "" {
		return nil, nil
	}
	q := &searchQuery{}
	shop := q.arg(shopID)
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = q.arg(id)
	}
	var match []string
	if len(terms) > 0 {
		match = append(match, "("+s.textHolds(q, "m", terms)+")")
	}
	if orderNo != "" {
		match = append(match, "("+s.textHolds(q, "m", []string{orderNo})+")")
	}
	stmt := `SELECT id, conversation_id, seq, sender, sender_name, text, created_at FROM (
		SELECT m.id, m.conversation_id, m.seq, m.sender, m.sender_name, m.text, m.created_at,
			ROW_NUMBER() OVER (PARTITION BY m.conversation_id ORDER BY m.seq) AS n
		FROM messages m WHERE m.shop_id = ` + shop + ` AND m.conversation_id IN (` + strings.Join(ph, ", ") + `) AND m.kind <> 'system'
			AND (` + strings.Join(match, " OR ") + `)) x WHERE n <= ` + q.arg(searchSnippets) + ` ORDER BY conversation_id, seq`
	var rows []messageRow
	if err := s.rdb.WithContext(ctx).Raw(s.sql(stmt), q.args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	marks := terms
	if orderNo != "" {
		marks = append(slices.Clone(terms), orderNo)
	}
	out := map[int64][]kefu.Snippet{}
	for _, r := range rows {
		text, spans := snippet(r.Text, marks)
		out[r.ConversationID] = append(out[r.ConversationID], kefu.Snippet{MessageID: r.ID, Seq: r.Seq, Sender: kefu.SenderKind(r.Sender),
			SenderName: r.SenderName, CreatedAt: r.CreatedAt, Text: text, Highlights: spans})
	}
	return out, nil
}

// snippet cuts text around its first match of any term and marks every
// match within the cut, in characters. Letters match whatever their case.
func snippet(text string, terms []string) (string, []kefu.Span) {
	runes := []rune(text)
	folded := fold(runes)
	var spans []kefu.Span
	for _, t := range terms {
		tr := fold([]rune(t))
		if len(tr) == 0 {
			continue
		}
		for i := 0; i+len(tr) <= len(folded); i++ {
			if slices.Equal(folded[i:i+len(tr)], tr) {
				spans = append(spans, kefu.Span{Start: i, End: i + len(tr)})
			}
		}
	}
	slices.SortFunc(spans, func(a, b kefu.Span) int { return a.Start - b.Start })
	// Overlapping matches (发货 and 货呀 in 发货呀) are marked as one.
	var merged []kefu.Span
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, sp.End)
			continue
		}
		merged = append(merged, sp)
	}
	start := 0
	if len(merged) > 0 {
		start = max(0, merged[0].Start-snippetBefore)
	}
	end := min(len(runes), start+snippetRunes)
	var kept []kefu.Span
	for _, sp := range merged {
		if sp.Start >= end {
			break
		}
		kept = append(kept, kefu.Span{Start: sp.Start - start, End: min(sp.End, end) - start})
	}
	return string(runes[start:end]), kept
}

// fold lowers each character on its own, so offsets stay those of the text.
func fold(runes []rune) []rune {
	out := make([]rune, len(runes))
	for i, r := range runes {
		out[i] = unicode.ToLower(r)
	}
	return out
}
