package core

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseFieldValue(t *testing.T) {
	sel := &Field{Name: "product", Type: FieldSelect, Values: []string{"VPN", "DSL"}}
	cases := []struct {
		f         *Field
		in, want  string
		wantError string
	}{
		{&Field{Name: "size", Type: FieldNumber}, " 10.50 ", "10.5", ""},
		{&Field{Name: "size", Type: FieldNumber}, "-0", "0", ""},
		{&Field{Name: "size", Type: FieldNumber}, "1e3", "1000", ""},
		{&Field{Name: "size", Type: FieldNumber}, "ten", "", `size is a number, not "ten"`},
		{&Field{Name: "size", Type: FieldNumber}, "NaN", "", "is a number"},
		{&Field{Name: "size", Type: FieldNumber}, "1e999", "", "is a number"},
		{&Field{Name: "since", Type: FieldDate}, "2025-06-01", "2025-06-01", ""},
		{&Field{Name: "since", Type: FieldDate}, "2025-06-01T12:00:00+02:00", "2025-06-01T10:00:00Z", ""},
		{&Field{Name: "since", Type: FieldDate}, "2025-13-01", "", "is a date"},
		{sel, "vpn", "VPN", ""},
		{sel, "ISDN", "", `"ISDN" is not a value of product; it can be: VPN, DSL`},
		{&Field{Name: "who", Type: FieldUser}, "17", "17", ""},
		{&Field{Name: "who", Type: FieldUser}, "bob", "", "names a user"},
		{&Field{Name: "note", Type: FieldText}, "", "", "needs a value"},
		{&Field{Name: "note", Type: FieldText}, "a\x00b", "", "one line of text"},
		{&Field{Name: "note", Type: FieldText}, strings.Repeat("x", MaxFieldValueBytes+1), "", "at most"},
	}
	for _, c := range cases {
		v, err := ParseFieldValue(c.f, c.in)
		switch {
		case c.wantError != "" && (err == nil || !strings.Contains(err.Error(), c.wantError) || !IsCode(err, CodeInvalid)):
			t.Errorf("%s %q: %v, want an invalid error mentioning %q", c.f.Name, c.in, err, c.wantError)
		case c.wantError == "" && (err != nil || v.Value != c.want):
			t.Errorf("%s %q: %q, %v; want %q", c.f.Name, c.in, v.Value, err, c.want)
		}
	}
}

// FuzzParseFieldValue: whatever is typed, a value accepted is valid,
// bounded text, parses again to itself (it is canonical), and a number or
// date carries its typed form.
func FuzzParseFieldValue(f *testing.F) {
	for _, s := range []string{"10", "-2.5", "1e3", "2025-06-01", "2025-06-01T10:00:00+02:00", "VPN", "vpn", "", "x\x00", "0x10", "Inf"} {
		f.Add(s, 0)
		f.Add(s, 1)
		f.Add(s, 2)
	}
	fields := []*Field{
		{Name: "size", Type: FieldNumber}, {Name: "since", Type: FieldDate},
		{Name: "product", Type: FieldMulti, Values: []string{"VPN", "DSL"}}, {Name: "note", Type: FieldText},
		{Name: "who", Type: FieldUser},
	}
	f.Fuzz(func(t *testing.T, in string, which int) {
		fl := fields[(which%len(fields)+len(fields))%len(fields)]
		v, err := ParseFieldValue(fl, in)
		if err != nil {
			if !IsCode(err, CodeInvalid) {
				t.Fatalf("%q: error %v is not invalid", in, err)
			}
			return
		}
		if v.Value == "" || len(v.Value) > MaxFieldValueBytes || !utf8.ValidString(v.Value) {
			t.Fatalf("%q: accepted as %q", in, v.Value)
		}
		again, err := ParseFieldValue(fl, v.Value)
		if err != nil || again.Value != v.Value {
			t.Fatalf("%q: canonical %q parses as %q, %v", in, v.Value, again.Value, err)
		}
		if (fl.Type == FieldNumber) != (v.Number != nil) || (fl.Type == FieldDate) == v.Date.IsZero() {
			t.Fatalf("%q: typed form %v %v", in, v.Number, v.Date)
		}
	})
}
