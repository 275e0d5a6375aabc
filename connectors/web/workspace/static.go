package workspace

import (
	"embed"
	"net/http"
)

// staticFS holds the workspace's scripts, none of which a page needs to
// work: htmx (htmx.org, see static/htmx.VERSION), live.js (live updates:
// the parts of a page marked data-swap are fetched again by htmx when
// /events says a ticket changed), keys.js (keyboard shortcuts), uPlot
// (uPlot.iife.min.js and uPlot.min.css, see static/uPlot.VERSION) and
// reports.js, which draws a report's chart with it.
//
//go:embed static/*.js static/*.css static/htmx.VERSION static/uPlot.VERSION
var staticFS embed.FS

// HtmxVersion is the version of static/htmx.min.js; pages load it as
// /static/htmx.min.js?v=HtmxVersion, so that a new version is fetched
// although browsers keep the file a year.
const HtmxVersion = "2.0.11"

func (h *Handler) mountStatic(mux *http.ServeMux) {
	files := http.FileServerFS(staticFS)
	mux.Handle("GET /static/live.js", files)
	mux.Handle("GET /static/keys.js", files)
	mux.Handle("GET /static/reports.js", files)
	for _, f := range []string{"uPlot.iife.min.js", "uPlot.min.css"} {
		mux.HandleFunc("GET /static/"+f, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
		})
	}
	mux.HandleFunc("GET /static/htmx.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}
