package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// storeTokens: a token is found by its hash, with its user and its id
// (prefetched or not); listed per user; deleted once.
func storeTokens(t *testing.T, s core.Store) {
	tok := &core.Token{UserID: core.RootID, Name: "laptop", Hash: []byte("0123456789abcdef0123456789abcdef"), Hint: "cdef", Created: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertToken", tx.InsertToken(ctx, tok))
		return nil
	})
	if tok.ID <= 0 {
		t.Fatalf("token id %d", tok.ID)
	}
	for _, prefetch := range []bool{false, true} {
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			if prefetch {
				tx.PrefetchTokenUser(tok.Hash)
			}
			u, id, err := tx.TokenUser(ctx, tok.Hash)
			ok(t, "TokenUser", err)
			same(t, "TokenUser's user", u.Name, "root")
			same(t, "TokenUser's token id", id, tok.ID)
			_, _, err = tx.TokenUser(ctx, []byte("no such hash"))
			wantCode(t, "TokenUser of an unknown hash", err, core.CodeNotFound)
			got, err := tx.TokenByHash(ctx, tok.Hash)
			ok(t, "TokenByHash", err)
			same(t, "TokenByHash", got, tok)
			ts, err := tx.Tokens(ctx, core.RootID)
			ok(t, "Tokens", err)
			same(t, "Tokens of root", ts, []*core.Token{tok})
			return nil
		})
	}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "DeleteToken", tx.DeleteToken(ctx, tok.ID))
		wantCode(t, "DeleteToken twice", tx.DeleteToken(ctx, tok.ID), core.CodeNotFound)
		_, _, err := tx.TokenUser(ctx, tok.Hash)
		wantCode(t, "TokenUser of a deleted token", err, core.CodeNotFound)
		return nil
	})
}
