package workspace_test

import (
	"bytes"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/connectors/web/workspace"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

type upFile struct {
	name, ctype string
	data        []byte
}

// upload posts a multipart form as a browser does, with the page's CSRF
// token unless fields set "csrf" themselves.
func (b *browser) upload(path string, fields []string, files ...upFile) *browser {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	has := map[string]bool{}
	for i := 0; i+1 < len(fields); i += 2 {
		has[fields[i]] = true
	}
	if m := csrfRE.FindStringSubmatch(b.body); m != nil && !has["csrf"] {
		mw.WriteField("csrf", m[1])
	}
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.ctype)
		w, _ := mw.CreatePart(h)
		w.Write(f.data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// fileLink is the download link of the file named name on the page shown.
func (b *browser) fileLink(name string) string {
	b.e.t.Helper()
	m := regexp.MustCompile(`href="(/tickets/[0-9]+/attachments/[0-9]+)">` + regexp.QuoteMeta(name) + `<`).FindStringSubmatch(b.body)
	if m == nil {
		b.e.t.Fatalf("no link to %s on %s:\n%s", name, b.url, b.body)
	}
	return m[1]
}

func (e *env) historyLen(id int64) int {
	e.t.Helper()
	txns, err := e.eng.History(e.ctx, core.RootID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(txns)
}

// Files go with a reply, a comment, a requester's reply and a new ticket,
// posted as multipart forms: they show in the history and download byte
// for byte. A form over the limit, or without its token, writes nothing.
func TestWorkspaceUpload(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			carol := e.user("carol", false)
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Packet loss to the DC",
				Content: &core.Content{Body: "since 9:00"}})
			if err != nil {
				t.Fatal(err)
			}
			path := "/tickets/" + strconv.FormatInt(tk.ID, 10)
			pcap := make([]byte, 300<<10) // larger than a form's 64 KiB, and not text
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range pcap {
				pcap[i] = byte(rng.Uint32())
			}

			alice := e.browser().signIn("alice")
			alice.get(path).want(http.StatusOK, path, `enctype="multipart/form-data"`, `type="file" name="files"`)
			alice.upload(path+"/reply", []string{"body", "The capture shows the drops."},
				upFile{"trace.pcap", "application/vnd.tcpdump.pcap", pcap}, upFile{"notes.txt", "text/plain", []byte("hop 3 drops 4%")}).
				want(http.StatusOK, path+"?done=reply", "Your reply is sent.", "The capture shows the drops.", "trace.pcap", "notes.txt")
			if resp, body := alice.fetch(alice.fileLink("trace.pcap")); resp.StatusCode != http.StatusOK || body != string(pcap) {
				t.Errorf("download of trace.pcap: %d, %d bytes, identical %v", resp.StatusCode, len(body), body == string(pcap))
			}
			alice.get(path).upload(path+"/comment", []string{"body", "router config attached"},
				upFile{"r1.conf", "text/plain", []byte("interface ge-0/0/0")}).
				want(http.StatusOK, path+"?done=comment", "router config attached", "r1.conf")
			conf := alice.fileLink("r1.conf")

			// Over the limit: refused with the reason, nothing written.
			before := e.historyLen(tk.ID)
			alice.get(path).upload(path+"/reply", []string{"body", "the full dump"},
				upFile{"dump.bin", "application/octet-stream", make([]byte, workspace.MaxUpload)}).
				want(http.StatusRequestEntityTooLarge, path+"/reply", "The attachments are too large", "at most 25 MB")
			// One file over the engine's limit on an attachment (10 MB).
			alice.get(path).upload(path+"/comment", []string{"body", "the image"},
				upFile{"disk.img", "application/octet-stream", make([]byte, 10<<20+1<<19)}).
				want(http.StatusBadRequest, path+"/comment", "disk.img is 10.5 MB: one file may be at most 10.0 MB. Nothing was sent.")
			// A multipart form without its token is refused like any other.
			alice.get(path).upload(path+"/reply", []string{"csrf", "forged", "body", "hello"}, upFile{"x.txt", "text/plain", []byte("x")})
			if alice.code != http.StatusForbidden {
				t.Errorf("a multipart reply without the token: %d", alice.code)
			}
			if n := e.historyLen(tk.ID); n != before {
				t.Errorf("refused uploads wrote %d history rows", n-before)
			}
			// Any form may come as multipart: CheckForm reads its token there.
			alice.get(path).upload(path+"/priority", []string{"priority", "40"}).
				want(http.StatusOK, path+"?done=priority", `<dd id="priority">40</dd>`)
			// An empty file input sends an empty part: that is no file.
			alice.get(path).upload(path+"/comment", []string{"body", "no file here"}, upFile{"", "application/octet-stream", nil}).
				want(http.StatusOK, path+"?done=comment", "no file here")

			// The requester replies with a file, and opens a ticket with one.
			carolB := e.browser().signIn("carol")
			carolB.get(path).want(http.StatusOK, path, `type="file" name="files"`)
			carolB.lacks("r1.conf")
			carolB.upload(path+"/reply", []string{"body", "Here is my traceroute."},
				upFile{"traceroute.txt", "text/plain", []byte("1 gw 0.4 ms\n2 * * *\n")}).
				want(http.StatusOK, path+"?done=reply", "Here is my traceroute.", "traceroute.txt")
			if resp, body := carolB.fetch(carolB.fileLink("traceroute.txt")); resp.StatusCode != http.StatusOK || body != "1 gw 0.4 ms\n2 * * *\n" {
				t.Errorf("the requester's download of her file: %d %q", resp.StatusCode, body)
			}
			if resp, _ := carolB.fetch(conf); resp.StatusCode != http.StatusNotFound {
				t.Errorf("the requester's download of a comment's file: %d", resp.StatusCode)
			}
			alice.get(path).want(http.StatusOK, path, "traceroute.txt")

			carolB.get("/new").want(http.StatusOK, "/new", `enctype="multipart/form-data"`)
			q := regexp.MustCompile(`<option value="([0-9]+)"`).FindStringSubmatch(carolB.body)[1]
			carolB.upload("/new", []string{"queue", q, "subject", "Screen flickers", "body", "see the photo"},
				upFile{"screen.png", "image/png", []byte("\x89PNG\r\n\x1a\nnot really")})
			if !ticketPathRE.MatchString(carolB.url) || !strings.Contains(carolB.body, "screen.png") || !strings.Contains(carolB.body, "see the photo") {
				t.Fatalf("a new ticket with a file: %d at %s:\n%s", carolB.code, carolB.url, carolB.body)
			}
			if resp, body := carolB.fetch(carolB.fileLink("screen.png")); resp.StatusCode != http.StatusOK || body != "\x89PNG\r\n\x1a\nnot really" {
				t.Errorf("download of the new ticket's file: %d %q", resp.StatusCode, body)
			}
			carolB.get("/new").upload("/new", []string{"queue", q, "subject", "Too big"},
				upFile{"big.bin", "application/octet-stream", make([]byte, workspace.MaxUpload)}).
				want(http.StatusRequestEntityTooLarge, "/new", "The attachments are too large")
			carolB.get("/new").upload("/new", []string{"queue", q, "subject", "Too big"},
				upFile{"big.bin", "application/octet-stream", make([]byte, 11<<20)}).
				want(http.StatusBadRequest, "/new", "big.bin is 11.0 MB: one file may be at most 10.0 MB.", `value="Too big"`)
			if res, err := e.eng.Search(e.ctx, core.RootID, `"Too big"`, 10, 0); err != nil || len(res.Tickets) != 0 {
				t.Errorf("an oversized new ticket was created (%v)", err)
			}
		})
	}
}

// In Chromium: an engineer attaches a file to a reply with the file
// picker; the reply and its file are in the history and download whole.
func TestBrowserUpload(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	carol := e.user("carol", false)
	tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Backup job fails",
		Content: &core.Content{Body: "every night"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/tickets/" + strconv.FormatInt(tk.ID, 10)
	file := filepath.Join(t.TempDir(), "backup.log")
	content := "02:00 start\n02:13 ERROR disk full on /srv\n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`#reply-files`)),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/reply"] textarea[name=body]`), "The log says the disk is full."),
		chromedp.SetUploadFiles(chromedp.CSS(`#reply-files`), []string{file}))
	webtest.Submit(t, ctx, `#send-reply`)
	if got := webtest.Text(t, ctx, `#history`); !strings.Contains(got, "The log says the disk is full.") || !strings.Contains(got, "backup.log") {
		t.Fatalf("the history after a reply with a file: %q", got)
	}
	href := webtest.Get(t, ctx, chromedp.AttributeValue(chromedp.CSS(`#history a[href*="/attachments/"]`), "href")).Value
	got := webtest.Get(t, ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if got != content {
		t.Errorf("the file downloaded in the browser: %q", got)
	}
}
