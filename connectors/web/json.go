package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Our own types always encode; say something rather than nothing.
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"response could not be encoded"}}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *call) reply(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// body says how a route reads its request body.
type body struct {
	optional bool     // an empty body decodes as {}
	upload   bool     // may carry attachments: the larger limit applies
	patch    bool     // null is refused except for the nullable fields
	nullable []string // fields of a patch that null clears
}

// decode reads the request body as one JSON object into v: size-limited
// (413), JSON only (415), unknown and repeated fields refused (400), nothing
// after the object. Nothing has been done when it fails.
func (a *API) decode(c *call, v any, how body) error {
	limit := a.opts.MaxBodyBytes
	if how.upload {
		limit = a.opts.MaxUploadBytes
	}
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, code: CodeTooLarge,
		msg: fmt.Sprintf("request body is larger than the %d byte limit", limit)}
	if c.r.ContentLength > limit {
		return tooLarge
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		if err := checkJSONType(ct); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.w.ResponseWriter, c.r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return invalid("request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if how.optional {
			return nil
		}
		return invalid("request body is empty: send a JSON object")
	}
	if c.r.Header.Get("Content-Type") == "" {
		return checkJSONType("")
	}
	// encoding/json would keep the last of a key given twice, in any case.
	if d := core.FindDuplicateKey(data, v); d != nil {
		return invalid("request body is refused: %v; send each field once", d)
	}
	if how.patch {
		if err := rejectNulls(data, how.nullable...); err != nil {
			return err
		}
	}
	return decodeJSON(data, v)
}

func checkJSONType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType,
			msg: fmt.Sprintf("request body must be JSON (Content-Type: application/json), not %q", ct)}
	}
	return nil
}

// decodeJSON decodes one JSON object, refusing unknown fields and trailing
// data, and explains what is wrong in terms of the request's fields.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("request body has more after the JSON object: send exactly one object")
	}
	if field := nulField(reflect.ValueOf(v), ""); field != "" {
		return invalid("field %s contains a NUL character", field)
	}
	return nil
}

// nulField names the first string in v that contains a NUL character. No
// text the API takes may carry one; the engine would pass some of them (user
// and queue references) on to the database, which refuses them.
func nulField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), path)
		}
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return path
		}
	case reflect.Slice:
		for i := range v.Len() {
			if f := nulField(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); f != "" {
				return f
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" {
				name = sf.Name
			}
			if path != "" {
				name = path + "." + name
			}
			if f := nulField(v.Field(i), name); f != "" {
				return f
			}
		}
	}
	return ""
}

// checkURL refuses paths and query parameters that are not valid UTF-8 text
// or that contain NUL: they name users, queues and groups, which the
// database could not look up.
func checkURL(r *http.Request) error {
	bad := func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
	if bad(r.URL.Path) {
		return invalid("the path is not valid UTF-8 text or contains a NUL character")
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if bad(k) || bad(v) {
				return invalid("parameter %q is not valid UTF-8 text or contains a NUL character", strings.ToValidUTF8(k, "?"))
			}
		}
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return invalid("request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("request body is not valid JSON: it ends too early")
	case errors.As(err, &te):
		if te.Field == "" {
			return invalid("request body must be a JSON object, not %s", te.Value)
		}
		return invalid("field %s must be %s, not %s", te.Field, jsonKind(te.Type.String()), te.Value)
	case errors.As(err, &pe):
		return invalid("a time must be written as RFC 3339, such as 2024-05-01T10:00:00Z: %q is not", pe.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return invalid("unknown field %s; the API is described at /api/v1/openapi.json", f)
	}
	return invalid("request body does not fit the expected fields: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "time.Time" || goType == "web.PatchTime":
		return "an RFC 3339 time"
	}
	return "an object"
}

// rejectNulls refuses null for the fields of a JSON object that are not
// nullable: in a patch, null would otherwise silently mean "leave it".
func rejectNulls(data []byte, nullable ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil // decodeJSON explains
	}
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "null" && !slices.Contains(nullable, k) {
			return invalid("field %s cannot be null; leave it out to keep its value", k)
		}
	}
	return nil
}

// ---- ETags ----

func etag(id, version int64) string { return fmt.Sprintf(`"%d-%d"`, id, version) }

// entityTag is one parsed tag of If-Match.
type entityTag struct {
	id, version int64
}

// parseIfMatch reads an If-Match header: any is true for "*"; tags that are
// weak or not ours never match and are left out (so a list of only those
// fails the precondition).
func parseIfMatch(h string) (tags []entityTag, star bool) {
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "*" {
			return nil, true
		}
		s, ok := strings.CutPrefix(part, `"`)
		if !ok {
			continue
		}
		s, ok = strings.CutSuffix(s, `"`)
		if !ok {
			continue
		}
		a, b, ok := strings.Cut(s, "-")
		if !ok {
			continue
		}
		id, err1 := strconv.ParseInt(a, 10, 64)
		v, err2 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil || id <= 0 || v <= 0 {
			continue
		}
		tags = append(tags, entityTag{id: id, version: v})
	}
	return tags, false
}

// ---- parameters ----

func pathID(c *call, name, what string) (int64, error) {
	v := c.r.PathValue(name)
	id, err := strconv.ParseInt(strings.TrimPrefix(v, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no %s %q: %s are numbered from 1", what, v, what+"s")
	}
	return id, nil
}

func queryInt(c *call, name string, def, min int) (int, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, invalid("parameter %s must be a whole number of at least %d, not %q", name, min, v)
	}
	return n, nil
}
