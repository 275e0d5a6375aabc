package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type dupInner struct {
	Name string `json:"name"`
}

type dupEmbedded struct {
	Extra string `json:"extra"`
}

type dupTarget struct {
	Subject string            `json:"subject"`
	Labels  map[string]string `json:"labels"`
	Inner   *dupInner         `json:"inner"`
	Items   []struct {
		ID int `json:"id"`
	} `json:"items"`
	Raw  json.RawMessage `json:"raw"`
	When time.Time       `json:"when"`
	Any  any             `json:"any"`
	Skip string          `json:"-"`
	Case struct {
		A int `json:"a"`
		B int `json:"A"`
	} `json:"case"`
	dupEmbedded
}

func TestFindDuplicateKey(t *testing.T) {
	typed := &dupTarget{}
	for _, c := range []struct {
		data string
		v    any
		want string // "" for none, else path|first|key
	}{
		{`{"subject":"a","subject":"b"}`, nil, "|subject|subject"},
		{`{"subject":"a","subject":"b"}`, typed, "|subject|subject"},
		{`{"subject":"a","Subject":"b"}`, nil, ""},
		{`{"subject":"a","Subject":"b"}`, typed, "|subject|Subject"},
		{`{"SUBJECT":"a","subjecT":"b"}`, typed, "|SUBJECT|subjecT"},
		{`{"labels":{"env":"a","Env":"b"}}`, typed, ""},
		{`{"labels":{"env":"a","env":"b"}}`, typed, "labels|env|env"},
		{`{"items":[{"id":1},{"id":2,"ID":3}]}`, typed, "items[1]|id|ID"},
		{`{"items":[{"id":1},{"id":2,"ID":3}]}`, nil, ""},
		{`{"inner":{"name":"x","NAME":"y"}}`, typed, "inner|name|NAME"},
		{`{"raw":{"a":1,"A":2}}`, typed, ""},
		{`{"raw":{"a":1,"a":2}}`, typed, "raw|a|a"},
		{`{"when":"2024-05-01T10:00:00Z","any":{"x":{"y":1,"y":2}}}`, typed, "any.x|y|y"},
		{`{"extra":"1","EXTRA":"2"}`, typed, "|extra|EXTRA"},
		{`{"a\u0062":1,"ab":2}`, nil, "|ab|ab"},
		{`{"nope":1,"Nope":2}`, typed, ""},
		{`{"nope":1,"nope":2}`, typed, "|nope|nope"},
		{`{"case":{"a":1,"A":2}}`, typed, ""},
		{`{"Skip":1,"skip":2}`, typed, ""},
		{`[{"k":1},{"k":2},{"k":3,"j":{"k":1,"k":2}}]`, nil, "[2].j|k|k"},
		{`{"subject":"a"}`, typed, ""},
		{`"x"`, nil, ""}, {`[]`, nil, ""}, {`null`, typed, ""}, {`{}`, typed, ""},
	} {
		got := ""
		if d := FindDuplicateKey([]byte(c.data), c.v); d != nil {
			got = d.Path + "|" + d.First + "|" + d.Key
		}
		if got != c.want {
			t.Errorf("%s (typed %v): got %q, want %q", c.data, c.v != nil, got, c.want)
		}
	}
	d := FindDuplicateKey([]byte(`{"a":{"b":1,"B":2}}`), &struct {
		A struct{ B int } `json:"a"`
	}{})
	if d == nil || d.Error() != `keys "b" and "B" in a name the same field` {
		t.Fatalf("message: %v", d)
	}
	if d := FindDuplicateKey([]byte(`{"x":1,"x":2}`), nil); d.Error() != `key "x" appears twice` {
		t.Fatalf("message: %v", d)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	if d := FindDuplicateKey([]byte(deep), nil); d != nil {
		t.Fatalf("deep: %v", d)
	}
}

// FuzzFindDuplicateKey: on any input the walk does not panic, a duplicate
// it reports is one (the same key, or in a struct the same field), typing
// only ever finds more, and a duplicate found inside a value is found
// again, at the right place, once the value is nested in another.
func FuzzFindDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"subject":"a","Subject":"b"}`, `{"labels":{"a":1,"a":2}}`, `[{"items":[{"id":1,"Id":2}]}]`,
		`{"inner":{"name":1}}`, `{"a":`, `{"x":[1,2,{"y":{}}]}`, `"s"`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		plain := FindDuplicateKey(data, nil)
		typed := FindDuplicateKey(data, &dupTarget{})
		if !json.Valid(data) || len(data) > 9000 { // nested below, it must stay within the depth limit
			return
		}
		if plain != nil && typed == nil {
			t.Fatalf("%q: untyped found %v, typed nothing", data, plain)
		}
		for _, d := range []*DuplicateKey{plain, typed} {
			if d != nil && !strings.EqualFold(d.First, d.Key) {
				t.Fatalf("%q: %v are not the same key", data, d)
			}
		}
		if plain != nil && plain.First != plain.Key {
			t.Fatalf("%q: untyped keys differ: %v", data, plain)
		}
		nested := FindDuplicateKey([]byte(`{"n":[`+string(data)+`]}`), nil)
		switch {
		case plain == nil && nested != nil:
			t.Fatalf("%q: nested finds %v", data, nested)
		case plain != nil && (nested == nil || nested.Key != plain.Key || !strings.HasPrefix(nested.Path, "n[0]")):
			t.Fatalf("%q: found %v, nested %v", data, plain, nested)
		}
		if plain == nil {
			if d := FindDuplicateKey([]byte(`{"k":`+string(data)+`,"k":1}`), nil); d == nil || d.Key != "k" || d.Path != "" {
				t.Fatalf("%q: a repeated key around it: %v", data, d)
			}
		}
	})
}
