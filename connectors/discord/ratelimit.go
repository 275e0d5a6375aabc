package discord

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/core"
)

// Discord's rate limits, as its REST API publishes them: every answer
// carries the bucket of its route (X-RateLimit-Bucket), what is left in it
// (X-RateLimit-Remaining) and when it refills (X-RateLimit-Reset-After); a
// 429 says how long to wait (Retry-After, retry_after) and whether the
// limit is global (X-RateLimit-Global, X-RateLimit-Scope).
//
// The transport below keeps that state per route and refuses, without
// sending, a request whose bucket or the global limit is exhausted; a 429
// is returned as an error, never retried here. The dispatcher turns both
// into a wait (core.RetryAfterError). discordgo's own bucket limiter would
// sleep inside the call instead, where no context or dispatcher sees it: the
// transport keeps the rate-limit headers from it, so its buckets never wait.

// RateLimitedError is a request refused for Discord's rate limits: answered
// 429, or not sent because its bucket is known to be empty until After.
type RateLimitedError struct {
	Route  string        // "POST /channels/{id}/messages"
	After  time.Duration // wait this long
	Global bool          // the bot's global limit, not the route's
	Scope  string        // X-RateLimit-Scope: user, global or shared
	Sent   bool          // Discord answered 429 (else refused before sending)
}

func (e *RateLimitedError) Error() string {
	what := "route " + e.Route
	if e.Global {
		what = "the global limit"
	}
	if e.Sent {
		return fmt.Sprintf("discord: 429 on %s, retry after %s", what, e.After)
	}
	return fmt.Sprintf("discord: %s is exhausted for %s", what, e.After)
}

// transport sends the REST calls of a discordgo session: to APIURL when it
// is set (tests, proxies), through the bucket state of the answers.
type transport struct {
	next  http.RoundTripper
	base  string // Discord's REST base (discordgo.EndpointAPI)
	to    string // where to send it instead; "" for Discord's
	clock core.Clock

	mu      sync.Mutex
	routes  map[string]string  // route -> bucket hash
	buckets map[string]*bucket // hash + major parameters (or route) -> state
	global  time.Time          // every route waits until then
}

type bucket struct {
	remaining int
	reset     time.Time
}

func newTransport(next http.RoundTripper, apiURL string, clock core.Clock) *transport {
	if next == nil {
		next = http.DefaultTransport
	}
	if apiURL != "" && !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return &transport{next: next, base: discordgo.EndpointAPI, to: apiURL, clock: clock,
		routes: map[string]string{}, buckets: map[string]*bucket{}}
}

// snowflake matches the ids in a path; the first one after channels,
// guilds or webhooks is a major parameter (its own bucket), others are not.
var snowflake = regexp.MustCompile(`^[0-9]{5,25}$`)

// route names a request as Discord buckets it: its method and path with
// minor ids replaced, and the major parameters it is bucketed by.
func route(method, path string) (route, major string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var majors []string
	for i, p := range parts {
		switch {
		case i > 0 && (parts[i-1] == "channels" || parts[i-1] == "guilds" || parts[i-1] == "webhooks") && p != "@me":
			majors = append(majors, p)
			if parts[i-1] == "webhooks" && i+1 < len(parts) {
				majors = append(majors, parts[i+1]) // the webhook's token
			}
			parts[i] = "{" + parts[i-1] + "}"
		case i > 0 && parts[i-1] == "interactions":
			parts[i] = "{id}"
			if i+1 < len(parts) {
				parts[i+1] = "{token}"
			}
		case i > 1 && parts[i-2] == "webhooks":
			parts[i] = "{token}"
		case snowflake.MatchString(p):
			parts[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(parts, "/"), strings.Join(majors, "/")
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	path := req.URL.Path
	if rest, ok := strings.CutPrefix(u, t.base); ok {
		path = "/" + strings.SplitN(rest, "?", 2)[0]
		if t.to != "" {
			nu, err := url.Parse(t.to + rest)
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.URL, req.Host = nu, nu.Host
		}
	}
	rt, major := route(req.Method, path)
	interaction := strings.Contains(rt, "/interactions/") // not under the global limit
	now := t.clock.Now()

	t.mu.Lock()
	key := rt + " " + major
	if h, ok := t.routes[rt]; ok {
		key = h + " " + major
	}
	if !interaction && now.Before(t.global) {
		wait := t.global.Sub(now)
		t.mu.Unlock()
		return nil, &RateLimitedError{Route: rt, After: wait, Global: true, Scope: "global"}
	}
	if b := t.buckets[key]; b != nil && b.remaining <= 0 && now.Before(b.reset) {
		wait := b.reset.Sub(now)
		t.mu.Unlock()
		return nil, &RateLimitedError{Route: rt, After: wait}
	}
	t.mu.Unlock()

	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	now = t.clock.Now()
	h := resp.Header
	t.mu.Lock()
	if hash := h.Get("X-RateLimit-Bucket"); hash != "" {
		t.routes[rt] = hash
		key = hash + " " + major
	}
	if rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil {
		b := t.buckets[key]
		if b == nil {
			if len(t.buckets) > 10_000 {
				clear(t.buckets)
			}
			b = &bucket{}
			t.buckets[key] = b
		}
		b.remaining = rem
		if after, ok := seconds(h.Get("X-RateLimit-Reset-After")); ok {
			b.reset = now.Add(after)
		}
	}
	t.mu.Unlock()

	if resp.StatusCode == http.StatusTooManyRequests {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		e := &RateLimitedError{Route: rt, Sent: true, Scope: h.Get("X-RateLimit-Scope")}
		var m struct {
			RetryAfter float64 `json:"retry_after"`
			Global     bool    `json:"global"`
		}
		json.Unmarshal(body, &m)
		e.After, _ = seconds(h.Get("Retry-After"))
		if d := time.Duration(m.RetryAfter * float64(time.Second)); d > e.After {
			e.After = d
		}
		if e.After <= 0 {
			e.After = DefaultRetryAfter
		}
		e.Global = m.Global || strings.EqualFold(h.Get("X-RateLimit-Global"), "true") || e.Scope == "global"
		t.mu.Lock()
		if e.Global {
			if until := now.Add(e.After); until.After(t.global) {
				t.global = until
			}
		} else {
			b := t.buckets[key]
			if b == nil {
				b = &bucket{}
				t.buckets[key] = b
			}
			b.remaining, b.reset = 0, now.Add(e.After)
		}
		t.mu.Unlock()
		return nil, e
	}
	// discordgo's limiter must not see these, or it sleeps by them.
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-ratelimit-") {
			h.Del(k)
		}
	}
	return resp, nil
}

// seconds reads a number of seconds such as "1", "0.250" or "2.5".
func seconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 86400 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
