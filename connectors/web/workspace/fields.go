package workspace

// Custom fields on the ticket page and the new ticket form (core/fields.go):
// each field with its values as the viewer may see them, and an input
// suited to its type. The engine checks every value; the page only offers.

import (
	"context"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// fieldView is a custom field as a page shows it, with its input.
type fieldView struct {
	Name, Description string
	Type              core.FieldType
	Values            []string // as people read them
	// Input is the kind of input (field-input.html): text, number, date,
	// select, checks (a multi field's short list), multiple (a long one)
	// or user.
	Input   string
	Value   string   // the text, number, date or user input's value
	Options []option // select, checks, multiple
	Form    bool     // the viewer may set it here (ticket page)
	Where   string   // the queues it is used in, on the new ticket form
	Key     string   // the form's name for it: "value", or "cf.<name>" on the new ticket form
}

type option struct {
	Value    string
	Selected bool
}

// shortList is how many values a multi field may list before its
// checkboxes become a multiple select.
const shortList = 12

// fieldInput fills in fv's input from f and the values vs.
func fieldInput(fv *fieldView, f *core.Field, vs []string) {
	fv.Input = string(f.Type)
	switch f.Type {
	case core.FieldSelect, core.FieldMulti:
		for _, v := range f.Values {
			fv.Options = append(fv.Options, option{v, slices.ContainsFunc(vs, func(x string) bool { return strings.EqualFold(x, v) })})
		}
		if f.Type == core.FieldMulti {
			fv.Input = "checks"
			if len(f.Values) > shortList {
				fv.Input = "multiple"
			}
		}
	case core.FieldDate:
		fv.Value = strings.Join(vs, "")
		if len(fv.Value) > len("2006-01-02") { // a time: the date input cannot show it
			fv.Input = "text"
		}
	default:
		fv.Value = strings.Join(vs, ", ")
	}
}

// ticketFields are the fields of a ticket the viewer may see; with
// modify, those that apply to its queue get a form.
func ticketFields(info *engine.TicketInfo, modify bool) []fieldView {
	var out []fieldView
	for _, sh := range info.Fields {
		f := sh.Field
		fv := fieldView{Name: f.Name, Description: f.Description, Type: f.Type, Values: sh.Values, Key: "value",
			Form: modify && f.Applies(info.Queue.ID)}
		fieldInput(&fv, f, sh.Values)
		out = append(out, fv)
	}
	return out
}

// newFields are the fields a person may set on a new ticket, with what
// was typed (posted; nil at first), each with the queues it is used in.
func newFields(fs []*core.Field, qs []*core.Queue, posted map[string][]string) []fieldView {
	names := map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	var out []fieldView
	for _, f := range fs {
		if f.Disabled {
			continue
		}
		var where []string
		for _, id := range f.QueueIDs {
			if n, ok := names[id]; ok {
				where = append(where, n)
			}
		}
		if len(f.QueueIDs) > 0 && len(where) == 0 {
			continue // used in no queue this person may open tickets in
		}
		fv := fieldView{Name: f.Name, Description: f.Description, Type: f.Type, Key: "cf." + f.Name, Form: true,
			Where: strings.Join(where, ", ")}
		fieldInput(&fv, f, posted[f.Name])
		out = append(out, fv)
	}
	return out
}

// postedFields reads the new ticket form's fields: "cf.<name>" inputs,
// empty ones left out (a field of another queue is not set).
func postedFields(form map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, vs := range form {
		name, ok := strings.CutPrefix(k, "cf.")
		if !ok {
			continue
		}
		var given []string
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				given = append(given, v)
			}
		}
		if len(given) > 0 {
			out[name] = given
		}
	}
	return out
}

const maxUserNames = 500

// userNames are the names a user field's input offers: every user for
// those who may list them, else the viewer and the people of the ticket
// (info; nil on the new ticket form).
func (h *Handler) userNames(ctx context.Context, cur *account.Current, info *engine.TicketInfo) []string {
	var out []string
	if us, err := h.eng.Admin().Users(ctx, cur.User.ID); err == nil {
		for _, u := range us {
			if len(out) == maxUserNames {
				break // a datalist of thousands helps nobody; the engine resolves any name
			}
			if !u.Disabled && u.ID != core.NobodyID && u.ID != core.RootID {
				out = append(out, u.Name)
			}
		}
		return out
	}
	out = append(out, cur.User.Name)
	if info == nil {
		return out
	}
	if info.Ticket.OwnerID != core.NobodyID {
		out = append(out, h.ownerName(ctx, info.Ticket.OwnerID))
	}
	for _, w := range info.Watchers {
		out = append(out, h.ownerName(ctx, w.UserID))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
