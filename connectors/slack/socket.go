package slack

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode: for teams that cannot expose an inbound HTTPS endpoint, the
// connector opens a WebSocket to Slack (apps.connections.open, with the
// app-level token) and receives the same commands, events and
// interactions, each acknowledged by its envelope id. They go through the
// same handling as HTTP: only the transport differs (no signatures: the
// connection itself is authenticated).

type socketRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *socketRunner) stop() {
	r.cancel()
	<-r.done
}

// StartSocketMode connects and serves until Stop, reconnecting with
// backoff when the connection fails.
func (c *Connector) StartSocketMode(ctx context.Context) error {
	if c.cfg.AppToken == "" {
		return errors.New("slack: Socket Mode needs an app-level token (SLACK_APP_TOKEN, xapp-...)")
	}
	if c.socket != nil {
		return errors.New("slack: Socket Mode is already running")
	}
	client := socketmode.New(c.api, socketmode.OptionLog(log.New(slogWriter{c}, "", 0)))
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &socketRunner{cancel: cancel, done: make(chan struct{})}
	c.socket = r
	conn := make(chan struct{})
	go func() {
		defer close(conn)
		backoff := time.Second
		for rctx.Err() == nil {
			err := client.RunContext(rctx)
			if rctx.Err() != nil {
				return
			}
			c.log.Warn("Socket Mode connection ended; reconnecting", "err", err, "in", backoff)
			select {
			case <-rctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
		}
	}()
	go func() {
		defer close(r.done)
		for {
			select {
			case <-rctx.Done():
				<-conn
				return
			case evt := <-client.Events:
				c.socketEvent(rctx, client, evt)
			}
		}
	}()
	return nil
}

// socketEvent handles one Socket Mode envelope. Commands and interactions
// are answered in their acknowledgement; events are acknowledged first.
func (c *Connector) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	c.log.Debug("Socket Mode event", "type", evt.Type)
	switch evt.Type {
	case socketmode.EventTypeConnected:
		c.log.Info("Socket Mode connected")
	case socketmode.EventTypeErrorBadMessage:
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			c.log.Warn("Socket Mode message not understood", "err", bad.Cause)
		}
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		client.Ack(*evt.Request, c.command(ctx, sc))
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		if resp := c.interaction(ctx, &cb); resp != nil {
			client.Ack(*evt.Request, resp)
		} else {
			client.Ack(*evt.Request)
		}
	case socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		client.Ack(*evt.Request)
		ev, err := ParseEvent(evt.Request.Payload)
		if err != nil {
			c.log.Debug("ignored a Slack event", "err", err)
			return
		}
		if err := c.event(ctx, ev); err != nil {
			c.log.Error("cannot handle a Slack event", "event", ev.EventID, "err", err)
		}
	}
}

// slogWriter sends the socketmode package's log lines to the connector's
// logger at debug level.
type slogWriter struct{ c *Connector }

func (w slogWriter) Write(p []byte) (int, error) {
	w.c.log.Debug("socketmode", "msg", string(p))
	return len(p), nil
}
