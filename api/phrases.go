package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Quick phrases (快捷短语): the shop's, which owners and supervisors manage,
// and each agent's own.

type phraseJSON struct {
	ID        int64     `json:"id"`
	Scope     string    `json:"scope"` // "shop" or "personal"
	Category  string    `json:"category"`
	Shortcut  string    `json:"shortcut"`
	Text      string    `json:"text"`
	Uses      int64     `json:"uses"`
	UpdatedAt time.Time `json:"updated_at"`
}

func phraseView(p kefu.Phrase) phraseJSON {
	scope := "shop"
	if p.AgentID != 0 {
		scope = "personal"
	}
	return phraseJSON{ID: p.ID, Scope: scope, Category: p.Category, Shortcut: p.Shortcut, Text: p.Text, Uses: p.Uses, UpdatedAt: p.UpdatedAt.UTC()}
}

type phraseRequest struct {
	Scope    string `json:"scope"`
	Category string `json:"category"`
	Shortcut string `json:"shortcut"`
	Text     string `json:"text"`
}

var (
	phraseVariable  = regexp.MustCompile(`\{([^{}]*)\}`)
	phraseShortcut  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	errPhraseScope  = badRequest("invalid_scope", "scope must be \"shop\" or \"personal\".")
	errPhraseOwners = newError(http.StatusForbidden, "supervisor_only", "Only the shop owner or a supervisor may change the shop's quick phrases.")
)

// phrase validates a request's fields into a phrase (scope aside).
func (req phraseRequest) phrase() (kefu.Phrase, error) {
	p := kefu.Phrase{Category: strings.TrimSpace(req.Category), Shortcut: strings.TrimSpace(req.Shortcut), Text: strings.TrimSpace(req.Text)}
	switch {
	case p.Text == "":
		return p, badRequest("text_empty", "text must not be empty.")
	case utf8.RuneCountInString(p.Text) > kefu.MaxTextRunes:
		return p, badRequest("text_too_long", "text must be at most 2000 characters.")
	case utf8.RuneCountInString(p.Category) > kefu.MaxPhraseCategory:
		return p, badRequest("invalid_category", "category must be at most 32 characters.")
	case p.Shortcut != "" && !phraseShortcut.MatchString(p.Shortcut):
		return p, badRequest("invalid_shortcut", "shortcut must be 1 to 32 of a-z, 0-9, '-' or '_', starting with a letter or digit.")
	}
	if err := protocol.ValidateText(p.Text); err != nil {
		return p, err
	}
	if p.Category != "" {
		if err := protocol.ValidateName(p.Category); err != nil {
			return p, badRequest("invalid_category", "category holds a character that is not allowed.")
		}
	}
	// Braces are for variables: anything else in them (a typo, {订单号}, { order.no })
	// would reach the buyer as written, past the console's check for unfilled ones.
	for _, m := range phraseVariable.FindAllStringSubmatch(p.Text, -1) {
		if !slices.Contains(kefu.PhraseVariables, m[1]) {
			return p, badRequest("unknown_variable", "unknown variable {"+truncate(m[1], 40)+"}; braces hold one of "+variableList()+".")
		}
	}
	return p, nil
}

func variableList() string {
	names := make([]string, len(kefu.PhraseVariables))
	for i, v := range kefu.PhraseVariables {
		names[i] = "{" + v + "}"
	}
	return strings.Join(names, ", ")
}

// phraseOwner is whose phrases a scope names for the caller: 0 for the
// shop's (owners and supervisors only when changing), the caller for
// personal ones.
func phraseOwner(a kefu.Agent, scope string, changing bool) (int64, error) {
	switch scope {
	case "shop":
		if changing && requireSupervisor(a) != nil {
			return 0, errPhraseOwners
		}
		return 0, nil
	case "personal":
		return a.ID, nil
	}
	return 0, errPhraseScope
}

func (h *handlers) listPhrases(c *gin.Context) {
	a := currentAgent(c)
	ps, err := h.store.Phrases(c.Request.Context(), a.ShopID, a.ID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"phrases": viewsOf(ps, phraseView)})
}

