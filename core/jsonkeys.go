package core

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// DuplicateKey is a key that occurs twice in one JSON object. encoding/json
// keeps the last value without a word, so that a request could say one
// thing to a reader (or a proxy that checks the first) and another to us.
type DuplicateKey struct {
	Path  string // where the object is, such as alerts[0].labels; "" for the top
	Key   string // the second occurrence
	First string // the first: Key itself, or a spelling that differs in case only
}

func (d *DuplicateKey) Error() string {
	where := ""
	if d.Path != "" {
		where = " in " + d.Path
	}
	if d.First == d.Key {
		return fmt.Sprintf("key %q appears twice%s", d.Key, where)
	}
	return fmt.Sprintf("keys %q and %q%s name the same field", d.First, d.Key, where)
}

// FindDuplicateKey walks the JSON text data, at any depth, and returns the
// first key that occurs twice in one object; nil when there is none, or when
// data is not valid JSON (decoding it says what is wrong then). Keys are
// compared exactly, as JSON does; where v (what data is about to be decoded
// into; nil: nothing typed) decodes an object into a struct, two keys are
// also the same when encoding/json matches them to the same field, which it
// does without regard to case.
func FindDuplicateKey(data []byte, v any) *DuplicateKey {
	var t reflect.Type
	if v != nil {
		t = reflect.TypeOf(v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d, _ := walkKeys(dec, t, "", 0)
	return d
}

// maxKeyDepth bounds the walk as encoding/json bounds its own nesting.
const maxKeyDepth = 10000

// walkKeys reads one value from dec. t is the Go type it decodes into (nil:
// untyped, keys compared exactly); path names it for the answer.
func walkKeys(dec *json.Decoder, t reflect.Type, path string, depth int) (*DuplicateKey, error) {
	if depth > maxKeyDepth {
		return nil, fmt.Errorf("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil, nil
	}
	t = structural(t)
	switch delim {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if d, err := walkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i), depth+1); d != nil || err != nil {
				return d, err
			}
		}
	case '{':
		var fields []jsonField
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = structFields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]string{} // the field (or the exact key) -> the key that set it first
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			id, sub := "key "+key, elem
			if f := matchField(fields, key); f != nil {
				id, sub = "field "+f.name, f.typ
			}
			if first, dup := seen[id]; dup {
				return &DuplicateKey{Path: path, Key: key, First: first}, nil
			}
			seen[id] = key
			subPath := key
			if path != "" {
				subPath = path + "." + key
			}
			if d, err := walkKeys(dec, sub, subPath, depth+1); d != nil || err != nil {
				return d, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return nil, err
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// structural is the type whose shape decides how an object's keys match: t
// without pointers, or nil for what decodes itself (time.Time,
// json.RawMessage) and for interfaces, whose insides are untyped.
func structural(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Interface:
			return nil
		default:
			return t
		}
	}
	return nil
}

// jsonField is a field encoding/json decodes an object key into.
type jsonField struct {
	name string
	typ  reflect.Type
}

var fieldCache sync.Map // reflect.Type -> []jsonField

// structFields lists the fields of a struct as encoding/json names them,
// those of embedded structs included; a shallower field hides a deeper one
// of the same name.
func structFields(t reflect.Type) []jsonField {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]jsonField)
	}
	var out []jsonField
	taken := map[string]bool{}
	level := []reflect.Type{t}
	for depth := 0; len(level) > 0 && depth < 10; depth++ {
		var next []reflect.Type
		names := map[string]bool{}
		for _, st := range level {
			for i := range st.NumField() {
				f := st.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				ft := f.Type
				if f.Anonymous && name == "" {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, ft)
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if !taken[name] {
					out = append(out, jsonField{name: name, typ: f.Type})
					names[name] = true
				}
			}
		}
		for n := range names {
			taken[n] = true
		}
		level = next
	}
	fieldCache.Store(t, out)
	return out
}

// matchField finds the field a key decodes into, as encoding/json does: the
// field of that exact name, else one whose name differs in case only.
func matchField(fields []jsonField, key string) *jsonField {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}
