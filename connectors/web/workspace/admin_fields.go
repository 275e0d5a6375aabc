package workspace

// The custom fields admin page (core/fields.go): the list with a form to
// define a field, and each field's form to change it. The engine needs
// AdminQueue globally for both; a field is never deleted, only disabled.

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

func (h *Handler) mountAdminFields(mux *http.ServeMux) {
	h.pages["admin-fields"] = parsePage("admin-fields")
	mux.HandleFunc("GET /admin/fields", h.adminFields)
	mux.HandleFunc("POST /admin/fields", signin.SameSite(h.adminCreateField))
	mux.HandleFunc("GET /admin/fields/{name}", h.adminField)
	mux.HandleFunc("POST /admin/fields/{name}", signin.SameSite(h.adminSaveField))
}

var fieldNotices = map[string]string{"field-created": "The field is created.", "field-saved": "The field is saved."}

// fieldForm is a field's definition as the forms show and post it.
type fieldForm struct {
	Name, Type, Description string
	Values                  string // one a line
	Required                string // statuses, separated by commas or spaces
	Queues                  []string
	Requesters, Disabled    bool
}

func fieldFormOf(f *core.Field, names map[int64]string) fieldForm {
	ff := fieldForm{Name: f.Name, Type: string(f.Type), Description: f.Description, Values: strings.Join(f.Values, "\n"),
		Required: strings.Join(f.RequiredFor, ", "), Requesters: f.Requesters, Disabled: f.Disabled}
	for _, id := range f.QueueIDs {
		ff.Queues = append(ff.Queues, names[id])
	}
	return ff
}

func fieldFormFrom(r *http.Request) fieldForm {
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	ff := fieldForm{Name: f("name"), Type: f("type"), Description: f("description"), Values: f("values"), Required: f("required"),
		Requesters: f("requesters") != "", Disabled: f("disabled") != ""}
	for _, q := range r.PostForm["queues"] {
		if q = strings.TrimSpace(q); q != "" {
			ff.Queues = append(ff.Queues, q)
		}
	}
	return ff
}

// input is what the form says to set, all of it.
func (ff fieldForm) input() engine.FieldInput {
	var values []string
	for _, v := range strings.Split(ff.Values, "\n") {
		if v = strings.TrimSpace(v); v != "" {
			values = append(values, v)
		}
	}
	required := strings.FieldsFunc(ff.Required, func(r rune) bool { return r == ',' || r == ' ' })
	queues := slices.Clone(ff.Queues)
	if queues == nil {
		queues = []string{}
	}
	return engine.FieldInput{Name: ff.Name, Description: &ff.Description, Values: &values, RequiredFor: &required,
		Queues: &queues, Requesters: &ff.Requesters, Disabled: &ff.Disabled}
}

type fieldRow struct {
	fieldForm
	Path, Where, List string
}

type queueCheck struct {
	Name    string
	Checked bool
}

// fieldsData is the list page, or with Edit set one field's page.
type fieldsData struct {
	Rows   []fieldRow
	Types  []core.FieldType
	New    fieldForm
	Queues []queueCheck // for New, or Edit
	Edit   *fieldForm
	Path   string
}

func (h *Handler) adminFields(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showFields(w, r, cur, http.StatusOK, "", fieldForm{}, "")
}

func (h *Handler) adminField(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showFields(w, r, cur, http.StatusOK, "", fieldForm{}, r.PathValue("name"))
}

// showFields shows the list (edit empty) or the page of the field named
// edit; form, when it has a name, is what a refused form posted.
func (h *Handler) showFields(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg string, form fieldForm, edit string) {
	ctx, me := r.Context(), cur.User.ID
	fs, err := h.eng.Fields(ctx, me)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	qs, err := h.eng.Admin().Queues(ctx, me)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	names := map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	d := &fieldsData{Types: core.FieldTypes, New: form}
	for _, f := range fs {
		row := fieldRow{fieldForm: fieldFormOf(f, names), Path: pathTo("/admin/fields", f.Name)}
		row.Where, row.List = strings.Join(row.Queues, ", "), strings.Join(f.Values, ", ")
		d.Rows = append(d.Rows, row)
		if edit != "" && strings.EqualFold(f.Name, edit) {
			ff := row.fieldForm
			if form.Name != "" {
				ff = form
				ff.Name, ff.Type = f.Name, string(f.Type)
			}
			d.Edit, d.Path = &ff, row.Path
		}
	}
	title, chosen := "Custom fields", form.Queues
	if edit != "" {
		if d.Edit == nil {
			p := h.adminBase(cur, "Not found")
			p.Error = "There is no field named " + edit + "."
			h.renderAdmin(w, http.StatusNotFound, "admin-denied", p)
			return
		}
		title, chosen = "Field "+d.Edit.Name, d.Edit.Queues
	}
	for _, q := range qs {
		d.Queues = append(d.Queues, queueCheck{q.Name, slices.ContainsFunc(chosen, func(x string) bool { return strings.EqualFold(x, q.Name) })})
	}
	p := h.adminBase(cur, title)
	p.Error, p.Notice, p.Data = errMsg, fieldNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-fields", p)
}

func (h *Handler) adminCreateField(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := fieldFormFrom(r)
	in := form.input()
	in.Type, in.Disabled = form.Type, nil
	f, err := h.engineFor(cur).Admin().CreateField(r.Context(), cur.User.ID, in)
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showFields(w, r, cur, status, msg, form, "") })
		return
	}
	adminDone(w, r, pathTo("/admin/fields", f.Name), "field-created")
}

func (h *Handler) adminSaveField(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := fieldFormFrom(r)
	form.Name = r.PathValue("name")
	f, err := h.engineFor(cur).Admin().UpdateField(r.Context(), cur.User.ID, form.input())
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showFields(w, r, cur, status, msg, form, form.Name) })
		return
	}
	adminDone(w, r, pathTo("/admin/fields", f.Name), "field-saved")
}
