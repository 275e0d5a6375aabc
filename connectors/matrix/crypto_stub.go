//go:build !goolm

package matrix

import (
	"context"

	"maunium.net/go/mautrix/event"
)

// EncryptionAvailable says whether this build reads and writes encrypted
// rooms: not without -tags goolm (it has no Olm).
const EncryptionAvailable = false

func setupCrypto(ctx context.Context, c *Connector) (cryptoCloser, error) {
	return nil, ErrEncryptionUnavailable
}

func (c *Connector) decrypt(ctx context.Context, evt *event.Event) (*event.Event, bool) {
	return nil, false
}
