package search

import (
	"strings"

	"github.com/ticketd/ticketd/core"
)

// FieldTerm is a condition on a custom field, as typed: cf.product:VPN,
// cf.product:VPN,DSL (any of), cf.size>10, cf.since<7d. The engine
// resolves the name and checks the values against the field's type.
type FieldTerm struct {
	Name   string
	Op     string // ":", ">", "<", ">=", "<="
	Values []string
}

// fieldPrefix starts a term on a custom field.
const fieldPrefix = "cf."

// fieldTerm reads a term on a custom field; ok is false when t is not one.
func fieldTerm(t string) (ft FieldTerm, ok bool, err error) {
	if len(t) < len(fieldPrefix) || !strings.EqualFold(t[:len(fieldPrefix)], fieldPrefix) {
		return ft, false, nil
	}
	rest := t[len(fieldPrefix):]
	i := strings.IndexAny(rest, ":<>=")
	if i <= 0 {
		return ft, true, core.Errorf(core.CodeInvalid, "%s: a term on a custom field reads cf.product:VPN or cf.size>10", t)
	}
	ft.Name = rest[:i]
	for _, o := range []string{">=", "<=", ":", ">", "<", "="} {
		if strings.HasPrefix(rest[i:], o) {
			ft.Op = o
			break
		}
	}
	if ft.Op == "=" {
		ft.Op = ":"
	}
	val := rest[i+len(ft.Op):]
	if ft.Op == ":" {
		for _, v := range strings.Split(val, ",") {
			if v = strings.TrimSpace(v); v != "" {
				ft.Values = append(ft.Values, v)
			}
		}
	} else if v := strings.TrimSpace(val); v != "" {
		ft.Values = []string{v}
	}
	if len(ft.Values) == 0 {
		return ft, true, core.Errorf(core.CodeInvalid, "cf.%s%s needs a value, e.g. cf.product:VPN or cf.size>10", ft.Name, ft.Op)
	}
	return ft, true, nil
}
