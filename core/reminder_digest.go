package core

import (
	"encoding/json"
	"fmt"
	"time"
)

// OutboxChatDigest carries a ChatDigest: a chat sender delivers it as a
// direct message.
const OutboxChatDigest = "reminder.digest"

// ChatDigest is the payload of an OutboxChatDigest message.
type ChatDigest struct {
	Platform  string `json:"platform"`
	Workspace string `json:"workspace"`
	ChatUser  string `json:"chat_user"`
	UserID    int64  `json:"user_id"`
	Count     int    `json:"count"`
	Text      string `json:"text"`
}

// DecodeChatDigest reads the digest of an OutboxChatDigest message.
func DecodeChatDigest(m *OutboxMessage) (*ChatDigest, error) {
	var p struct {
		Digest *ChatDigest `json:"digest"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Digest == nil {
		return nil, fmt.Errorf("outbox message %d carries no digest", m.ID)
	}
	return p.Digest, nil
}

// NextDigest is the first time after now at pref's time of day in its
// time zone.
func NextDigest(pref *DigestPref, now time.Time) (time.Time, error) {
	loc, err := DigestZone(pref.TimeZone)
	if err != nil {
		return time.Time{}, err
	}
	l := now.In(loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), pref.At/60, pref.At%60, 0, 0, loc)
	for !d.After(now) {
		l = l.AddDate(0, 0, 1)
		d = time.Date(l.Year(), l.Month(), l.Day(), pref.At/60, pref.At%60, 0, 0, loc)
	}
	return d.UTC(), nil
}

func DigestZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(CodeInvalid, "unknown time zone %q (use an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}
