//go:build !goolm

package matrix

import (
	"context"

	"maunium.net/go/mautrix/event"
)

// cryptoAvailable: this build cannot encrypt or decrypt (it has no Olm).
const cryptoAvailable = false

func setupCrypto(ctx context.Context, c *Connector) (cryptoCloser, error) {
	return nil, ErrEncryptionUnavailable
}

func (c *Connector) decrypt(ctx context.Context, evt *event.Event) (*event.Event, bool) {
	return nil, false
}
