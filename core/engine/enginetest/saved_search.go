package enginetest

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// testSavedSearches: a person saves, edits and deletes their searches; a
// bad query or a name in use is refused and changes nothing; a search
// shared with a group is read by its members, who may pick it but not
// change it, and does not exist for anyone else.
func testSavedSearches(t *testing.T, h *harness) {
	ctx, eng := h.ctx, h.eng
	names := func(actor int64) []string {
		t.Helper()
		vs, err := eng.SavedSearches(ctx, actor)
		h.must(err)
		var out []string
		for _, v := range vs {
			s := v.Name
			if v.Picked {
				s += " (picked)"
			}
			if !v.Mine {
				s += " by " + v.Owner
			}
			out = append(out, s)
		}
		return out
	}
	_, err := eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "broken", Query: `queue:noc "unclosed`})
	wantErr(t, err, core.CodeInvalid, "quote is not closed")
	_, err = eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "colours", Query: "colour:red"})
	wantErr(t, err, core.CodeInvalid, "unknown search field")
	_, err = eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: " ", Query: "owner:me"})
	wantErr(t, err, core.CodeInvalid, "name")
	if got := names(h.alice); len(got) != 0 {
		t.Fatalf("refused searches were saved: %q", got)
	}
	bgp, err := eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "BGP", Query: ` "bgp" status:active `})
	h.must(err)
	if bgp.Query != `"bgp" status:active` || bgp.OwnerID != h.alice {
		t.Fatalf("saved %+v", bgp)
	}
	_, err = eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "bgp", Query: "owner:me"})
	wantErr(t, err, core.CodeConflict, "choose another name")
	_, err = eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "mine", Query: "owner:me", Group: "ops"})
	wantErr(t, err, core.CodeNotFound, "ops")

	_, err = eng.Admin().CreateGroup(ctx, core.RootID, "ops", "")
	h.must(err)
	_, err = eng.SaveSearch(ctx, h.alice, engine.SavedSearchInput{Name: "mine", Query: "owner:me", Group: "ops"})
	wantErr(t, err, core.CodeForbidden, "not in ops")
	h.must(eng.Admin().SetMember(ctx, core.RootID, "ops", "alice", true))
	h.must(eng.Admin().SetMember(ctx, core.RootID, "ops", "bob", true))
	_, err = eng.EditSavedSearch(ctx, h.alice, bgp.ID, engine.SavedSearchInput{Name: "BGP flaps", Query: "bgp flap sort:-updated", Group: "ops"})
	h.must(err)
	v, err := eng.SavedSearch(ctx, h.bob, bgp.ID)
	h.must(err)
	if v.Mine || v.Owner != "alice" || v.Group != "ops" || v.Name != "BGP flaps" || v.Query != "bgp flap sort:-updated" {
		t.Fatalf("bob reads %+v", v)
	}
	// bob may read and pick it, not change it; carol may not even see it.
	_, err = eng.EditSavedSearch(ctx, h.bob, bgp.ID, engine.SavedSearchInput{Name: "mine now", Query: "owner:me"})
	wantErr(t, err, core.CodeForbidden, "only its owner")
	wantErr(t, eng.DeleteSavedSearch(ctx, h.bob, bgp.ID), core.CodeForbidden, "only its owner")
	_, err = eng.SavedSearch(ctx, h.carol, bgp.ID)
	wantErr(t, err, core.CodeNotFound)
	_, err = eng.EditSavedSearch(ctx, h.carol, bgp.ID, engine.SavedSearchInput{Name: "x", Query: "owner:me"})
	wantErr(t, err, core.CodeNotFound)
	wantErr(t, eng.PickSavedSearch(ctx, h.carol, bgp.ID, true), core.CodeNotFound)
	h.must(eng.PickSavedSearch(ctx, h.bob, bgp.ID, true))
	h.must(eng.PickSavedSearch(ctx, h.bob, bgp.ID, true)) // twice is once
	wantErr(t, eng.PickSavedSearch(ctx, h.alice, bgp.ID, true), core.CodeInvalid, "yours")
	if got := names(h.bob); len(got) != 1 || got[0] != "BGP flaps (picked) by alice" {
		t.Fatalf("bob's searches: %q", got)
	}
	// a bad edit changes nothing
	_, err = eng.EditSavedSearch(ctx, h.alice, bgp.ID, engine.SavedSearchInput{Name: "BGP flaps", Query: "priority>500"})
	wantErr(t, err, core.CodeInvalid, "priority")
	if v, _ := eng.SavedSearch(ctx, h.alice, bgp.ID); v.Query != "bgp flap sort:-updated" {
		t.Fatalf("after a refused edit the query is %q", v.Query)
	}
	// out of the group, out of sight
	h.must(eng.Admin().SetMember(ctx, core.RootID, "ops", "bob", false))
	if got := names(h.bob); len(got) != 0 {
		t.Fatalf("bob, out of ops, still sees %q", got)
	}
	// shared with every staff member (a system group alice is in)
	_, err = eng.EditSavedSearch(ctx, h.alice, bgp.ID, engine.SavedSearchInput{Name: "BGP flaps", Query: "bgp", Group: "Privileged"})
	h.must(err)
	if got := names(h.bob); len(got) != 1 || got[0] != "BGP flaps (picked) by alice" {
		t.Fatalf("bob's searches, shared with staff: %q", got)
	}
	if got := names(h.carol); len(got) != 0 {
		t.Fatalf("carol (a requester) sees %q", got)
	}
	// requesters keep searches, and share none; staff share none with them
	_, err = eng.SaveSearch(ctx, h.carol, engine.SavedSearchInput{Name: "mine", Query: "status:any", Group: "Everyone"})
	wantErr(t, err, core.CodeForbidden, "only staff")
	_, err = eng.SaveSearch(ctx, h.carol, engine.SavedSearchInput{Name: "mine", Query: "status:any"})
	h.must(err)
	_, err = eng.EditSavedSearch(ctx, h.alice, bgp.ID, engine.SavedSearchInput{Name: "BGP flaps", Query: "bgp", Group: "Everyone"})
	wantErr(t, err, core.CodeInvalid, "not with Everyone")
	if gs, err := eng.ShareGroups(ctx, h.carol); err != nil || len(gs) != 0 {
		t.Fatalf("carol may share with %v (%v)", gs, err)
	}
	gs, err := eng.ShareGroups(ctx, h.alice)
	h.must(err)
	var gn []string
	for _, g := range gs {
		gn = append(gn, g.Name)
	}
	sort.Strings(gn)
	if fmt.Sprint(gn) != "[Privileged ops]" {
		t.Fatalf("alice may share with %v", gn)
	}
	h.must(eng.DeleteSavedSearch(ctx, h.alice, bgp.ID))
	wantErr(t, eng.DeleteSavedSearch(ctx, h.alice, bgp.ID), core.CodeNotFound)
	if got := names(h.bob); len(got) != 0 {
		t.Fatalf("after delete bob sees %q", got)
	}
}

