package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func TestDefaultLifecycleIsRTs(t *testing.T) {
	l := core.DefaultLifecycle()
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		from, to string
		ok       bool
		right    core.Right
	}{
		{"", "new", true, core.RightModifyTicket},
		{"", "stalled", false, core.RightModifyTicket},
		{"new", "open", true, core.RightModifyTicket},
		{"open", "deleted", true, core.RightDeleteTicket},
		{"resolved", "open", true, core.RightModifyTicket},
		{"deleted", "new", true, core.RightModifyTicket},
		{"open", "open", false, core.RightModifyTicket},
	}
	for _, c := range cases {
		if got := l.CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("%q -> %q allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
		if got := l.RightFor(c.from, c.to); got != c.right {
			t.Errorf("%q -> %q needs %s, want %s", c.from, c.to, got, c.right)
		}
	}
	if !l.IsInitial("new") || !l.IsActive("stalled") || !l.IsInactive("rejected") || l.IsInactive("open") {
		t.Error("status classes wrong")
	}
}

func TestLifecycleValidation(t *testing.T) {
	cases := []struct{ json, want string }{
		{`{`, "not valid JSON"},
		{`{"name":"x","bogus":1}`, "unknown field"},
		{`{"name":"","initial":["a"],"inactive":["b"]}`, "has no name"},
		{`{"name":"x","initial":["a"]}`, "at least one initial and one inactive"},
		{`{"name":"x","initial":["A"],"inactive":["b"]}`, "lower-case word"},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"a":["c"]}}`, `unknown status "c"`},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"a":["b"]}}`, "no status to create tickets in"},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"":["a"]},"rights":{"a to b":"ModifyTicket"}}`, "must read"},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"":["a"]},"rights":{"a -> b":"Fly"}}`, "unknown right"},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"":["a"]},"defaults":{"on_create":"a","resolve":"a","reopen":"a"}}`, "must be an inactive status"},
		{`{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"":["a"]},"defaults":{"on_create":"b","resolve":"b","reopen":"a"}}`, "not a status tickets may be created in"},
	}
	for _, c := range cases {
		_, err := core.ParseLifecycle([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) || core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("%s: got %v, want invalid %q", c.json, err, c.want)
		}
	}
	ok := `{"name":"x","initial":["a"],"inactive":["b"],"transitions":{"":["a"],"a":["b"]},"defaults":{"on_create":"a","resolve":"b","reopen":"a"}}`
	if _, err := core.ParseLifecycle([]byte(ok)); err != nil {
		t.Fatal(err)
	}
}

func TestRights(t *testing.T) {
	staff := &core.User{ID: 10, Name: "alice", Privileged: true}
	req := &core.User{ID: 11, Name: "carol"}
	grants := append(core.DefaultGrants(), core.Grant{Right: core.RightStealTicket, QueueID: 5, PrincipalType: core.PrincipalGroup, PrincipalID: 42}, core.Grant{Right: core.RightSuperUser, QueueID: 5, PrincipalType: core.PrincipalUser, PrincipalID: 10})
	rs := core.NewRights(staff, []int64{42}, grants)
	if !rs.Has(core.RightTakeTicket, 7, nil) || rs.Has(core.RightStealTicket, 7, nil) || !rs.Has(core.RightStealTicket, 5, nil) {
		t.Error("staff rights wrong")
	}
	if rs.SuperUser() || rs.Has(core.RightDeleteTicket, 5, nil) {
		t.Error("a queue-scoped SuperUser grant must not count")
	}
	rr := core.NewRights(req, nil, grants)
	if rr.Has(core.RightShowTicket, 1, nil) || !rr.Has(core.RightShowTicket, 1, []core.Role{core.RoleRequestor}) || !rr.Has(core.RightCreateTicket, 3, nil) {
		t.Error("requester rights wrong")
	}
	if v := rr.Visibility(); v == nil || v.AllQueues || len(v.Roles) != 1 || v.Roles[0].Role != core.RoleRequestor || !v.Roles[0].AllQueues {
		t.Errorf("requester visibility %+v", v)
	}
	if v := rs.Visibility(); v == nil || !v.AllQueues {
		t.Errorf("staff visibility %+v", v)
	}
	root := core.NewRights(&core.User{ID: core.RootID, Privileged: true}, nil, grants)
	if !root.SuperUser() || root.Visibility() != nil || !root.Has(core.RightDeleteTicket, 9, nil) {
		t.Error("root is not all-powerful")
	}
	disabled := core.NewRights(&core.User{ID: core.RootID, Disabled: true}, nil, grants)
	if disabled.Has(core.RightShowTicket, 1, nil) || disabled.SuperUser() {
		t.Error("a disabled user holds rights")
	}
}

func TestCleanSubject(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"  hello\r\n\tworld ", "hello world", ""},
		{"", "", "empty"},
		{"\x00\x01", "", "empty"},
		{"a\xffb", "", "UTF-8"},
		{strings.Repeat("ä", 300), strings.Repeat("ä", 200), ""},
		{strings.Repeat("x", core.MaxSubjectBytes+1), "", "too long"},
	}
	for _, c := range cases {
		got, err := core.CleanSubject(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("CleanSubject(%.20q) = %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CleanSubject(%.20q) = %.20q, %v", c.in, got, err)
		}
	}
}

func FuzzCleanSubject(f *testing.F) {
	f.Add("hello")
	f.Add("a\x00b\nc")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := core.CleanSubject(s)
		if err != nil {
			return
		}
		if got == "" || len([]rune(got)) > core.MaxSubjectRunes || strings.ContainsAny(got, "\r\n\t\x00") {
			t.Fatalf("CleanSubject(%q) = %q", s, got)
		}
	})
}

func TestActionName(t *testing.T) {
	e := Engine{shared: &shared{}}
	var got []string
	e.SetObserver(func(action, outcome string, took time.Duration) { got = append(got, action+":"+outcome) })
	e.store, e.raw = failStore{}, failStore{}
	e.clock = core.SystemClock{}
	e.Take(context.Background(), 1, 1)
	e.Reply(context.Background(), 1, 1, core.Content{Body: "x"})
	e.Search(context.Background(), 1, "", 10, 0)
	e.Take(context.Background(), 1, 1)
	if strings.Join(got, ",") != "Take:internal,Reply:internal,Search:internal,Take:internal" {
		t.Fatalf("observed %v", got)
	}
}

type failStore struct{ core.Store }

func (failStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return errors.New("down")
}

func (failStore) View(ctx context.Context, fn func(core.Tx) error) error { return errors.New("down") }
