package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Field is a custom field's definition.
type Field struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Values      []string  `json:"values"`
	RequiredFor []string  `json:"required_for"`
	Queues      []string  `json:"queues"`
	Requesters  bool      `json:"requesters"`
	Disabled    bool      `json:"disabled"`
	Created     time.Time `json:"created"`
}

// FieldRequest defines (POST, name and type required) or changes (PATCH,
// name from the path; absent fields unchanged) a custom field.
type FieldRequest struct {
	Name        string    `json:"name,omitempty"`
	Type        string    `json:"type,omitempty"`
	Description *string   `json:"description,omitempty"`
	Values      *[]string `json:"values,omitempty"`
	RequiredFor *[]string `json:"required_for,omitempty"`
	Queues      *[]string `json:"queues,omitempty"`
	Requesters  *bool     `json:"requesters,omitempty"`
	Disabled    *bool     `json:"disabled,omitempty"`
}

// FieldValues is the value of a custom field in a request: a string, or an
// array of strings for a multi field; "" or [] clears the field.
type FieldValues []string

func (v *FieldValues) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		var vs []string
		if err := json.Unmarshal(b, &vs); err != nil {
			return invalid("a field's values are a string or an array of strings")
		}
		*v = vs
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return invalid("a field's value is a string or an array of strings")
	}
	*v = FieldValues{s}
	return nil
}

func fieldChanges(m map[string]FieldValues) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ticketFields is the fields member of a ticket: the fields set, a multi
// field's values as an array, any other's as a string.
func ticketFields(info *engine.TicketInfo) map[string]any {
	out := map[string]any{}
	for _, f := range info.Fields {
		switch {
		case len(f.Values) == 0:
		case f.Field.Type == core.FieldMulti:
			out[f.Field.Name] = f.Values
		default:
			out[f.Field.Name] = f.Values[0]
		}
	}
	return out
}

func (a *API) fieldJSON(c *call, f *core.Field) Field {
	v := Field{ID: f.ID, Name: f.Name, Type: string(f.Type), Description: f.Description, Values: f.Values,
		RequiredFor: f.RequiredFor, Queues: []string{}, Requesters: f.Requesters, Disabled: f.Disabled, Created: f.Created.UTC()}
	if v.Values == nil {
		v.Values = []string{}
	}
	if v.RequiredFor == nil {
		v.RequiredFor = []string{}
	}
	var qs []*core.Queue
	if len(f.QueueIDs) > 0 {
		qs, _ = c.eng.Admin().Queues(c.ctx, c.actor())
	}
	for _, id := range f.QueueIDs {
		name := strconv.FormatInt(id, 10)
		for _, q := range qs {
			if q.ID == id {
				name = q.Name
			}
		}
		v.Queues = append(v.Queues, name)
	}
	return v
}

func (a *API) listFields(c *call) error {
	fs, err := c.eng.Fields(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]Field, 0, len(fs))
	for _, f := range fs {
		out = append(out, a.fieldJSON(c, f))
	}
	return c.reply(http.StatusOK, out)
}

func fieldInput(name string, req FieldRequest) engine.FieldInput {
	return engine.FieldInput{Name: name, Type: req.Type, Description: req.Description, Values: req.Values,
		RequiredFor: req.RequiredFor, Queues: req.Queues, Requesters: req.Requesters, Disabled: req.Disabled}
}

func (a *API) createField(c *call) error {
	var req FieldRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	f, err := c.eng.Admin().CreateField(c.ctx, c.actor(), fieldInput(req.Name, req))
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, a.fieldJSON(c, f))
}

func (a *API) patchField(c *call) error {
	var req FieldRequest
	if err := a.decode(c, &req, body{patch: true}); err != nil {
		return err
	}
	name := c.r.PathValue("name")
	if req.Name != "" && !strings.EqualFold(req.Name, name) {
		return invalid("field name cannot rename a field; leave it out")
	}
	f, err := c.eng.Admin().UpdateField(c.ctx, c.actor(), fieldInput(name, req))
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, a.fieldJSON(c, f))
}
