package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

type openAPIDocument struct {
	OpenAPI    string                                `json:"openapi"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
		Parameters map[string]openAPIParam `json:"parameters"`
		Schemas    map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParam             `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    *[]map[string][]string     `json:"security"`
}

func loadOpenAPI(t *testing.T) *openAPIDocument {
	t.Helper()
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	return &doc
}

var httpMethods = []string{"get", "put", "post", "patch", "delete", "head", "options"}

// documentedOps lists "METHOD /path" for every operation of the document.
func documentedOps(doc *openAPIDocument) map[string]openAPIOperation {
	out := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op openAPIOperation
			_ = json.Unmarshal(raw, &op)
			out[strings.ToUpper(method)+" "+path] = op
		}
	}
	return out
}

// servedOps lists "METHOD /path" for every route of the table, with the
// action route expanded into one path per action.
func servedOps() []string {
	var out []string
	for _, rt := range routes {
		if rt.path == "/api/v1/tickets/{id}/{action}" {
			for _, name := range actionNames() {
				out = append(out, rt.method+" /api/v1/tickets/{id}/"+name)
			}
			continue
		}
		out = append(out, rt.pattern())
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedOps(doc)
	served := servedOps()

	for _, op := range served {
		if _, ok := documented[op]; !ok {
			t.Errorf("route %s is served but not documented in openapi.json", op)
		}
	}
	var docKeys []string
	for op := range documented {
		docKeys = append(docKeys, op)
	}
	sort.Strings(docKeys)
	a := New(nil, Options{})
	for _, op := range docKeys {
		if !slices.Contains(served, op) {
			t.Errorf("openapi.json documents %s, which the route table does not serve", op)
		}
		// The mux serves the documented path, with sample parameters, by a
		// route of the table (not the catch-all).
		method, path, _ := strings.Cut(op, " ")
		concrete := pathParam.ReplaceAllString(path, "1")
		req, _ := http.NewRequest(method, "http://x"+concrete, nil)
		_, pattern := a.mux.Handler(req)
		if pattern == "" || pattern == "/" {
			t.Errorf("%s: the mux has no route for %s %s", op, method, concrete)
			continue
		}
		if strings.HasSuffix(pattern, "/{action}") {
			if _, ok := findAction(concrete[strings.LastIndex(concrete, "/")+1:]); !ok {
				t.Errorf("%s: no such action", op)
			}
		}
	}
	if t.Failed() {
		return
	}
	if len(served) != len(documented) {
		t.Errorf("%d operations served, %d documented", len(served), len(documented))
	}
}

func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearerAuth scheme: %+v", s)
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("global security: %+v", doc.Security)
	}
	// Every $ref resolves.
	var all any
	_ = json.Unmarshal(openAPIDoc, &all)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if !resolves(all, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(all)

	public := map[string]bool{}
	for _, rt := range routes {
		if rt.public {
			public[rt.pattern()] = true
		}
	}
	for key, op := range documentedOps(doc) {
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		}
		// Security: public routes say so, the rest answer 401.
		isPublic := op.Security != nil && len(*op.Security) == 0
		if isPublic != public[key] {
			t.Errorf("%s: documented public=%v, served public=%v", key, isPublic, public[key])
		}
		if !isPublic && op.Responses["401"] == nil {
			t.Errorf("%s does not document 401", key)
		}
		if op.Responses["500"] == nil {
			t.Errorf("%s does not document 500", key)
		}
		// Every path parameter is declared.
		_, path, _ := strings.Cut(key, " ")
		declared := map[string]bool{}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "path" {
				declared[p.Name] = true
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s is not declared", key, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %s that the path lacks", key, name)
		}
	}
}

func resolves(doc any, ref string) bool {
	cur := doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPISchemasMatchTypes checks that each documented schema has
// exactly the JSON fields of the Go type the API encodes or decodes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	types := map[string]any{
		"ErrorResponse": ErrorResponse{}, "Error": APIError{}, "TicketSummary": TicketSummary{}, "Ticket": Ticket{}, "CreatedTicket": CreatedTicket{},
		"TicketLink": TicketLink{}, "SearchPage": SearchPage{}, "Message": Message{}, "Upload": Upload{},
		"CreateTicketRequest": CreateTicketRequest{}, "TicketPatch": TicketPatch{}, "StatusRequest": StatusRequest{},
		"GiveRequest": GiveRequest{}, "MergeRequest": MergeRequest{}, "TimeRequest": TimeRequest{},
		"WatcherRequest": WatcherRequest{}, "LinkRequest": LinkRequest{}, "Transaction": Transaction{},
		"AttachmentInfo": AttachmentInfo{}, "Queue": Queue{}, "QueueRequest": QueueRequest{}, "User": User{},
		"UserRequest": UserRequest{}, "Group": Group{}, "GroupRequest": GroupRequest{}, "Grant": Grant{},
		"GrantRequest": GrantRequest{}, "Token": Token{}, "TokenRequest": TokenRequest{}, "IssuedToken": IssuedToken{},
		"Webhook": Webhook{}, "WebhookRequest": WebhookRequest{}, "Delivery": Delivery{}, "AuditEntry": AuditEntry{},
		"Reminder": Reminder{}, "ReminderRequest": ReminderRequest{}, "ReminderPolicy": ReminderPolicy{},
		"ReminderPolicyPatch": ReminderPolicyPatch{}, "Digest": Digest{}, "Field": Field{}, "FieldRequest": FieldRequest{},
		"TicketSLA": TicketSLA{}, "SLAClock": SLAClock{}, "SLACurrent": SLACurrent{}, "Report": Report{}, "ReportRow": ReportRow{},
	}
	for name, s := range doc.Components.Schemas {
		v, ok := types[name]
		if !ok {
			if s.Properties != nil {
				t.Errorf("schema %s has no Go type in this test", name)
			}
			continue
		}
		var documented []string
		for p := range s.Properties {
			documented = append(documented, p)
		}
		sort.Strings(documented)
		fields := jsonFields(reflect.TypeOf(v))
		sort.Strings(fields)
		if !slices.Equal(documented, fields) {
			t.Errorf("schema %s has %v; the Go type encodes %v", name, documented, fields)
		}
		for _, r := range s.Required {
			if !slices.Contains(fields, r) {
				t.Errorf("schema %s requires %s, which it lacks", name, r)
			}
		}
	}
	for name := range types {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("type %s is not documented", name)
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
