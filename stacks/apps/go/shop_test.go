package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func minimalEnv() map[string]string {
	return map[string]string{
		"APP_LISTEN":       "127.0.0.1:18080",
		"DB_HOST":          "127.0.0.1",
		"DB_PORT":          "3306",
		"DB_NAME":          "shop",
		"DB_USER":          "shop",
		"DB_PASSWORD":      "",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
		"SQS_QUEUE_URL":    "http://127.0.0.1:4566/000000000000/orders",
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(minimalEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.AppName != "app" || c.AWSRegion != "us-east-1" || c.AWSAccessKey != "test" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.DBConnectTimeout != time.Second || c.DBQueryTimeout != 3*time.Second || c.ShutdownGrace != 10*time.Second {
		t.Errorf("timeouts: %v %v %v", c.DBConnectTimeout, c.DBQueryTimeout, c.ShutdownGrace)
	}
	if c.AWSTimeout != 3*time.Second || c.AWSMaxAttempts != 3 {
		t.Errorf("aws client: %v, %d attempts (the SDK's default is 3)", c.AWSTimeout, c.AWSMaxAttempts)
	}
	if c.DBMaxOpenConns != 20 || c.DBMaxIdleConns != 10 {
		t.Errorf("pool: %d %d", c.DBMaxOpenConns, c.DBMaxIdleConns)
	}
	if c.DBInterpolateParams {
		t.Error("interpolateParams on by default; go-sql-driver/mysql's default is false")
	}
	if c.DBReaderHost != "" || c.Bucket != "" || c.Bug != "" {
		t.Errorf("optional values set: %+v", c)
	}
}

// The pool settings the profile's app.db_pool gives: 0 open is database/sql's
// unlimited, 0 idle a service without a pool (a new connection per query).
func TestConfigPoolLimitsMayBeZero(t *testing.T) {
	vars := minimalEnv()
	vars["DB_MAX_OPEN_CONNS"] = "0"
	vars["DB_MAX_IDLE_CONNS"] = "0"
	c, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBMaxOpenConns != 0 || c.DBMaxIdleConns != 0 {
		t.Errorf("pool: %d %d, want 0 0", c.DBMaxOpenConns, c.DBMaxIdleConns)
	}
	vars["DB_MAX_IDLE_CONNS"] = "50" // unlimited open: any idle count is kept
	if _, err := loadConfig(env(vars)); err != nil {
		t.Errorf("unlimited open, 50 idle: %v", err)
	}
}

// DB_INTERPOLATE_PARAMS is 0 or 1 (the profile's app.db_pool.interpolate_params).
func TestConfigInterpolateParams(t *testing.T) {
	vars := minimalEnv()
	vars["DB_INTERPOLATE_PARAMS"] = "1"
	c, err := loadConfig(env(vars))
	if err != nil || !c.DBInterpolateParams {
		t.Errorf("DB_INTERPOLATE_PARAMS=1: %v, %v", c.DBInterpolateParams, err)
	}
	vars["DB_INTERPOLATE_PARAMS"] = "yes"
	if _, err := loadConfig(env(vars)); err == nil || !strings.Contains(err.Error(), "DB_INTERPOLATE_PARAMS must be 0 or 1") {
		t.Errorf("DB_INTERPOLATE_PARAMS=yes: %v", err)
	}
}

func TestConfigReaderPortDefaultsToWriterPort(t *testing.T) {
	vars := minimalEnv()
	vars["DB_READER_HOST"] = "127.0.0.2"
	c, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBReaderPort != "3306" {
		t.Errorf("reader port = %q", c.DBReaderPort)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, key, value, want string
		unset                  bool
	}{
		{name: "missing listen", key: "APP_LISTEN", unset: true, want: "APP_LISTEN is required"},
		{name: "empty host", key: "DB_HOST", value: "", want: "DB_HOST is required"},
		{name: "missing password", key: "DB_PASSWORD", unset: true, want: "DB_PASSWORD is required"},
		{name: "missing queue", key: "SQS_QUEUE_URL", unset: true, want: "SQS_QUEUE_URL is required"},
		{name: "bad number", key: "DB_QUERY_TIMEOUT_MS", value: "3s", want: "DB_QUERY_TIMEOUT_MS must be"},
		{name: "negative", key: "DB_MAX_OPEN_CONNS", value: "-1", want: "DB_MAX_OPEN_CONNS must be"},
		{name: "zero timeout", key: "AWS_TIMEOUT_MS", value: "0", want: "must be above 0"},
		{name: "zero attempts", key: "AWS_MAX_ATTEMPTS", value: "0", want: "AWS_MAX_ATTEMPTS must be above 0"},
		{name: "unknown bug", key: "APP_BUG", value: "typo", want: "APP_BUG must be"},
		{name: "idle above open", key: "DB_MAX_IDLE_CONNS", value: "30", want: "DB_MAX_IDLE_CONNS 30 is more than DB_MAX_OPEN_CONNS 20"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := minimalEnv()
			if tc.unset {
				delete(vars, tc.key)
			} else {
				vars[tc.key] = tc.value
			}
			_, err := loadConfig(env(vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidateOrder(t *testing.T) {
	long := strings.Repeat("k", 65)
	cases := []struct {
		req  orderRequest
		want string
	}{
		{orderRequest{ptr[int64](1), ptr[int64](1), ptr("k")}, ""},
		{orderRequest{ptr[int64](1), ptr[int64](100), ptr(strings.Repeat("k", 64))}, ""},
		{orderRequest{ptr[int64](1), ptr[int64](1), ptr("tab\tand\x00nul")}, ""},
		{orderRequest{ptr[int64](1), ptr[int64](1), ptr("é")}, "must be ASCII"},
		{orderRequest{ptr[int64](1), ptr[int64](1), ptr("k\ufffd")}, "must be ASCII"},
		{orderRequest{nil, ptr[int64](1), ptr("k")}, "product_id is required"},
		{orderRequest{ptr[int64](1), nil, ptr("k")}, "quantity is required"},
		{orderRequest{ptr[int64](1), ptr[int64](0), ptr("k")}, "quantity must be"},
		{orderRequest{ptr[int64](1), ptr[int64](101), ptr("k")}, "quantity must be"},
		{orderRequest{ptr[int64](1), ptr[int64](1), nil}, "idempotency_key is required"},
		{orderRequest{ptr[int64](1), ptr[int64](1), ptr("")}, "must not be empty"},
		{orderRequest{ptr[int64](1), ptr[int64](1), &long}, "at most 64"},
	}
	for _, tc := range cases {
		got := validateOrder(tc.req)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("validateOrder(%+v) = %q, want %q", tc.req, got, tc.want)
		}
	}
}

func TestValidateReservation(t *testing.T) {
	for seats, ok := range map[int64]bool{0: false, 1: true, 10: true, 11: false} {
		got := validateReservation(reservationRequest{ptr(seats), ptr("k")})
		if (got == "") != ok {
			t.Errorf("seats=%d: %q", seats, got)
		}
	}
}

// newTestServer has no database and no AWS behind it: only the paths that
// answer before touching either can be exercised.
func newTestServer(t *testing.T) http.Handler {
	t.Helper()
	cfg, err := loadConfig(env(minimalEnv()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AppName = "app-7"
	return newServer(cfg, nil, nil, newMetrics(nil)).routes()
}

func TestHTTPWithoutBackends(t *testing.T) {
	h := newTestServer(t)
	cases := []struct {
		method, path, body string
		code               int
		errCode            string
	}{
		{"GET", "/health", "", 200, ""},
		{"POST", "/orders", `{"product_id": 1, "quantity": 2}`, 400, "invalid_request"},
		{"POST", "/orders", `{"product_id": 1, "quantity": "2", "idempotency_key": "k"}`, 400, "invalid_request"},
		{"POST", "/orders", `{"product_id": 1, "quantity": 2.5, "idempotency_key": "k"}`, 400, "invalid_request"},
		{"POST", "/orders", `{"product_id": 1, "quantity": 2, "idempotency_key": "k"} trailing`, 400, "invalid_request"},
		{"POST", "/orders", `not json`, 400, "invalid_request"},
		{"POST", "/events/3/reservations", `{"seats": 11, "idempotency_key": "k"}`, 400, "invalid_request"},
		{"POST", "/events/x/reservations", `{"seats": 1, "idempotency_key": "k"}`, 404, "not_found"},
		{"GET", "/products/abc", "", 404, "not_found"},
		{"GET", "/nowhere", "", 404, "not_found"},
		{"DELETE", "/orders/1", "", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if got := rec.Header().Get("X-Served-By"); got != "app-7" {
				t.Errorf("X-Served-By = %q", got)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not a JSON object: %q", rec.Body)
			}
			if tc.errCode != "" && (body["error"] != tc.errCode || body["message"] == "") {
				t.Errorf("body = %v, want error %q with a message", body, tc.errCode)
			}
		})
	}
}

func TestMetricsExposition(t *testing.T) {
	h := newTestServer(t)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/health", nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, want := range []string{
		`harness_app_requests_total{code="200",route="GET /health"} 1`,
		"harness_app_orders_created_total 0",
		"harness_app_request_duration_seconds_bucket",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
