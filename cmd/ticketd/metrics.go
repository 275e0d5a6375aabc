package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketd/ticketd/core"
)

// metrics holds what /metrics exports. It observes the HTTP API, the
// engine and the dispatcher, and reads the outbox backlog at scrape time.
type metrics struct {
	reg       *prometheus.Registry
	http      *prometheus.HistogramVec
	actions   *prometheus.HistogramVec
	delivery  *prometheus.HistogramVec
	rateWaits *prometheus.HistogramVec
}

func newMetrics(store core.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ticketd_http_request_duration_seconds", Help: "HTTP requests by route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "code"})
	m.actions = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ticketd_engine_action_duration_seconds", Help: "Engine actions by kind and outcome (ok or an error code).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"action", "outcome"})
	m.delivery = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ticketd_delivery_duration_seconds", Help: "Outbox deliveries by sender and outcome (sent, retry, dead, rate_limited).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"sender", "outcome"})
	m.rateWaits = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ticketd_ratelimit_wait_seconds", Help: "Waits imposed by the rate limiter before a delivery, by sender.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"sender"})
	backlog := func() (float64, float64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var n int
		var oldest time.Time
		err := store.View(ctx, func(tx core.Tx) error {
			var err error
			n, oldest, err = tx.Backlog(ctx)
			return err
		})
		if err != nil {
			return -1, -1
		}
		age := 0.0
		if !oldest.IsZero() {
			age = time.Since(oldest).Seconds()
		}
		return float64(n), age
	}
	m.reg.MustRegister(m.http, m.actions, m.delivery, m.rateWaits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ticketd_outbox_backlog",
			Help: "Outbox messages not yet routed plus deliveries pending (-1: the database did not answer)."},
			func() float64 { n, _ := backlog(); return n }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ticketd_outbox_oldest_age_seconds",
			Help: "Age of the oldest message or delivery in the backlog (0: none)."},
			func() float64 { _, a := backlog(); return a }),
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) observeHTTP(route string, status int, took time.Duration) {
	m.http.WithLabelValues(route, strconv.Itoa(status)).Observe(took.Seconds())
}

func (m *metrics) observeAction(action, outcome string, took time.Duration) {
	m.actions.WithLabelValues(action, outcome).Observe(took.Seconds())
}

// Delivered and RateWait make metrics a core.DispatchObserver.
func (m *metrics) Delivered(sender string, took time.Duration, outcome string) {
	m.delivery.WithLabelValues(sender, outcome).Observe(took.Seconds())
}

func (m *metrics) RateWait(sender string, wait time.Duration) {
	m.rateWaits.WithLabelValues(sender).Observe(wait.Seconds())
}
