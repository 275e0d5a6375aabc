package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/report"
)

// storeReportSchedules: a schedule is stored and replaced by name (any
// case), keeping its id and last run; a claim of a due moment succeeds
// once, and again for a later one; a delete is by name, once.
func storeReportSchedules(t *testing.T, s core.Store) {
	root := &core.User{Name: "root2"}
	ops := &core.Group{Name: "ops"}
	weekly := &report.Schedule{Name: "Weekly", Measure: "created", Dims: "queue", Query: "queue:noc", Span: "7d",
		Weekday: time.Monday, Hour: 8, Created: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		st, isST := tx.(report.ScheduleTx)
		if !isST {
			t.Fatal("the store's transactions are no report.ScheduleTx")
		}
		ok(t, "InsertUser", tx.InsertUser(ctx, root))
		ok(t, "InsertGroup", tx.InsertGroup(ctx, ops))
		weekly.GroupID, weekly.CreatedBy = ops.ID, root.ID
		ok(t, "PutReportSchedule", st.PutReportSchedule(ctx, weekly))
		claimed, err := st.ClaimReportSchedule(ctx, weekly.ID, day(3))
		ok(t, "ClaimReportSchedule", err)
		if !claimed {
			t.Fatal("a first claim failed")
		}
		claimed, err = st.ClaimReportSchedule(ctx, weekly.ID, day(3))
		ok(t, "ClaimReportSchedule again", err)
		if claimed {
			t.Fatal("the same due moment was claimed twice")
		}
		again := *weekly
		again.ID, again.Name, again.Hour, again.Dims = 0, "weekly", 9, "queue,owner"
		ok(t, "PutReportSchedule replacing", st.PutReportSchedule(ctx, &again))
		if again.ID != weekly.ID {
			t.Fatalf("a replacement got id %d, not %d", again.ID, weekly.ID)
		}
		other := &report.Schedule{Name: "alerts", GroupID: ops.ID, Measure: "alerts", Span: "1d", Weekday: time.Sunday,
			CreatedBy: root.ID, Created: day(1)}
		ok(t, "PutReportSchedule other", st.PutReportSchedule(ctx, other))
		list, err := st.ReportSchedules(ctx)
		ok(t, "ReportSchedules", err)
		want := again
		want.LastRun = day(3)
		same(t, "schedules by name", list, []*report.Schedule{other, &want})
		claimed, err = st.ClaimReportSchedule(ctx, weekly.ID, day(10))
		ok(t, "ClaimReportSchedule a week later", err)
		if !claimed {
			t.Fatal("a later due moment was not claimed")
		}
		ok(t, "DeleteReportSchedule", st.DeleteReportSchedule(ctx, "WEEKLY"))
		wantCode(t, "DeleteReportSchedule twice", st.DeleteReportSchedule(ctx, "weekly"), core.CodeNotFound)
		list, err = st.ReportSchedules(ctx)
		ok(t, "ReportSchedules after the delete", err)
		same(t, "schedules after the delete", list, []*report.Schedule{other})
		return nil
	})
}