// testNeedsReply: needs:reply lists the tickets where a requester's
// message waits for a staff reply: opened by a requester, or answered by
// one; a staff reply ends it, a comment does not, closing the ticket does;
// a ticket staff opened does not wait.
func testNeedsReply(t *testing.T, h *harness) {
	ctx, eng := h.ctx, h.eng
	asked := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "VPN drops", Content: &core.Content{Body: "every hour"}})
	h.clock.Advance(time.Minute)
	filed := h.create(h.alice, engine.CreateInput{Queue: "NOC", Subject: "for carol", Requestors: []string{"carol"},
		Content: &core.Content{Body: "we noticed"}})
	h.clock.Advance(time.Minute)
	answered := h.create(h.erin, engine.CreateInput{Queue: "NOC", Subject: "printer", Content: &core.Content{Body: "jammed"}})
	want := func(what string, ids ...int64) {
		t.Helper()
		got := h.search(h.alice, "needs:reply sort:id")
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("%s: needs:reply finds %v, want %v", what, got, ids)
		}
	}
	want("new tickets", asked.ID, answered.ID)
	h.clock.Advance(time.Minute)
	_, err := eng.Reply(ctx, h.alice, answered.ID, core.Content{Body: "cleared the jam"})
	h.must(err)
	_, err = eng.Comment(ctx, h.alice, asked.ID, core.Content{Body: "looking"})
	h.must(err)
	want("after a reply and a comment", asked.ID)
	h.clock.Advance(time.Minute)
	_, err = eng.Reply(ctx, h.carol, filed.ID, core.Content{Body: "thanks, still broken"})
	h.must(err)
	_, err = eng.Reply(ctx, h.erin, answered.ID, core.Content{Body: "jammed again"})
	h.must(err)
	want("after the requesters wrote", asked.ID, filed.ID, answered.ID)
	if got := h.search(h.carol, "needs:reply sort:id"); fmt.Sprint(got) != fmt.Sprint([]int64{asked.ID, filed.ID}) {
		t.Fatalf("carol's needs:reply: %v", got)
	}
	_, err = eng.Transition(ctx, h.alice, filed.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	want("after resolving one", asked.ID, answered.ID)
	if got := h.search(h.alice, "needs:reply status:any sort:id"); len(got) != 2 {
		t.Fatalf("needs:reply status:any: %v", got)
	}
	if got := h.search(h.alice, "needs:reply status:inactive"); len(got) != 0 {
		t.Fatalf("needs:reply status:inactive: %v", got)
	}
	if got := h.search(h.alice, "needs:reply status:resolved,new sort:id"); fmt.Sprint(got) != fmt.Sprint([]int64{asked.ID, answered.ID}) {
		t.Fatalf("needs:reply status:resolved,new: %v", got)
	}
	// a requester's reply reopens it, and it waits again
	h.clock.Advance(time.Minute)
	_, err = eng.Reply(ctx, h.carol, filed.ID, core.Content{Body: "broken again"})
	h.must(err)
	want("after carol wrote on the resolved ticket", asked.ID, filed.ID, answered.ID)
	_, err = eng.Search(ctx, h.alice, "needs:love", 10, 0)
	wantErr(t, err, core.CodeInvalid, "needs:reply")
}
