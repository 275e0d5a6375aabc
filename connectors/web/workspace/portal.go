package workspace

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// The requesters' portal (and everyone's): a new ticket in a queue the
// signed-in person may create tickets in.

// newForm is the form for a new ticket: the queues offered, and what was
// typed (shown again after a refusal).
type newForm struct {
	Queues        []*core.Queue
	Queue         int64
	Subject, Body string
	// Fields are the custom fields the person may set (fields.go), with
	// what was posted.
	Fields []fieldView
	Posted map[string][]string
	Users  []string // offered for a user field
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	h.showNew(w, r, cur, http.StatusOK, "", &newForm{})
}

func (h *Handler) showNew(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg string, f *newForm) {
	qs, err := h.eng.CreatableQueues(r.Context(), cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	f.Queues = qs
	fs, err := h.eng.Fields(r.Context(), cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	f.Fields = newFields(fs, qs, f.Posted)
	if slices.ContainsFunc(f.Fields, func(f fieldView) bool { return f.Type == core.FieldUser }) {
		f.Users = h.userNames(r.Context(), cur, nil)
	}
	p := h.base(cur, "New ticket")
	p.Error, p.New = errMsg, f
	if len(qs) == 0 && errMsg == "" {
		p.Error = "There is no queue you may open tickets in: ask an admin."
	}
	h.render(w, status, "new", p)
}

// create opens the ticket as the signed-in person, its requester: the
// engine checks the CreateTicket right (a queue not offered is refused
// with its message) and the subject.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	ok, err := readUpload(w, r)
	defer cleanUpload(r)
	if err == errTooLarge {
		h.showNew(w, r, cur, http.StatusRequestEntityTooLarge, tooLarge, &newForm{})
		return
	}
	if !ok || !h.in.CheckForm(w, r, cur) {
		return
	}
	f := &newForm{Subject: r.PostForm.Get("subject"), Body: strings.TrimSpace(r.PostForm.Get("body")), Posted: postedFields(r.PostForm)}
	f.Queue, _ = strconv.ParseInt(r.PostForm.Get("queue"), 10, 64)
	if f.Queue <= 0 {
		h.showNew(w, r, cur, http.StatusBadRequest, "Choose a queue.", f)
		return
	}
	in := engine.CreateInput{Queue: strconv.FormatInt(f.Queue, 10), Subject: f.Subject, Fields: f.Posted}
	c := &core.Content{Body: f.Body}
	if c.Files, err = h.uploaded(r); err != nil {
		if rf, ok := err.(refused); ok {
			h.showNew(w, r, cur, http.StatusBadRequest, string(rf), f)
			return
		}
		h.fail(w, err)
		return
	}
	if !c.Empty() {
		in.Content = c
	}
	t, err := h.engineFor(cur).Create(r.Context(), cur.User.ID, in)
	if err != nil {
		if msg, ok := said(err); ok {
			h.showNew(w, r, cur, http.StatusBadRequest, msg, f)
			return
		}
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}
