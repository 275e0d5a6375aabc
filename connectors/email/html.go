package email

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLTokens bounds the work of turning one HTML body into text.
const maxHTMLTokens = 1 << 20

// htmlToText renders an HTML body as plain text for the ticket's history
// and chat: blocks become lines, list items "- ", links "text <url>",
// <blockquote> "> " lines (so that quoted replies look quoted), and
// <script>, <style> and <head> vanish. Entities are decoded.
func htmlToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	var line strings.Builder // the current line, whitespace collapsed
	quote := 0               // blockquote depth
	skip := 0                // inside script/style/head/title
	pre := 0
	var href []string // open <a> targets
	var linkText []string
	space := false
	flush := func(force bool) {
		s := strings.TrimRight(line.String(), " ")
		line.Reset()
		space = false
		if s == "" && !force {
			return
		}
		b.WriteString(strings.Repeat("> ", quote))
		b.WriteString(s)
		b.WriteByte('\n')
	}
	blank := func() {
		flush(false)
		out := b.String()
		if out != "" && !strings.HasSuffix(out, "\n\n") {
			b.WriteString(strings.TrimRight(strings.Repeat("> ", quote), " "))
			b.WriteByte('\n')
		}
	}
	text := func(s string) {
		if pre > 0 {
			for i, l := range strings.Split(s, "\n") {
				if i > 0 {
					flush(true)
				}
				line.WriteString(strings.ReplaceAll(l, "\r", ""))
			}
			return
		}
		for _, r := range s {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00a0' {
				space = true
				continue
			}
			if space && line.Len() > 0 {
				line.WriteByte(' ')
			}
			space = false
			line.WriteRune(r)
		}
		if len(linkText) > 0 {
			linkText[len(linkText)-1] += s
		}
	}
	for n := 0; n < maxHTMLTokens; n++ {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if skip == 0 {
				text(tok.Data)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch tok.DataAtom {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
				if tt == html.StartTagToken {
					skip++
				}
			case atom.Br:
				flush(true)
			case atom.P, atom.Div, atom.Table, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dl:
				blank()
			case atom.Tr, atom.Dt, atom.Dd:
				flush(false)
			case atom.Td, atom.Th:
				if line.Len() > 0 {
					line.WriteString("  ")
				}
			case atom.Li:
				flush(false)
				line.WriteString("- ")
			case atom.Hr:
				flush(false)
				b.WriteString("----\n")
			case atom.Blockquote:
				blank()
				quote++
			case atom.Pre:
				flush(false)
				pre++
			case atom.Img:
				for _, a := range tok.Attr {
					if a.Key == "alt" && strings.TrimSpace(a.Val) != "" {
						text("[" + strings.TrimSpace(a.Val) + "]")
					}
				}
			case atom.A:
				target := ""
				for _, a := range tok.Attr {
					if a.Key == "href" {
						target = strings.TrimSpace(a.Val)
					}
				}
				href = append(href, target)
				linkText = append(linkText, "")
			}
		case html.EndTagToken:
			switch tok.DataAtom {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
				if skip > 0 {
					skip--
				}
			case atom.P, atom.Div, atom.Table, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dl:
				blank()
			case atom.Tr, atom.Li, atom.Dt, atom.Dd:
				flush(false)
			case atom.Blockquote:
				flush(false)
				if quote > 0 {
					quote--
				}
				blank()
			case atom.Pre:
				flush(false)
				if pre > 0 {
					pre--
				}
			case atom.A:
				if len(href) > 0 {
					target, label := href[len(href)-1], strings.TrimSpace(linkText[len(linkText)-1])
					href, linkText = href[:len(href)-1], linkText[:len(linkText)-1]
					if target != "" && !strings.HasPrefix(strings.ToLower(target), "mailto:") &&
						!strings.HasPrefix(target, "#") && label != target && skip == 0 {
						text(" <" + target + ">")
					}
				}
			}
		}
	}
	flush(false)
	return tidyText(b.String())
}

// tidyText trims trailing spaces, and blank lines at the ends and in runs.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blanks := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(strings.ReplaceAll(l, ">", "")) == "" {
			blanks++
			continue
		}
		if blanks > 0 && len(out) > 0 {
			out = append(out, "")
		}
		blanks = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// sniffHTMLCharset finds the charset an HTML body declares in a <meta>
// tag, for HTML parts whose Content-Type says none.
func sniffHTMLCharset(b []byte) string {
	head := b
	if len(head) > 4096 {
		head = head[:4096]
	}
	z := html.NewTokenizer(bytes.NewReader(head))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.DataAtom != atom.Meta {
			continue
		}
		var cs, content string
		isCT := false
		for _, a := range tok.Attr {
			switch strings.ToLower(a.Key) {
			case "charset":
				cs = a.Val
			case "http-equiv":
				isCT = strings.EqualFold(a.Val, "content-type")
			case "content":
				content = a.Val
			}
		}
		if cs != "" {
			return cs
		}
		if isCT {
			if _, p := mediaType(content); p["charset"] != "" {
				return p["charset"]
			}
		}
	}
}
