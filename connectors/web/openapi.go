package web

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDoc is the OpenAPI 3 description of the API, kept by hand next to
// the code; TestOpenAPICoversRoutes keeps it in step with routes.
//
//go:embed openapi.json
var openAPIDoc []byte

func (a *API) openAPI(c *call) error {
	h := c.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		_, _ = c.w.Write(openAPIDoc)
	}
	return nil
}
