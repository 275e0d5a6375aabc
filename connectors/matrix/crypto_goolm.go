//go:build goolm

package matrix

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
)

// EncryptionAvailable says whether this build reads and writes encrypted
// rooms: yes, built with -tags goolm (mautrix's pure-Go Olm).
const EncryptionAvailable = true

// setupCrypto makes the bot's device able to read and write encrypted
// rooms: mautrix's crypto helper, its Olm account, sessions and room state
// kept in ticketd's database (tables crypto_* and mx_*).
func setupCrypto(ctx context.Context, c *Connector) (cryptoCloser, error) {
	if c.cfg.CryptoDB == nil {
		return nil, errors.New("no database for the crypto store")
	}
	db, err := dbutil.NewWithDB(c.cfg.CryptoDB, c.cfg.CryptoDialect)
	if err != nil {
		return nil, fmt.Errorf("crypto store: %w", err)
	}
	db.Owner = "ticketd-matrix"
	helper, err := cryptohelper.NewCryptoHelper(c.cli, []byte(c.cfg.PickleKey), db)
	if err != nil {
		return nil, err
	}
	helper.DBAccountID = c.user.String()
	helper.DecryptErrorCallback = func(evt *event.Event, err error) {
		c.log.Warn("cannot decrypt a Matrix event", "event", evt.ID, "room", evt.RoomID, "err", err)
	}
	if err := helper.Init(ctx); err != nil {
		return nil, err
	}
	c.cli.Crypto = helper
	return helper, nil
}

func (c *Connector) decrypt(ctx context.Context, evt *event.Event) (*event.Event, bool) {
	if c.cli.Crypto == nil {
		return nil, false
	}
	d, err := c.cli.Crypto.Decrypt(ctx, evt)
	return d, err == nil
}
