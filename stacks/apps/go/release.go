package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// The releases a rehearsal can deploy (APP_VERSION): the same three in both
// services, read once at start, as a real build would carry its behaviour.
const (
	versionGood       = "good"
	versionBadErrors  = "bad-errors"
	versionBadLatency = "bad-latency"
)

type release struct {
	Version      string
	ErrorPercent int           // bad-errors: share of API requests answered 500
	Latency      time.Duration // bad-latency: added to every API request
}

// loadRelease reads APP_VERSION and its parameters; unset means good.
func loadRelease(getenv func(string) string, number func(string, int) int) (release, error) {
	r := release{
		Version:      getenv("APP_VERSION"),
		ErrorPercent: number("APP_VERSION_ERROR_PERCENT", 50),
		Latency:      time.Duration(number("APP_VERSION_LATENCY_MS", 500)) * time.Millisecond,
	}
	if r.Version == "" {
		r.Version = versionGood
	}
	switch r.Version {
	case versionGood, versionBadErrors, versionBadLatency:
	default:
		return r, fmt.Errorf("APP_VERSION must be %s, %s or %s, got %q",
			versionGood, versionBadErrors, versionBadLatency, r.Version)
	}
	if r.ErrorPercent > 100 {
		return r, fmt.Errorf("APP_VERSION_ERROR_PERCENT must be 0..100, got %d", r.ErrorPercent)
	}
	return r, nil
}

// exempt paths keep answering like a good release: a bad release's bug is in the
// shop, not in its health check, so the load balancer admits it (as in real life).
var exempt = map[string]bool{"/health": true, "/ready": true, "/metrics": true}

// wrap applies the release's fault to API requests and names the version.
func (r release) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-App-Version", r.Version)
		if !exempt[req.URL.Path] {
			switch r.Version {
			case versionBadLatency:
				time.Sleep(r.Latency)
			case versionBadErrors:
				if rand.IntN(100) < r.ErrorPercent {
					writeError(w, http.StatusInternalServerError, "internal",
						"release "+r.Version+": injected failure")
					return
				}
			}
		}
		h.ServeHTTP(w, req)
	})
}
