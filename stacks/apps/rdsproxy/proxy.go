package main

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// Config is what the proxy is told on its command line.
type Config struct {
	User, Password, Database string
	MaxConnectionsPercent    int
	BorrowTimeout            time.Duration
	IdleClientTimeout        time.Duration
	ConnectTimeout           time.Duration
}

// Proxy accepts MySQL clients and runs their transactions on pooled writer connections.
type Proxy struct {
	cfg   Config
	pool  *Pool
	srv   *server.Server
	creds *server.InMemoryProvider

	mu               sync.Mutex
	sessions         map[*session]struct{}
	pinned           map[*session]string
	clientsTotal     int64
	pinnedTotal      int64
	pinReasons       map[string]int64
	pinnedClosed     int64
	transactionsLost int64
}

func NewProxy(target string, cfg Config) *Proxy {
	p := &Proxy{
		cfg: cfg,
		// no TLS: every hop is on loopback
		srv:      server.NewServer("8.0.36-rdsproxy", mysql.DEFAULT_COLLATION_ID, mysql.AUTH_NATIVE_PASSWORD, nil, nil),
		creds:    server.NewInMemoryProvider(),
		sessions: map[*session]struct{}{}, pinned: map[*session]string{},
		pinReasons: map[string]int64{},
	}
	p.creds.AddUser(cfg.User, cfg.Password)
	p.pool = NewPool(target, cfg.MaxConnectionsPercent, cfg.BorrowTimeout, p.dial)
	return p
}

func (p *Proxy) dial(ctx context.Context, addr string) (*backend, error) {
	var raw net.Conn
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{Timeout: p.cfg.ConnectTimeout}).DialContext(ctx, network, address)
		raw = c
		return c, err
	}
	conn, err := client.ConnectWithDialer(ctx, "tcp", addr, p.cfg.User, p.cfg.Password, p.cfg.Database, dialer)
	if err != nil {
		return nil, err
	}
	return &backend{conn: conn, raw: raw}, nil
}

// Serve accepts clients until the listener is closed.
func (p *Proxy) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go p.serveClient(c)
	}
}

func (p *Proxy) serveClient(c net.Conn) {
	s := &session{p: p}
	// the handshake authenticates the client against the proxy's own credentials
	// (RDS Proxy: the secret in Secrets Manager); no database connection is needed
	conn, err := p.srv.NewCustomizedConn(&greetingStatus{Conn: c}, p.creds, s)
	if err != nil {
		c.Close()
		return
	}
	s.conn = conn
	conn.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	p.mu.Lock()
	p.sessions[s] = struct{}{}
	p.clientsTotal++
	p.mu.Unlock()
	s.loop()
	p.mu.Lock()
	delete(p.sessions, s)
	delete(p.pinned, s)
	p.mu.Unlock()
}

// Repoint sends every session to a new writer. Sessions pinned to the old one lose
// their state with it, so their client connections are closed; the others stay open.
func (p *Proxy) Repoint(target string) {
	p.pool.Repoint(target)
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.pinned {
		p.pinnedClosed++
		s.conn.Conn.Conn.Close()
		delete(p.pinned, s)
	}
}

// Stats is what the admin endpoint reports.
type Stats struct {
	PoolStats
	ClientConnections int64            `json:"client_connections"`
	ClientsTotal      int64            `json:"clients_total"`
	PinnedSessions    int              `json:"pinned_sessions"`
	PinnedTotal       int64            `json:"pinned_total"`
	PinReasons        map[string]int64 `json:"pin_reasons"`
	PinnedClosed      int64            `json:"pinned_sessions_closed"`
	TransactionsLost  int64            `json:"transactions_lost"`
}

func (p *Proxy) Stats() Stats {
	pool := p.pool.Stats()
	p.mu.Lock()
	defer p.mu.Unlock()
	reasons := make(map[string]int64, len(p.pinReasons))
	for k, v := range p.pinReasons {
		reasons[k] = v
	}
	return Stats{
		PoolStats: pool, ClientConnections: int64(len(p.sessions)), ClientsTotal: p.clientsTotal,
		PinnedSessions: len(p.pinned), PinnedTotal: p.pinnedTotal, PinReasons: reasons,
		PinnedClosed: p.pinnedClosed, TransactionsLost: p.transactionsLost,
	}
}
