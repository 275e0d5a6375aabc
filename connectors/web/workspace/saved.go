package workspace

// Saved searches (RT's saved searches): /searches lists the person's own,
// each an editable form, and those others shared with a group they belong
// to, each with a button to put it on the home page or take it off. A
// search is saved from the search page or here. Every change is the
// engine's (engine.SaveSearch and the rest), which checks the query and
// who may change what.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// savedPage is /searches.
type savedPage struct {
	Mine   []savedItem
	Shared []*engine.SavedSearchView
	Form   savedForm // the new search's
}

// savedItem is one of the person's searches and its form, which keeps
// what was typed when the error is about it.
type savedItem struct {
	*engine.SavedSearchView
	Form   savedForm
	Failed bool
}

type savedForm struct {
	Name, Query, Group string
	Groups             []groupOption // filled in to render
}

type groupOption struct {
	Name     string
	Selected bool
}

var savedNotices = map[string]string{
	"saved":   "Saved: the search is a list on your home page.",
	"changed": "Changed.",
	"deleted": "Deleted.",
	"picked":  "It is on your home page now.",
	"dropped": "It is off your home page.",
}

func (h *Handler) mountSaved(mux *http.ServeMux) {
	mux.HandleFunc("GET /searches", h.savedSearches)
	mux.HandleFunc("POST /searches", signin.SameSite(h.saveSearch))
	mux.HandleFunc("POST /searches/{id}", signin.SameSite(h.editSearch))
	mux.HandleFunc("POST /searches/{id}/delete", signin.SameSite(h.deleteSearch))
	mux.HandleFunc("POST /searches/{id}/pick", signin.SameSite(h.pickSearch))
}

func (h *Handler) savedSearches(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	h.showSaved(w, r, cur, http.StatusOK, savedNotices[r.URL.Query().Get("done")], nil, 0, savedForm{})
}

// showSaved renders /searches; with err, the error of the form of search
// failed (0: the new search's), which keeps what was typed.
func (h *Handler) showSaved(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, notice string,
	err error, failed int64, typed savedForm) {
	ctx, me := r.Context(), cur.User.ID
	p := h.base(cur, "Saved searches")
	p.Notice = notice
	sp := &savedPage{}
	if err != nil {
		msg, ok := said(err)
		if !ok {
			h.fail(w, err)
			return
		}
		p.Error = msg
		if failed == 0 {
			sp.Form = typed
		}
	}
	all, lerr := h.eng.SavedSearches(ctx, me)
	if lerr != nil {
		h.fail(w, lerr)
		return
	}
	for _, s := range all {
		if s.Mine {
			it := savedItem{SavedSearchView: s, Form: savedForm{Name: s.Name, Query: s.Query, Group: s.Group}}
			if err != nil && failed == s.ID {
				it.Form, it.Failed = typed, true
			}
			sp.Mine = append(sp.Mine, it)
		} else {
			sp.Shared = append(sp.Shared, s)
		}
	}
	gs, lerr := h.eng.ShareGroups(ctx, me)
	if lerr != nil {
		h.fail(w, lerr)
		return
	}
	options := func(f *savedForm) {
		for _, g := range gs {
			f.Groups = append(f.Groups, groupOption{Name: g.Name, Selected: strings.EqualFold(g.Name, strings.TrimSpace(f.Group))})
		}
	}
	options(&sp.Form)
	for i := range sp.Mine {
		options(&sp.Mine[i].Form)
	}
	p.Saved = sp
	h.render(w, status, "searches", p)
}

func formOf(r *http.Request) savedForm {
	f := r.PostForm
	return savedForm{Name: f.Get("name"), Query: f.Get("query"), Group: f.Get("group")}
}

func (in savedForm) input() engine.SavedSearchInput {
	return engine.SavedSearchInput{Name: in.Name, Query: in.Query, Group: in.Group}
}

func (h *Handler) saveSearch(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	f := formOf(r)
	s, err := h.eng.SaveSearch(r.Context(), cur.User.ID, f.input())
	if err != nil {
		h.showSaved(w, r, cur, statusOf(err), "", err, 0, f)
		return
	}
	http.Redirect(w, r, "/searches?done=saved#search-"+strconv.FormatInt(s.ID, 10), http.StatusSeeOther)
}

// searchID is the {id} of the path; 0 if it is not a number.
func searchID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func (h *Handler) editSearch(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	id, f := searchID(r), formOf(r)
	_, err := h.eng.EditSavedSearch(r.Context(), cur.User.ID, id, f.input())
	if err != nil {
		h.showSaved(w, r, cur, statusOf(err), "", err, id, f)
		return
	}
	http.Redirect(w, r, "/searches?done=changed#search-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (h *Handler) deleteSearch(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	id := searchID(r)
	if err := h.eng.DeleteSavedSearch(r.Context(), cur.User.ID, id); err != nil {
		h.showSaved(w, r, cur, statusOf(err), "", err, id, savedForm{})
		return
	}
	http.Redirect(w, r, "/searches?done=deleted", http.StatusSeeOther)
}

func (h *Handler) pickSearch(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	id, pick := searchID(r), r.PostForm.Get("pick") == "1"
	if err := h.eng.PickSavedSearch(r.Context(), cur.User.ID, id, pick); err != nil {
		h.showSaved(w, r, cur, statusOf(err), "", err, id, savedForm{})
		return
	}
	done := map[bool]string{true: "picked", false: "dropped"}[pick]
	http.Redirect(w, r, "/searches?done="+done+"#search-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
