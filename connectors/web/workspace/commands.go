package workspace

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

// The command box of the ticket page: lines in the grammar staff put at
// the top of a mail (/resolve, /give bob, /priority 40; bot.Parse), about
// the page's ticket when a line names none. They run as the mail's lines
// do (connectors/email CommandRunner): each line through the bot, its own
// engine call as the signed-in person with their rights, in order. A line
// that fails changes nothing and says why; the lines before it stay done
// and the lines after it still run.

// commandBox is what the box shows after a post: each line's result, and
// the lines to correct.
type commandBox struct {
	Ran  []ran
	Text string
}

// ran is one line of the command box and what came of it.
type ran struct {
	Line, Text string
	Failed     bool
}

// commands runs the command box's lines on ticket id. When every line ran
// it sends the browser back to the ticket page; otherwise it shows the page
// with each line's result, the failed lines kept in the box to correct.
func (h *Handler) commands(w http.ResponseWriter, r *http.Request, cur *account.Current, id int64) {
	if !cur.User.Privileged {
		h.showTicket(w, r, cur, http.StatusForbidden, "Commands are for staff: use the forms of this page.", "")
		return
	}
	var lines []string
	for _, l := range strings.Split(r.PostForm.Get("commands"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	switch {
	case len(lines) == 0:
		h.showTicket(w, r, cur, http.StatusBadRequest, "Type a command, such as /resolve, /give bob or /priority 40.", "")
		return
	case len(lines) > core.MaxMailCommands:
		h.showTicketBox(w, r, cur, http.StatusBadRequest, "Run at most "+strconv.Itoa(core.MaxMailCommands)+
			" command lines at a time; nothing was run.", "", &commandBox{Text: strings.Join(lines, "\n")})
		return
	}
	// A bot of the request's own, over the engine as this person on the web
	// (the history says "via web"); it reads the queue names once.
	b := bot.New(h.engineFor(cur), bot.Config{Logger: h.log})
	a := bot.Actor{Chat: core.ChatUser{Platform: "web", ID: strconv.FormatInt(cur.User.ID, 10), Name: cur.User.Name},
		UserID: cur.User.ID, Name: cur.User.Name, Linked: true}
	box, status, failed := &commandBox{}, http.StatusOK, []string{}
	for _, l := range lines {
		res := b.RunFor(r.Context(), a, id, l)
		box.Ran = append(box.Ran, ran{Line: l, Text: strings.TrimSpace(res.Text), Failed: res.Failed})
		if res.Failed {
			status, failed = http.StatusBadRequest, append(failed, l)
		}
	}
	if len(failed) == 0 {
		// Every line ran: to the ticket page, so that a reload runs nothing again.
		http.Redirect(w, r, "/tickets/"+strconv.FormatInt(id, 10)+"?done=commands", http.StatusSeeOther)
		return
	}
	box.Text = strings.Join(failed, "\n")
	msg := strconv.Itoa(len(failed)) + " of " + strconv.Itoa(len(lines)) + " command lines failed and changed nothing; they are kept in the box."
	h.showTicketBox(w, r, cur, status, msg, "", box)
}
