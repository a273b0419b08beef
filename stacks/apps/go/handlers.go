package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBody bounds what a client can make us read; real requests are tiny.
const maxBody = 64 << 10

type server struct {
	cfg     config
	store   *store
	pub     *publisher
	metrics *metrics
	mux     *http.ServeMux
}

func newServer(cfg config, st *store, pub *publisher, m *metrics) *server {
	return &server{cfg: cfg, store: st, pub: pub, metrics: m, mux: http.NewServeMux()}
}

func (s *server) routes() http.Handler {
	s.handle("GET /health", s.health)
	s.handle("GET /ready", s.ready)
	s.handle("GET /products", s.listProducts)
	s.handle("GET /products/{id}", s.getProduct)
	s.handle("POST /orders", s.createOrder)
	s.handle("GET /orders/{id}", s.getOrder)
	s.handle("GET /events/{id}", s.getEvent)
	s.handle("POST /events/{id}/reservations", s.createReservation)
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", s.metrics.handler()))
	// The mux's own 404 and 405 answers are text/plain; this keeps every
	// answer JSON.
	s.mux.Handle("/", s.instrument("other", http.HandlerFunc(s.unrouted)))
	// the release wraps routing: an injected failure never reaches a handler (no side effects)
	inner := s.cfg.Release.wrap(s.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Set before routing, so even the mux's own redirects carry it.
		w.Header().Set("X-Served-By", s.cfg.AppName)
		inner.ServeHTTP(w, r)
	})
}

func (s *server) handle(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.instrument(pattern, h))
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.DBConnectTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "database: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) listProducts(w http.ResponseWriter, r *http.Request) {
	products, err := s.store.Products(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, products)
}

func (s *server) getProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "product")
	if !ok {
		return
	}
	p, err := s.store.Product(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "event")
	if !ok {
		return
	}
	e, err := s.store.Event(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *server) getOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "order")
	if !ok {
		return
	}
	o, err := s.store.Order(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

type orderRequest struct {
	ProductID      *int64  `json:"product_id"`
	Quantity       *int64  `json:"quantity"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type reservationRequest struct {
	Seats          *int64  `json:"seats"`
	IdempotencyKey *string `json:"idempotency_key"`
}

func (s *server) createOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if msg := decode(w, r, &req); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	if msg := validateOrder(req); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	o, created, err := s.store.CreateOrder(r.Context(), *req.ProductID, *req.Quantity, *req.IdempotencyKey)
	switch {
	case errors.Is(err, errNotEnough):
		writeError(w, http.StatusConflict, "out_of_stock", fmt.Sprintf("product %d has fewer than %d left", *req.ProductID, *req.Quantity))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	// The order is committed; a client that hangs up now must not stop it
	// from being announced.
	if err := s.pub.PublishOrder(context.WithoutCancel(r.Context()), o); err != nil {
		log.Printf("order %d committed but not published: %v", o.OrderID, err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "order stored but not published: "+err.Error())
		return
	}
	if created {
		s.metrics.ordersCreated.Inc()
		writeJSON(w, http.StatusCreated, o)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *server) createReservation(w http.ResponseWriter, r *http.Request) {
	eventID, ok := pathID(w, r, "event")
	if !ok {
		return
	}
	var req reservationRequest
	if msg := decode(w, r, &req); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	if msg := validateReservation(req); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	res, created, err := s.store.CreateReservation(r.Context(), eventID, *req.Seats, *req.IdempotencyKey)
	switch {
	case errors.Is(err, errNotEnough):
		writeError(w, http.StatusConflict, "sold_out", fmt.Sprintf("event %d has fewer than %d seats left", eventID, *req.Seats))
	case err != nil:
		s.fail(w, r, err)
	case created:
		writeJSON(w, http.StatusCreated, res)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *server) unrouted(w http.ResponseWriter, r *http.Request) {
	// Tell a wrong method from a wrong path, as the mux would.
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no route "+r.URL.Path)
}

// fail answers the errors every handler shares: a missing row or an
// unavailable database.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such resource")
		return
	}
	log.Printf("%s %s: database: %v", r.Method, r.URL.Path, err)
	writeError(w, http.StatusServiceUnavailable, "unavailable", "database: "+err.Error())
}

// pathID answers 404 itself for an id that is not an integer: no such
// resource can exist.
func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no %s %q", what, raw))
		return 0, false
	}
	return id, true
}

// decode returns why the body is not one JSON object of the expected
// shape, or "" when it is.
func decode(w http.ResponseWriter, r *http.Request, v any) string {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return "body: " + err.Error()
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "body must be a JSON object: " + err.Error()
	}
	return ""
}

func validateOrder(req orderRequest) string {
	switch {
	case req.ProductID == nil:
		return "product_id is required"
	case req.Quantity == nil:
		return "quantity is required"
	case *req.Quantity < 1 || *req.Quantity > 100:
		return "quantity must be between 1 and 100"
	}
	return validateKey(req.IdempotencyKey)
}

func validateReservation(req reservationRequest) string {
	switch {
	case req.Seats == nil:
		return "seats is required"
	case *req.Seats < 1 || *req.Seats > 10:
		return "seats must be between 1 and 10"
	}
	return validateKey(req.IdempotencyKey)
}

func validateKey(key *string) string {
	switch {
	case key == nil:
		return "idempotency_key is required"
	case *key == "":
		return "idempotency_key must not be empty"
	case utf8.RuneCountInString(*key) > 64: // the column is VARCHAR(64): characters
		return "idempotency_key must be at most 64 characters"
	case !isASCII(*key):
		// The column is ASCII (schema.sql): the database would refuse the key,
		// and a client's mistake must not look like a database outage (503).
		return "idempotency_key must be ASCII"
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, errorBody{errCode, msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("writing response: %v", err)
	}
}
