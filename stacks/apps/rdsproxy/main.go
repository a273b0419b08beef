// rdsproxy: an RDS Proxy stand-in between the Go tasks and the Aurora writer.
//
// Clients (the tasks' connection pools) connect to it as to MySQL. Their
// transactions run on a bounded pool of connections to the current writer:
// MaxConnectionsPercent of the writer's max_connections, a query waiting at most
// ConnectionBorrowTimeout for a free one. When the writer fails over, the
// orchestrator repoints the proxy on its admin endpoint: client connections stay
// open, in-flight transactions fail, later ones go to the new writer at once
// (no DNS record to wait for). Session state pins a client to one connection
// (RDS User Guide, "Avoiding pinning an RDS Proxy"); pinned sessions are counted,
// and closed when their connection's writer goes away.
//
// The MySQL protocol (handshake, auth, packets, result sets) is go-mysql's.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	listen := flag.String("listen", "127.0.0.1:0", "address the clients connect to")
	adminPort := flag.Int("admin-port", 0, "port of the HTTP admin endpoint on 127.0.0.1")
	target := flag.String("target", "", "host:port of the writer")
	user := flag.String("user", "", "database user (clients and backend)")
	database := flag.String("database", "", "database name")
	percent := flag.Int("max-connections-percent", 100, "pool size as a percentage of the writer's max_connections")
	borrow := flag.Float64("borrow-timeout-s", 120, "how long a query waits for a free connection")
	idle := flag.Float64("idle-client-timeout-s", 1800, "close a client connection idle this long (0 = never)")
	connect := flag.Float64("connect-timeout-s", 1, "timeout of one connection attempt to the writer")
	flag.Parse()
	if *target == "" || *user == "" || *adminPort == 0 {
		log.Fatal("rdsproxy: --target, --user and --admin-port are required")
	}
	if *percent < 1 || *percent > 100 {
		log.Fatalf("rdsproxy: --max-connections-percent must be 1..100, not %d", *percent)
	}
	p := NewProxy(*target, Config{
		User: *user, Password: os.Getenv("DB_PASSWORD"), Database: *database,
		MaxConnectionsPercent: *percent, BorrowTimeout: seconds(*borrow),
		IdleClientTimeout: seconds(*idle), ConnectTimeout: seconds(*connect),
	})
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("rdsproxy: listen %s: %v", *listen, err)
	}
	admin := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", *adminPort), Handler: AdminHandler(p)}
	go func() {
		if err := admin.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("rdsproxy: admin endpoint: %v", err)
		}
	}()
	log.Printf("rdsproxy: clients on %s -> writer %s (pool %d%% of max_connections, borrow timeout %s); admin on %s",
		l.Addr(), *target, *percent, seconds(*borrow), admin.Addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		l.Close()
	}()
	_ = p.Serve(l)
	log.Printf("rdsproxy: stopped")
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// AdminHandler: GET /stats, POST /target {"target": "host:port"} (loopback only).
func AdminHandler(p *Proxy) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Stats())
	}
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) { reply(w) })
	mux.HandleFunc("POST /target", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Target string `json:"target"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Target == "" {
			http.Error(w, `body must be {"target": "host:port"}`, http.StatusBadRequest)
			return
		}
		if _, _, err := net.SplitHostPort(body.Target); err != nil {
			http.Error(w, fmt.Sprintf("target %q: %v", body.Target, err), http.StatusBadRequest)
			return
		}
		p.Repoint(body.Target)
		log.Printf("rdsproxy: repointed to %s", body.Target)
		reply(w)
	})
	return mux
}
