package email

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input makes the parser panic, loop or return text that is
// not clean UTF-8, and what it returns stays in proportion to its input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nContent-Type: multipart/alternative; boundary=x\n\n--x\n--x--"))
	f.Add([]byte("Subject: =?utf-8?q?=ff?= =?x-bad?b?////?=\nContent-Type: text/html; charset=\"\"\n\n<p><a href=x><blockquote><pre>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw, Limits{MaxParts: 50, MaxDepth: 6})
		checkClean(t, m)
		total := 0
		for _, fl := range m.Files {
			total += len(fl.Data)
		}
		if total > 2*len(raw)+16 {
			t.Errorf("files hold %d bytes from a %d byte message", total, len(raw))
		}
	})
}

// FuzzDeliver: whatever arrives is recorded or refused for good, never
// left to be retried for ever because the database would not take it
// (Postgres refuses NUL bytes and invalid UTF-8 in text) or the engine
// failed on it.
func FuzzDeliver(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From: \"\x00\xff\" <a@b.c>\nSubject: [NOC #1] \x00\xfe\nMessage-ID: <\xff@x>\nReferences: <\x00> <a\xfe@b>\n\n\x00"))
	e := newPostgresEnv(f)
	r, err := e.gw.Route(e.ctx, "noc@example.net")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := e.gw.Deliver(e.ctx, Delivery{Raw: raw, Route: r})
		if res.Status == TempFail {
			t.Errorf("temporary failure: %+v", res)
		}
	})
}
