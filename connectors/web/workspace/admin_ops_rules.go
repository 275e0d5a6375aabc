package workspace

// The automation rules (check a rules text; save it to TICKETD_RULES and
// put it in force) and the audit log.

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/rules"
)

type opsRulesView struct {
	InForce []opsRule
	Source  string // where the rules in force come from
	File    string // TICKETD_RULES; "": check only
	Text    string
	// Checked lists the rules of a text that checked out.
	Checked []string
}

type opsRule struct{ Name, From string }

// maxRulesText bounds a rules text sent from the page (the form is read
// up to 64 KiB).
const maxRulesText = 60 << 10

var opsRulesNotices = map[string]string{"save": "The rules are saved and in force."}

func (h *Handler) opsRules(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	v := &opsRulesView{}
	errMsg := ""
	if h.ops.rulesFile != "" {
		data, err := os.ReadFile(h.ops.rulesFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Saving creates it.
		case err != nil:
			h.log.Error("read rules file", "path", h.ops.rulesFile, "err", err)
			errMsg = "The rules file cannot be read; see the server's log."
		default:
			v.Text = string(data)
		}
	}
	h.opsShowRules(w, cur, http.StatusOK, errMsg, opsNotice(r, opsRulesNotices), v)
}

func (h *Handler) opsShowRules(w http.ResponseWriter, cur *account.Current, status int, errMsg, notice string, v *opsRulesView) {
	rs := h.eng.RulesInForce()
	builtin := map[string]bool{}
	for _, d := range rules.Defaults() {
		builtin[d.Name] = true
	}
	v.Source, v.File, v.InForce = rs.Source, h.ops.rulesFile, nil
	if v.Source == "" {
		v.Source = "built in"
	}
	for _, n := range rs.Names() {
		from := v.Source
		if builtin[n] {
			from = "built in"
		}
		v.InForce = append(v.InForce, opsRule{Name: n, From: from})
	}
	p := &opsPage{page: h.base(cur, "Automation rules"), Rules: v}
	p.Error, p.Notice = errMsg, notice
	h.opsRender(w, status, "rules", p)
}

func (h *Handler) opsRulesPost(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	text := strings.ReplaceAll(r.PostForm.Get("rules"), "\r\n", "\n")
	v := &opsRulesView{Text: text}
	bad := func(status int, msg string) { h.opsShowRules(w, cur, status, msg, "", v) }
	if len(text) > maxRulesText {
		bad(http.StatusBadRequest, "The rules text is too long (at most 60 KiB).")
		return
	}
	source := h.ops.rulesFile
	if source == "" {
		source = "rules"
	}
	eng := h.engineFor(cur)
	rs, err := eng.CheckRules(r.Context(), cur.User.ID, source, []byte(text))
	if err != nil {
		h.opsError(w, cur, err, bad)
		return
	}
	if r.PostForm.Get("do") != "save" {
		v.Checked = rs.Names()
		h.opsShowRules(w, cur, http.StatusOK, "", "The rules are good; nothing is saved yet.", v)
		return
	}
	if h.ops.rulesFile == "" {
		bad(http.StatusBadRequest, "No rules file is configured (TICKETD_RULES): rules can be checked here, not saved.")
		return
	}
	old, readErr := os.ReadFile(h.ops.rulesFile)
	if err := opsWriteFile(h.ops.rulesFile, []byte(text)); err != nil {
		h.fail(w, err)
		return
	}
	if _, err := eng.LoadRules(r.Context(), cur.User.ID, h.ops.rulesFile, []byte(text)); err != nil {
		// The file would no longer say what is in force: put it back.
		if readErr == nil {
			if err := opsWriteFile(h.ops.rulesFile, old); err != nil {
				h.log.Error("restore rules file", "path", h.ops.rulesFile, "err", err)
			}
		} else if errors.Is(readErr, fs.ErrNotExist) {
			os.Remove(h.ops.rulesFile)
		}
		h.opsError(w, cur, err, bad)
		return
	}
	opsDone(w, r, "/admin/rules", "save")
}

// opsWriteFile replaces path with data at once: a reader (a replica
// reloading on SIGHUP) sees the old file or the new, never half of one.
func opsWriteFile(path string, data []byte) error {
	mode := fs.FileMode(0o640)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// ---- the audit log ----

type opsAuditView struct {
	Actor, Action, Since string
	Rows                 []opsAuditRow
	Older                string // the link to the next page; "": none
}

type opsAuditRow struct {
	ID                                       int64
	At, Actor, Via, Action, Object, Old, New string
}

const opsAuditPage = 50

func (h *Handler) opsAudit(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	q := r.URL.Query()
	v := &opsAuditView{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Since: strings.TrimSpace(q.Get("since"))}
	p := &opsPage{page: h.base(cur, "Audit log"), Audit: v}
	aq := engine.AuditQuery{Actor: v.Actor, Action: v.Action, Limit: opsAuditPage}
	if v.Since != "" {
		t, ok := opsParseSince(v.Since)
		if !ok {
			p.Error = "since " + strconv.Quote(v.Since) + " is not a date such as 2026-03-01 or 2026-03-01T09:00 (UTC)"
			h.opsRender(w, http.StatusBadRequest, "audit", p)
			return
		}
		aq.Since = t
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			p.Error = "before must be an audit row's number"
			h.opsRender(w, http.StatusBadRequest, "audit", p)
			return
		}
		aq.Before = n
	}
	es, err := h.eng.Admin().Audit(r.Context(), cur.User.ID, aq)
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) {
			p.Error = msg
			h.opsRender(w, status, "audit", p)
		})
		return
	}
	for _, e := range es {
		v.Rows = append(v.Rows, opsAuditRow{ID: e.ID, At: opsTime(e.At), Actor: e.Actor, Via: e.Via, Action: e.Action,
			Object: e.Object, Old: e.Old, New: e.New})
	}
	if len(es) == opsAuditPage {
		next := url.Values{}
		for k, val := range map[string]string{"actor": v.Actor, "action": v.Action, "since": v.Since} {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		v.Older = "/admin/audit?" + next.Encode()
	}
	h.opsRender(w, http.StatusOK, "audit", p)
}

// opsParseSince reads a date, a datetime-local value, or RFC 3339; UTC
// unless the value says otherwise.
func opsParseSince(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
