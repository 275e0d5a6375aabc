package workspace_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/web/workspace"
)

// htmx is served as committed (the sha256 static/htmx.VERSION records),
// kept a year by browsers under a versioned address that the pages use,
// and configured by a meta tag to need no inline style and no eval.
func TestStaticHtmx(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	b := e.browser()
	version, err := os.ReadFile("static/htmx.VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(version), "htmx.org "+workspace.HtmxVersion+" ") {
		t.Fatalf("static/htmx.VERSION does not name version %s:\n%s", workspace.HtmxVersion, version)
	}
	resp, body := b.fetch("/static/htmx.min.js?v=" + workspace.HtmxVersion)
	sum := sha256.Sum256([]byte(body))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(version), "htmx.min.js: "+hex.EncodeToString(sum[:])) {
		t.Fatalf("/static/htmx.min.js: %d, sha256 %x not the one written down", resp.StatusCode, sum)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("htmx Cache-Control: %q", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("htmx Content-Type: %q", ct)
	}
	for _, js := range []string{"/static/keys.js", "/static/live.js"} {
		if resp, _ := b.fetch(js); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", js, resp.StatusCode)
		}
	}
	b.signIn("alice").get("/").want(http.StatusOK, "/",
		`<script src="/static/htmx.min.js?v=`+workspace.HtmxVersion+`" defer></script>`,
		`<script src="/static/keys.js" defer></script>`,
		`"includeIndicatorStyles":false`, `"allowEval":false`, `"allowScriptTags":false`)
}

// uPlot is served as committed (the sha256 sums static/uPlot.VERSION
// records), kept a year under the versioned addresses the reports page
// uses.
func TestStaticUPlot(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	b := e.browser()
	version, err := os.ReadFile("static/uPlot.VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(version), "uPlot "+workspace.UPlotVersion+" ") {
		t.Fatalf("static/uPlot.VERSION does not name version %s:\n%s", workspace.UPlotVersion, version)
	}
	for _, f := range []string{"uPlot.iife.min.js", "uPlot.min.css"} {
		resp, body := b.fetch("/static/" + f + "?v=" + workspace.UPlotVersion)
		sum := sha256.Sum256([]byte(body))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(version), f+": "+hex.EncodeToString(sum[:])) {
			t.Errorf("/static/%s: %d, sha256 %x not the one written down", f, resp.StatusCode, sum)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s Cache-Control: %q", f, cc)
		}
	}
	if resp, _ := b.fetch("/static/reports.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("/static/reports.js: %d", resp.StatusCode)
	}
	b.signIn("alice").get("/reports").want(http.StatusOK, "/reports",
		`<script src="/static/uPlot.iife.min.js?v=`+workspace.UPlotVersion+`" defer></script>`,
		`<link rel="stylesheet" href="/static/uPlot.min.css?v=`+workspace.UPlotVersion+`">`)
}
