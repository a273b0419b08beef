// Command shop is the modern sample service of harness: the contract of
// stacks/api.yaml served by one Go binary per "task", configured only from
// the environment (stacks/apps/README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Bugs that APP_BUG can plant, so the harness can prove its checkers fail.
const (
	bugAckBeforeCommit = "ack_before_commit"
	bugSkipStockCheck  = "skip_stock_check"
	// bugRaceWindow: skip_stock_check's pause between its unlocked check and its
	// decrement, so concurrent claims at the last units overlap on every run
	bugRaceWindow = 50 * time.Millisecond
)

type config struct {
	AppName string
	Listen  string

	DBHost, DBPort, DBName, DBUser, DBPassword string
	DBReaderHost, DBReaderPort                 string
	DBConnectTimeout, DBQueryTimeout           time.Duration
	// DBMaxOpenConns per pool, 0 = unlimited (database/sql's default);
	// DBMaxIdleConns 0 keeps none: a new connection per query, no pool
	DBMaxOpenConns, DBMaxIdleConns int
	// DBInterpolateParams is go-sql-driver/mysql's interpolateParams: false (its
	// default) makes every query with arguments a server-side prepared statement,
	// which pins an RDS Proxy session; true sends each query as one text statement
	DBInterpolateParams bool

	AWSEndpoint  string
	AWSRegion    string
	AWSAccessKey string
	AWSSecretKey string
	AWSTimeout   time.Duration // one attempt; the SDK's retries come on top
	// AWSMaxAttempts counts the first try; AWS_MAX_ATTEMPTS is the name every
	// AWS SDK reads (the Go SDK v2's own default is 3)
	AWSMaxAttempts int
	QueueURL       string
	Bucket         string

	ShutdownGrace time.Duration
	Bug           string
	Release       release
}

// loadConfig reads the configuration through lookup (os.LookupEnv); it
// returns the first problem found, worded for a one-line message on stderr.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	var errs []error
	getenv := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	required := func(name string) string {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
		return v
	}
	optional := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	number := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s must be a non-negative integer, got %q", name, v))
			return def
		}
		return n
	}
	millis := func(name string, def int) time.Duration {
		return time.Duration(number(name, def)) * time.Millisecond
	}

	c := config{
		AppName:          optional("APP_NAME", "app"),
		Listen:           required("APP_LISTEN"),
		DBHost:           required("DB_HOST"),
		DBPort:           required("DB_PORT"),
		DBName:           required("DB_NAME"),
		DBUser:           required("DB_USER"),
		DBPassword:       getenv("DB_PASSWORD"),
		DBReaderHost:     getenv("DB_READER_HOST"),
		DBReaderPort:     getenv("DB_READER_PORT"),
		DBConnectTimeout: millis("DB_CONNECT_TIMEOUT_MS", 1000),
		DBQueryTimeout:   millis("DB_QUERY_TIMEOUT_MS", 3000),
		DBMaxOpenConns:   number("DB_MAX_OPEN_CONNS", 20),
		DBMaxIdleConns:   number("DB_MAX_IDLE_CONNS", 10),
		AWSEndpoint:      required("AWS_ENDPOINT_URL"),
		AWSRegion:        optional("AWS_REGION", "us-east-1"),
		AWSAccessKey:     optional("AWS_ACCESS_KEY_ID", "test"),
		AWSSecretKey:     optional("AWS_SECRET_ACCESS_KEY", "test"),
		AWSTimeout:       millis("AWS_TIMEOUT_MS", 3000),
		AWSMaxAttempts:   number("AWS_MAX_ATTEMPTS", retry.DefaultMaxAttempts),
		QueueURL:         required("SQS_QUEUE_URL"),
		Bucket:           getenv("S3_BUCKET"),
		ShutdownGrace:    millis("SHUTDOWN_GRACE_MS", 10000),
		Bug:              getenv("APP_BUG"),
	}
	switch v := getenv("DB_INTERPOLATE_PARAMS"); v {
	case "", "0":
	case "1":
		c.DBInterpolateParams = true
	default:
		errs = append(errs, fmt.Errorf("DB_INTERPOLATE_PARAMS must be 0 or 1, got %q", v))
	}
	// An empty password is a password (root over TCP in a rehearsal), but
	// the variable must be there, so a forgotten one is not mistaken for it.
	if _, ok := lookup("DB_PASSWORD"); !ok {
		errs = append(errs, errors.New("DB_PASSWORD is required (it may be empty)"))
	}
	if c.DBReaderHost != "" && c.DBReaderPort == "" {
		c.DBReaderPort = c.DBPort
	}
	rel, err := loadRelease(getenv, number)
	if err != nil {
		errs = append(errs, err)
	}
	c.Release = rel
	switch c.Bug {
	case "", bugAckBeforeCommit, bugSkipStockCheck:
	default:
		errs = append(errs, fmt.Errorf("APP_BUG must be %s or %s, got %q", bugAckBeforeCommit, bugSkipStockCheck, c.Bug))
	}
	if c.DBConnectTimeout == 0 || c.DBQueryTimeout == 0 || c.AWSTimeout == 0 {
		errs = append(errs, errors.New("DB_CONNECT_TIMEOUT_MS, DB_QUERY_TIMEOUT_MS and AWS_TIMEOUT_MS must be above 0"))
	}
	if c.AWSMaxAttempts == 0 {
		errs = append(errs, errors.New("AWS_MAX_ATTEMPTS must be above 0"))
	}
	if c.DBMaxOpenConns > 0 && c.DBMaxIdleConns > c.DBMaxOpenConns {
		errs = append(errs, fmt.Errorf("DB_MAX_IDLE_CONNS %d is more than DB_MAX_OPEN_CONNS %d: database/sql keeps at most DB_MAX_OPEN_CONNS idle", c.DBMaxIdleConns, c.DBMaxOpenConns))
	}
	if len(errs) > 0 {
		return c, errs[0]
	}
	return c, nil
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shop: %v\n", err)
		os.Exit(2)
	}
	log.SetPrefix(cfg.AppName + " ")
	if err := run(cfg); err != nil {
		log.Printf("fatal: %v", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	pub, err := newPublisher(context.Background(), cfg)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           newServer(cfg, st, pub, newMetrics(st)).routes(),
		ReadHeaderTimeout: 5 * time.Second,
		// No WriteTimeout: a request lives as long as its DB and AWS
		// timeouts allow, and the load balancer has its own.
	}

	// Listen before announcing readiness so a port clash fails fast, with a
	// non-zero exit the orchestrator sees.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("listening on %s (version=%s bug=%q reader=%t s3=%t)", ln.Addr(), cfg.Release.Version, cfg.Bug, cfg.DBReaderHost != "", cfg.Bucket != "")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-errc:
		return err
	case s := <-sigs:
		log.Printf("%s: draining for up to %s", s, cfg.ShutdownGrace)
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// Requests still running past the grace period are cut, as ECS does
		// after stopTimeout; that is not a failure of the shutdown itself.
		log.Printf("grace period over, closing remaining connections: %v", err)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Printf("stopped")
	return nil
}