func (h *handlers) createPhrase(c *gin.Context) {
	a := currentAgent(c)
	var req phraseRequest
	if !h.bindJSON(c, &req) {
		return
	}
	owner, err := phraseOwner(a, req.Scope, true)
	if err != nil {
		h.writeError(c, err)
		return
	}
	p, err := req.phrase()
	if err != nil {
		h.writeError(c, err)
		return
	}
	saved, err := h.store.SavePhrases(c.Request.Context(), a.ShopID, owner, []kefu.Phrase{p})
	if err != nil {
		h.writeError(c, phraseError(err))
		return
	}
	c.JSON(http.StatusCreated, gin.H{"phrase": phraseView(saved[0])})
}

// ownPhrase reads the phrase in the path and checks the caller may change
// it: their own, or (owners and supervisors) the shop's.
func (h *handlers) ownPhrase(c *gin.Context) (kefu.Phrase, bool) {
	a := currentAgent(c)
	id, ok := h.pathID(c)
	if !ok {
		return kefu.Phrase{}, false
	}
	p, err := h.store.Phrase(c.Request.Context(), a.ShopID, id)
	if err == nil && p.AgentID != 0 && p.AgentID != a.ID {
		err = kefu.ErrNotFound // a colleague's own phrases are not seen
	}
	if err == nil && p.AgentID == 0 && requireSupervisor(a) != nil {
		err = errPhraseOwners
	}
	if err != nil {
		h.writeError(c, err)
		return kefu.Phrase{}, false
	}
	return p, true
}

