package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files of the parser corpus")

// summary is what the golden files record of a parsed message.
type summary struct {
	MessageID  string   `json:"message_id,omitempty"`
	InReplyTo  []string `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	ReportIDs  []string `json:"report_ids,omitempty"`
	From       string   `json:"from,omitempty"`
	To         []string `json:"to,omitempty"`
	ReturnPath *string  `json:"return_path,omitempty"`
	Subject    string   `json:"subject"`
	Date       string   `json:"date,omitempty"`
	Text       string   `json:"text"`
	HTML       string   `json:"html,omitempty"`
	Files      []string `json:"files,omitempty"` // name | type | size | sha256 prefix | cid | inline
	Charsets   []string `json:"charsets,omitempty"`
	Notes      []string `json:"notes,omitempty"`
	Auto       string   `json:"auto,omitempty"`
	Loop       []string `json:"loop,omitempty"`
}

func summarize(m *Message) summary {
	s := summary{MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, ReportIDs: m.ReportIDs,
		From: display(m.From), ReturnPath: m.ReturnPath, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Charsets: m.Charsets, Notes: m.Notes, Auto: m.Auto, Loop: m.Loop}
	for _, a := range m.To {
		s.To = append(s.To, display(a))
	}
	if !m.Date.IsZero() {
		s.Date = m.Date.UTC().Format("2006-01-02T15:04:05Z")
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(f.Data)
		line := strings.Join([]string{f.Name, f.ContentType, itoa(len(f.Data)), hex.EncodeToString(sum[:6])}, " | ")
		if f.ContentID != "" {
			line += " | cid:" + f.ContentID
		}
		if f.Inline {
			line += " | inline"
		}
		s.Files = append(s.Files, line)
	}
	return s
}

func display(a Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestCorpus parses every message of testdata/corpus and compares a summary
// with its golden file (go test -run TestCorpus -update rewrites them).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m := Parse(raw, Limits{})
			checkClean(t, m)
			got, err := json.MarshalIndent(summarize(m), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCorpus -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("summary differs from %s:\n got %s\nwant %s", golden, got, want)
			}
		})
	}
}

// checkClean: every string the parser returns is valid UTF-8 without NUL.
func checkClean(t *testing.T, m *Message) {
	t.Helper()
	strs := []string{m.Header, m.MessageID, m.Subject, m.Text, m.HTML, m.Auto, m.From.Name, m.From.Address}
	strs = append(strs, m.Notes...)
	strs = append(strs, m.Charsets...)
	strs = append(strs, m.InReplyTo...)
	strs = append(strs, m.References...)
	for _, f := range m.Files {
		strs = append(strs, f.Name, f.ContentType, f.ContentID)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Errorf("not clean text: %q", s)
		}
	}
}

func parseFile(t *testing.T, name string) *Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata/corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(raw, Limits{})
}

func fileNamed(t *testing.T, m *Message, name string) File {
	t.Helper()
	for _, f := range m.Files {
		if f.Name == name {
			return f
		}
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	t.Fatalf("no file %q among %q", name, names)
	return File{}
}

// The properties the corpus is about, spelled out (the golden files catch
// every other change).
func TestAttachmentsByteForByte(t *testing.T) {
	m := parseFile(t, "attachments.eml")
	want := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 4)
	if got := fileNamed(t, m, "dump.bin").Data; !bytes.Equal(got, want) {
		t.Errorf("dump.bin: %d bytes, not the 1024 bytes attached", len(got))
	}
	koi := fileNamed(t, m, "notes-koi8.txt")
	if !bytes.Equal(koi.Data, []byte("\xf0\xd2\xc9\xd7\xc5\xd4, \xd3\xc5\xd4\xd8 \xd5\xd0\xc1\xcc\xc1\r\n")) {
		t.Errorf("a KOI8-R text attachment must keep its bytes: %q", koi.Data)
	}
	if koi.ContentType != "text/plain; charset=koi8-r" {
		t.Errorf("content type %q", koi.ContentType)
	}
	if got := fileNamed(t, m, "crlf.txt").Data; string(got) != "line one\r\nline two\r\nline three" {
		t.Errorf("quoted-printable file: %q", got)
	}
	png := fileNamed(t, m, "part-1.png")
	if !png.Inline || png.ContentID != "img1@example.org" || !bytes.HasPrefix(png.Data, []byte("\x89PNG")) {
		t.Errorf("inline image: %+v", png)
	}
	if m.Text != "Logs and a screenshot attached." {
		t.Errorf("text %q", m.Text)
	}
}

func TestCharsets(t *testing.T) {
	for file, want := range map[string]string{
		"charset-iso-8859-1.eml":       "Le réseau est 'lent' - déjà vu.",
		"charset-windows-1252.eml":     "“quoted” – €5 naïve",
		"charset-iso-8859-2.eml":       "Zażółć gęślą jaźń.",
		"charset-iso-8859-15.eml":      "Prix: 100 €, œuvre.",
		"charset-koi8-r.eml":           "Сервер не отвечает.",
		"charset-gb18030.eml":          "服务器无法访问。",
		"charset-shift_jis.eml":        "サーバーがダウンしています。",
		"charset-windows-1251.eml":     "Сбой сети — «срочно».",
		"charset-utf8-invalid.eml":     "Grüße \uFFFD broken \uFFFD end",
		"charset-utf8-mislabelled.eml": "café crème",
		"charset-unknown.eml":          "café",
		"charset-unknown-utf8.eml":     "naïve ✓",
		"charset-none-8bit.eml":        "été",
		"rfc2047.eml":                  "Grüße aus München.",
		"html-only.eml":                "Café réseau & core switch down.",
		"alternative.eml":              "The BGP session to AS64500 flaps every 3 minutes — since 07:00.\nSoft break joined.",
		"forwarded.eml":                "/var is 100% full. Café.",
		"flowed.eml":                   "This paragraph is long and was wrapped by the mail client at seventy-two characters, with soft breaks.",
		"broken-multipart.eml":         "The closing boundary never comes.",
		"related.eml":                  "See the graph.",
		"commands.eml":                 "/take\n/priority 80\n\nOn it, rebooting the line card.",
		"reply-quoted.eml":             "It is back since 09:20, thanks!",
		"no-boundary.eml":              "Just text, really.",
		"mbox-lf.eml":                  "LF only.",
		"utf8-headers.eml":             "Body.",
	} {
		m := parseFile(t, file)
		if !strings.Contains(m.Text, want) {
			t.Errorf("%s: text %q does not contain %q", file, m.Text, want)
		}
	}
	for file, want := range map[string]string{
		"charset-koi8-r.eml":    "Сервер упал",
		"charset-gb18030.eml":   "服务器故障",
		"charset-shift_jis.eml": "障害報告",
		"rfc2047.eml":           "Störung im Rechenzentrum € 100 plain tail",
		"utf8-headers.eml":      "Störung — réseau 断开",
		"latin1-header.eml":     "café down",
	} {
		if m := parseFile(t, file); m.Subject != want {
			t.Errorf("%s: subject %q, want %q", file, m.Subject, want)
		}
	}
	if m := parseFile(t, "rfc2047.eml"); m.From.Name != "André Müller" || m.From.Address != "andre@example.org" {
		t.Errorf("encoded display name: %+v", m.From)
	}
}

func TestFileNames(t *testing.T) {
	m := parseFile(t, "rfc2231.eml")
	for _, name := range []string{"€ rates 2026.pdf", "café menu.txt", "отчёт.docx", "passwd"} {
		fileNamed(t, m, name)
	}
	if got := fileNamed(t, m, "€ rates 2026.pdf").Data; string(got) != "%PDF-1.4\n" {
		t.Errorf("pdf bytes %q", got)
	}
}

func TestAutoAndLoop(t *testing.T) {
	for file, want := range map[string]string{
		"auto-replied.eml":      "Auto-Submitted: auto-replied",
		"precedence-bulk.eml":   "Precedence: bulk",
		"empty-return-path.eml": "empty Return-Path",
		"postmaster.eml":        "sender is postmaster",
		"list.eml":              "mailing list (List-Id)",
		"bounce.eml":            "Auto-Submitted: auto-replied",
		"plain.eml":             "",
		"reply-quoted.eml":      "",
	} {
		if got := parseFile(t, file).Auto; got != want {
			t.Errorf("%s: auto %q, want %q", file, got, want)
		}
	}
	if m := parseFile(t, "loop.eml"); len(m.Loop) != 1 || m.Loop[0] != "example.net" {
		t.Errorf("loop header: %q", m.Loop)
	}
	m := parseFile(t, "bounce.eml")
	if strings.Join(m.ReportIDs, " ") != "ticketd.42.7.a1b2c3@example.net ticketd.42@example.net" {
		t.Errorf("report ids %q", m.ReportIDs)
	}
	if !strings.Contains(m.Text, "550 5.1.1 User unknown") {
		t.Errorf("bounce text %q", m.Text)
	}
	fileNamed(t, m, "delivery-status.txt")
	fileNamed(t, m, "original-headers.txt")
}

func TestHTMLToText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"x<br>y<br/>z", "x\ny\nz"},
		{"<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
		{`<a href="https://x.example/">site</a>`, "site <https://x.example/>"},
		{`<a href="https://x.example/">https://x.example/</a>`, "https://x.example/"},
		{"<blockquote>quoted<br>more</blockquote>after", "> quoted\n> more\n\nafter"},
		{"<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"<style>x{}</style><script>y()</script>t &lt;&amp;&gt; &eacute;", "t <&> é"},
		{"<p>  lots   of\n\n white   space </p>", "lots of white space"},
	} {
		if got := htmlToText(c.in); got != c.want {
			t.Errorf("htmlToText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMediaType(t *testing.T) {
	for _, c := range []struct {
		in, typ string
		params  map[string]string
	}{
		{`text/plain; charset="UTF-8"; format=flowed`, "text/plain", map[string]string{"charset": "UTF-8", "format": "flowed"}},
		{`attachment; filename=report 2026.pdf`, "attachment", map[string]string{"filename": "report 2026.pdf"}},
		{`attachment; filename="a\"b.txt"`, "attachment", map[string]string{"filename": `a"b.txt`}},
		{`attachment; filename*=utf-8''%C3%A9t%C3%A9.txt; filename="ete.txt"`, "attachment", map[string]string{"filename": "été.txt"}},
		{`attachment; filename*0="long "; filename*1="name.txt"`, "attachment", map[string]string{"filename": "long name.txt"}},
		{`attachment; filename*0*=koi8-r''%F3%C5%D4%D8; filename*2=gap`, "attachment", map[string]string{"filename": "Сеть"}},
		{`TEXT/HTML;CHARSET=iso-8859-1;;`, "text/html", map[string]string{"charset": "iso-8859-1"}},
		{`multipart/mixed; boundary=----=_Part_1; boundary=second`, "multipart/mixed", map[string]string{"boundary": "----=_Part_1"}},
		{`text/plain charset=utf-8`, "text/plain", map[string]string{}},
		{``, "", map[string]string{}},
	} {
		typ, params := mediaType(c.in)
		if typ != c.typ || len(params) != len(c.params) {
			t.Errorf("mediaType(%q) = %q %q, want %q %q", c.in, typ, params, c.typ, c.params)
			continue
		}
		for k, v := range c.params {
			if params[k] != v {
				t.Errorf("mediaType(%q)[%s] = %q, want %q", c.in, k, params[k], v)
			}
		}
	}
}

func TestMessageIDs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"<a@b> <c@d>", "a@b c@d"},
		{" <a@b>\t(comment) <c@d>", "a@b c@d"},
		{"a@b c@d", "a@b c@d"},
		{"<>", ""},
		{"<a b@c>", ""},
		{"<unclosed@x", ""},
	} {
		if got := strings.Join(messageIDs(c.in), " "); got != c.want {
			t.Errorf("messageIDs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	for i := 0; i < 40; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + itoa(i) + "\"\r\n\r\n--b" + itoa(i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep text\r\n")
	m := Parse([]byte(b.String()), Limits{MaxDepth: 5})
	if len(m.Files) != 1 || !strings.Contains(strings.Join(m.Notes, ";"), "nested deeper than 5") {
		t.Errorf("depth limit: files %d notes %q", len(m.Files), m.Notes)
	}
	b.Reset()
	b.WriteString("Subject: wide\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n")
	for i := 0; i < 50; i++ {
		b.WriteString("--w\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n")
	}
	b.WriteString("--w--\r\n")
	m = Parse([]byte(b.String()), Limits{MaxParts: 10})
	if len(m.Files) != 9 || !strings.Contains(strings.Join(m.Notes, ";"), "more than 10 MIME parts") {
		t.Errorf("parts limit: files %d notes %q", len(m.Files), m.Notes)
	}
}
