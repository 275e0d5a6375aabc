package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// storeFields: a field round-trips with its list, statuses and queues; the
// name is unique whatever its case; an update replaces everything but the
// name; a missing field is not found; writing definitions changes the
// directory version.
func storeFields(t *testing.T, s core.Store) {
	product := &core.Field{Name: "product", Type: core.FieldSelect, Description: "what broke",
		Values: []string{"VPN", "DSL"}, RequiredFor: []string{"resolved"}, QueueIDs: []int64{3, core.GeneralQueueID},
		Requesters: true, Created: t0}
	size := &core.Field{Name: "size", Type: core.FieldNumber, Created: day(1)}
	var before int64
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		var err error
		before, err = tx.DirectoryVersion(ctx)
		ok(t, "DirectoryVersion", err)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertField", tx.InsertField(ctx, product))
		ok(t, "InsertField", tx.InsertField(ctx, size))
		wantCode(t, "InsertField PRODUCT", tx.InsertField(ctx, &core.Field{Name: "PRODUCT", Type: core.FieldText}), core.CodeConflict)
		return nil
	})
	if product.ID <= 0 || size.ID <= product.ID {
		t.Fatalf("ids %d, %d: want positive and growing", product.ID, size.ID)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		v, err := tx.DirectoryVersion(ctx)
		ok(t, "DirectoryVersion", err)
		if v <= before {
			t.Errorf("directory version %d after adding fields, was %d", v, before)
		}
		fs, err := tx.Fields(ctx)
		ok(t, "Fields", err)
		want := *product
		want.QueueIDs = []int64{core.GeneralQueueID, 3}
		same(t, "Fields", fs, []*core.Field{&want, size})
		return nil
	})
	product.Values, product.RequiredFor, product.QueueIDs, product.Disabled = []string{"VPN"}, nil, []int64{3}, true
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "UpdateField", tx.UpdateField(ctx, product))
		wantCode(t, "UpdateField missing", tx.UpdateField(ctx, &core.Field{ID: 999, Name: "x", Type: core.FieldText}), core.CodeNotFound)
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		fs, err := tx.Fields(ctx)
		ok(t, "Fields", err)
		same(t, "Fields after update", fs, []*core.Field{product, size})
		return nil
	})
}

// storeFieldValues: values are set, replaced and cleared per ticket and
// field; typed columns come back; searches match any of a list of values,
// numbers as numbers (10 > 9) and dates as times.
func storeFieldValues(t *testing.T, s core.Store) {
	f := newSearchFixture(t, s)
	num := func(n float64) *float64 { return &n }
	var product, size, when *core.Field
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		product = &core.Field{Name: "product", Type: core.FieldMulti, Values: []string{"VPN", "DSL", "Fibre"}}
		size = &core.Field{Name: "size", Type: core.FieldNumber}
		when = &core.Field{Name: "since", Type: core.FieldDate}
		for _, fl := range []*core.Field{product, size, when} {
			ok(t, "InsertField", tx.InsertField(ctx, fl))
		}
		set := func(n int, fl *core.Field, vs ...core.FieldValue) {
			ok(t, "SetFieldValues", tx.SetFieldValues(ctx, f.t[n], fl.ID, vs))
		}
		set(1, product, core.FieldValue{Value: "VPN"}, core.FieldValue{Value: "DSL"})
		set(2, product, core.FieldValue{Value: "DSL"})
		set(3, product, core.FieldValue{Value: "Fibre"})
		set(3, product, core.FieldValue{Value: "VPN"}) // replaces Fibre
		set(1, size, core.FieldValue{Value: "9", Number: num(9)})
		set(2, size, core.FieldValue{Value: "10", Number: num(10)})
		set(4, size, core.FieldValue{Value: "-2.5", Number: num(-2.5)})
		set(2, when, core.FieldValue{Value: "2024-05-18", Date: day(1)})
		set(6, when, core.FieldValue{Value: "2024-05-22", Date: day(5)})
		set(6, product, core.FieldValue{Value: "Fibre"})
		set(6, product) // cleared
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		vs, err := tx.TicketFieldValues(ctx, f.ids(2, 1))
		ok(t, "TicketFieldValues", err)
		same(t, "TicketFieldValues", vs, []core.FieldValue{
			{TicketID: f.t[1], FieldID: product.ID, Value: "DSL"},
			{TicketID: f.t[1], FieldID: product.ID, Value: "VPN"},
			{TicketID: f.t[1], FieldID: size.ID, Value: "9", Number: num(9)},
			{TicketID: f.t[2], FieldID: product.ID, Value: "DSL"},
			{TicketID: f.t[2], FieldID: size.ID, Value: "10", Number: num(10)},
			{TicketID: f.t[2], FieldID: when.ID, Value: "2024-05-18", Date: day(1)},
		})
		none, err := tx.TicketFieldValues(ctx, f.ids(6))
		ok(t, "TicketFieldValues", err)
		same(t, "values of #6", none, []core.FieldValue{{TicketID: f.t[6], FieldID: when.ID, Value: "2024-05-22", Date: day(5)}})
		return nil
	})
	cond := func(c core.FieldCond) core.TicketFilter { return core.TicketFilter{Fields: []core.FieldCond{c}} }
	f.check(t, s, "product VPN", cond(core.FieldCond{FieldID: product.ID, Values: []string{"VPN"}}), 3, 1)
	f.check(t, s, "product VPN or DSL", cond(core.FieldCond{FieldID: product.ID, Values: []string{"VPN", "DSL"}}), 3, 2, 1)
	f.check(t, s, "product Fibre", cond(core.FieldCond{FieldID: product.ID, Values: []string{"Fibre"}}))
	f.check(t, s, "size > 9", cond(core.FieldCond{FieldID: size.ID, Op: ">", Number: 9}), 2)
	f.check(t, s, "size >= 9", cond(core.FieldCond{FieldID: size.ID, Op: ">=", Number: 9}), 2, 1)
	f.check(t, s, "size < 0", cond(core.FieldCond{FieldID: size.ID, Op: "<", Number: 0}), 4)
	f.check(t, s, "since > day 2", cond(core.FieldCond{FieldID: when.ID, Op: ">", IsDate: true, Date: day(2)}), 6)
	f.check(t, s, "since < day 2", cond(core.FieldCond{FieldID: when.ID, Op: "<", IsDate: true, Date: day(2)}), 2)
	f.check(t, s, "two conditions", core.TicketFilter{Fields: []core.FieldCond{
		{FieldID: product.ID, Values: []string{"DSL"}}, {FieldID: size.ID, Op: ">", Number: 9.5}}}, 2)
}