func (h *handlers) updatePhrase(c *gin.Context) {
	before, ok := h.ownPhrase(c)
	if !ok {
		return
	}
	var req phraseRequest
	if !h.bindJSON(c, &req) {
		return
	}
	p, err := req.phrase()
	if err != nil {
		h.writeError(c, err)
		return
	}
	p.ID = before.ID
	saved, err := h.store.SavePhrases(c.Request.Context(), before.ShopID, before.AgentID, []kefu.Phrase{p})
	if err != nil {
		h.writeError(c, phraseError(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"phrase": phraseView(saved[0])})
}

func (h *handlers) deletePhrase(c *gin.Context) {
	p, ok := h.ownPhrase(c)
	if !ok {
		return
	}
	if err := h.store.DeletePhrase(c.Request.Context(), p.ShopID, p.AgentID, p.ID); err != nil {
		h.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *handlers) usePhrase(c *gin.Context) {
	a := currentAgent(c)
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	if err := h.store.UsePhrase(c.Request.Context(), a.ShopID, a.ID, id); err != nil {
		h.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// phraseError names what saving phrases ran into.
func phraseError(err error) error {
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return newError(http.StatusConflict, "shortcut_taken", "That shortcut is already used by another quick phrase of the same owner.")
	case errors.Is(err, kefu.ErrTooMany):
		return newError(http.StatusConflict, "too_many_phrases", "At most 2000 shop phrases and 500 personal phrases per agent.")
	}
	return err
}

// csvBOM makes Excel read the file as UTF-8.
const csvBOM = "\ufeff"

var phraseCSVHeader = []string{"category", "shortcut", "text"}

// exportPhrases writes the scope's phrases as CSV (UTF-8 with a BOM).
func (h *handlers) exportPhrases(c *gin.Context) {
	a := currentAgent(c)
	owner, err := phraseOwner(a, c.DefaultQuery("scope", "shop"), false)
	if err != nil {
		h.writeError(c, err)
		return
	}
	ps, err := h.store.Phrases(c.Request.Context(), a.ShopID, owner)
	if err != nil {
		h.writeError(c, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(csvBOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(append(slices.Clone(phraseCSVHeader), "uses"))
	for _, p := range ps {
		if p.AgentID != owner {
			continue
		}
		w.Write([]string{spreadsheetSafe(p.Category), p.Shortcut, spreadsheetSafe(p.Text), strconv.FormatInt(p.Uses, 10)})
	}
	w.Flush()
	name := "kefu-phrases-" + c.DefaultQuery("scope", "shop") + ".csv"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// spreadsheetSafe keeps a cell from running as a formula when the file is
// opened in Excel: one starting with = + - @ or a tab or carriage return
// gets a leading apostrophe, which Excel shows as text and drops on save;
// import takes it off again.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// fromSpreadsheet undoes spreadsheetSafe.
func fromSpreadsheet(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// rowError is one refused row of an import.
type rowError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// importPhrases adds the phrases of a CSV body (category, shortcut, text;
// a header row; UTF-8, a BOM allowed) to the scope, all or none: every
// refused row is reported and nothing is stored.
func (h *handlers) importPhrases(c *gin.Context) {
	a := currentAgent(c)
	owner, err := phraseOwner(a, c.DefaultQuery("scope", "shop"), true)
	if err != nil {
		h.writeError(c, err)
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.writeError(c, newError(http.StatusRequestEntityTooLarge, "body_too_large", "The file is larger than 64 KiB; split it."))
		return
	}
	if err != nil {
		h.writeError(c, badRequest("invalid_csv", "The file could not be read."))
		return
	}
	body = bytes.TrimPrefix(body, []byte(csvBOM))
	if !utf8.Valid(body) {
		h.writeError(c, badRequest("invalid_csv", "The file is not UTF-8 text (save it from Excel as \"CSV UTF-8\")."))
		return
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	// Each row with the line it starts on in the file: a quoted cell may span lines.
	type row struct {
		rec  []string
		line int
	}
	var rows []row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			h.writeError(c, badRequest("invalid_csv", "The file is not valid CSV: "+err.Error()))
			return
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, row{rec, line})
	}
	if len(rows) == 0 || !slices.Equal(headerOf(rows[0].rec), phraseCSVHeader) {
		h.writeError(c, badRequest("invalid_csv", "The first row must be the header category,shortcut,text (a uses column may follow)."))
		return
	}
	rows = rows[1:]
	if len(rows) > kefu.MaxPhraseImportRows {
		h.writeError(c, badRequest("invalid_csv", fmt.Sprintf("At most %d phrases in one file.", kefu.MaxPhraseImportRows)))
		return
	}
	// Shortcuts the owner uses already, and those earlier in the file: every
	// row that would collide is named, not only the first.
	have, err := h.store.Phrases(c.Request.Context(), a.ShopID, owner)
	if err != nil {
		h.writeError(c, err)
		return
	}
	taken := map[string]int{} // shortcut -> the line that has it (0: stored)
	for _, p := range have {
		if p.AgentID == owner && p.Shortcut != "" {
			taken[p.Shortcut] = 0
		}
	}
	var ps []kefu.Phrase
	var lines []int
	var bad []rowError
	for _, rw := range rows {
		rec := rw.rec
		for len(rec) < 3 {
			rec = append(rec, "")
		}
		p, err := phraseRequest{Category: fromSpreadsheet(rec[0]), Shortcut: rec[1], Text: fromSpreadsheet(rec[2])}.phrase()
		if err == nil && p.Shortcut != "" {
			if at, dup := taken[p.Shortcut]; dup {
				where := "a quick phrase stored already"
				if at > 0 {
					where = fmt.Sprintf("line %d", at)
				}
				err = newError(http.StatusConflict, "shortcut_taken", "Shortcut "+p.Shortcut+" is used by "+where+".")
			} else {
				taken[p.Shortcut] = rw.line
			}
		}
		if err != nil {
			ae, _ := toAPIError(err)
			bad = append(bad, rowError{Line: rw.line, Code: ae.Code, Message: ae.Message})
			continue
		}
		ps, lines = append(ps, p), append(lines, rw.line)
	}
	if len(bad) > 0 {
		c.JSON(http.StatusBadRequest, gin.H{"error": gin.H{"code": "invalid_rows", "message": "Some rows were refused; nothing was imported."}, "rows": bad})
		return
	}
	saved, err := h.store.SavePhrases(c.Request.Context(), a.ShopID, owner, ps)
	var pe *kefu.ItemError
	if errors.As(err, &pe) {
		ae, _ := toAPIError(phraseError(err))
		c.JSON(http.StatusBadRequest, gin.H{"error": gin.H{"code": "invalid_rows", "message": "Some rows were refused; nothing was imported."},
			"rows": []rowError{{Line: lines[pe.Index], Code: ae.Code, Message: ae.Message}}})
		return
	}
	if err != nil {
		h.writeError(c, phraseError(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"imported": len(saved)})
}

// headerOf is a CSV header row without a trailing uses column, trimmed and
// in lower case.
func headerOf(rec []string) []string {
	out := make([]string, 0, len(rec))
	for _, f := range rec {
		out = append(out, strings.ToLower(strings.TrimSpace(f)))
	}
	if n := len(out); n == 4 && out[3] == "uses" {
		out = out[:3]
	}
	return out
}
