package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// field create|update NAME ...: custom fields, offline, as root.
func (a *admin) field(verb string, args []string) error {
	if verb == "list" {
		fs, err := a.eng.Fields(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			where := "every queue"
			if len(f.QueueIDs) > 0 {
				var names []string
				for _, q := range qs {
					for _, id := range f.QueueIDs {
						if q.ID == id {
							names = append(names, q.Name)
						}
					}
				}
				where = "queues " + strings.Join(names, ", ")
			}
			line := fmt.Sprintf("%s (%s) in %s", f.Name, f.Type, where)
			if len(f.Values) > 0 {
				line += ": " + strings.Join(f.Values, ", ")
			}
			if len(f.RequiredFor) > 0 {
				line += "; required before " + strings.Join(f.RequiredFor, ", ")
			}
			if f.Requesters {
				line += "; requesters see it"
			}
			if f.Disabled {
				line += "; disabled"
			}
			fmt.Fprintln(a.out, line)
		}
		return nil
	}
	fl := flag.NewFlagSet("field", flag.ContinueOnError)
	typ := fl.String("type", "", "")
	desc := fl.String("description", "", "")
	values := fl.String("values", "", "")
	required := fl.String("required-for", "", "")
	queues := fl.String("queues", "", "")
	requesters := fl.Bool("requesters", false, "")
	disabled := fl.Bool("disabled", false, "")
	pos, set, err := parseArgs(fl, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "field "+verb+" NAME [flags]"); err != nil {
		return err
	}
	list := func(s string) *[]string {
		var out []string
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return &out
	}
	in := engine.FieldInput{Name: pos[0], Type: *typ}
	if set["description"] {
		in.Description = desc
	}
	if set["values"] {
		in.Values = list(*values)
	}
	if set["required-for"] {
		in.RequiredFor = list(*required)
	}
	if set["queues"] {
		in.Queues = list(*queues)
	}
	if set["requesters"] {
		in.Requesters = requesters
	}
	if set["disabled"] {
		in.Disabled = disabled
	}
	var f *core.Field
	switch verb {
	case "create":
		f, err = a.eng.Admin().CreateField(a.ctx, core.RootID, in)
	case "update":
		f, err = a.eng.Admin().UpdateField(a.ctx, core.RootID, in)
	default:
		return usageError("usage: ticketd admin field create|update|list")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "field %s (%s) %sd\n", f.Name, f.Type, verb)
	return nil
}
