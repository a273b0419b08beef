package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
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

// greetingStatus sets SERVER_STATUS_AUTOCOMMIT in the server greeting and in the OK
// that ends the handshake, as MySQL does. go-mysql's server writes both before a caller
// can set its status, and clients such as PyMySQL read autocommit from them: seeing it
// off, they would not send `SET autocommit = 0` and their transactions would silently
// autocommit.
type greetingStatus struct {
	net.Conn
	greeted, done bool
}

func (g *greetingStatus) Write(b []byte) (int, error) {
	if g.done || len(b) < 5 {
		return g.Conn.Write(b)
	}
	at := -1
	switch {
	case !g.greeted && b[4] == 10:
		// header (4), protocol 10, server version NUL-terminated, connection id (4),
		// auth data (8), filler (1), capabilities (2), charset (1), then the status (2)
		g.greeted = true
		if end := bytes.IndexByte(b[5:], 0); end >= 0 {
			at = 5 + end + 1 + 4 + 8 + 1 + 2 + 1
		}
	case g.greeted && b[4] == mysql.OK_HEADER:
		// header (4), 0x00, affected rows, last insert id (length-encoded), then the status
		g.done = true
		at = 5
		for range 2 {
			_, _, n := mysql.LengthEncodedInt(b[at:])
			at += n
		}
	}
	if at < 0 || at+2 > len(b) {
		return g.Conn.Write(b)
	}
	patched := append([]byte(nil), b...)
	status := binary.LittleEndian.Uint16(b[at:]) | mysql.SERVER_STATUS_AUTOCOMMIT
	binary.LittleEndian.PutUint16(patched[at:], status)
	return g.Conn.Write(patched)
}

// -- one client connection ---------------------------------------------------------

type session struct {
	p    *Proxy
	conn *server.Conn
	// the connection this client holds: during a transaction, or for good once pinned
	held   *backend
	pinned string
	// SET TRANSACTION applies to the next transaction: hold the connection until it ends
	nextTx bool
	// the held connection died inside a transaction: only COMMIT/ROLLBACK end that state
	lostTx bool
	// the client's autocommit setting, which the proxy tracks (no pinning) and applies to
	// every connection it borrows for the client
	manualCommit bool
	closing      bool
}

// written marks a command whose response the relay already wrote.
type written struct{}

func (s *session) loop() {
	defer s.end()
	for !s.closing {
		if s.p.cfg.IdleClientTimeout > 0 {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.p.cfg.IdleClientTimeout))
		}
		data, err := s.conn.ReadPacket()
		if err != nil || len(data) == 0 {
			return
		}
		_ = s.conn.SetReadDeadline(time.Time{})
		var v any
		switch cmd, body := data[0], data[1:]; cmd {
		case mysql.COM_QUIT:
			return
		case mysql.COM_PING:
			v = s.ping()
		case mysql.COM_INIT_DB:
			v = s.UseDB(string(body))
		case mysql.COM_QUERY:
			v = s.query(string(body))
		case mysql.COM_STMT_PREPARE, mysql.COM_STMT_EXECUTE, mysql.COM_STMT_RESET:
			v = s.relay(data, true)
		case mysql.COM_STMT_CLOSE, mysql.COM_STMT_SEND_LONG_DATA:
			_ = s.relay(data, false)
			v = written{}
		default:
			v = mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, fmt.Sprintf("rdsproxy: command 0x%02x is not supported", cmd))
		}
		if _, done := v.(written); !done {
			if err := s.conn.WriteValue(v); err != nil {
				return
			}
		}
		s.conn.ResetSequence()
	}
}

func (s *session) end() {
	if s.held != nil {
		// a transaction in progress or a pinned session's state dies with the client; only
		// a connection in its default state goes back to the pool
		c := s.held.conn
		s.p.pool.Put(s.held, s.pinned == "" && !c.IsInTransaction() && c.IsAutoCommit())
		s.held = nil
	}
	s.conn.Close()
}

// acquire returns the held connection or borrows one (waiting up to the borrow timeout).
func (s *session) acquire() (*backend, error) {
	if s.held != nil {
		return s.held, nil
	}
	b, err := s.p.pool.Get(context.Background())
	if err != nil {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "rdsproxy: "+err.Error())
	}
	s.held = b
	if s.manualCommit && b.conn.IsAutoCommit() {
		if _, err := b.conn.Execute("SET autocommit = 0"); err != nil {
			return nil, s.lost(b, false, err)
		}
	}
	return b, nil
}

// release gives the connection back to the pool unless the session must keep it.
func (s *session) release(b *backend) {
	if s.pinned != "" || s.nextTx || b.conn.IsInTransaction() || !b.conn.IsAutoCommit() {
		return
	}
	s.held = nil
	s.p.pool.Put(b, true)
}

func (s *session) pin(reason string) {
	if s.pinned != "" {
		return
	}
	s.pinned = reason
	s.p.mu.Lock()
	s.p.pinned[s] = reason
	s.p.pinnedTotal++
	s.p.pinReasons[reason]++
	s.p.mu.Unlock()
}

// lost handles a connection that broke under a statement (the writer died or moved).
func (s *session) lost(b *backend, inTransaction bool, cause error) error {
	s.p.pool.Put(b, false)
	s.held = nil
	s.nextTx = false
	if s.pinned != "" {
		// the session's state (its prepared statements, variables) is gone with it
		s.closing = true
		s.p.mu.Lock()
		if _, still := s.p.pinned[s]; still {
			s.p.pinnedClosed++
			delete(s.p.pinned, s)
		}
		s.p.mu.Unlock()
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
			"rdsproxy: lost the database connection this session was pinned to (%s): %v", s.pinned, cause))
	}
	if inTransaction {
		s.lostTx = true
		s.p.mu.Lock()
		s.p.transactionsLost++
		s.p.mu.Unlock()
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
			"rdsproxy: the transaction was lost with its database connection (%v); roll back and retry", cause))
	}
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
		"rdsproxy: lost the database connection during the statement: %v", cause))
}

func (s *session) query(q string) any {
	if s.lostTx {
		if !endsTransaction(q) {
			return mysql.NewError(mysql.ER_UNKNOWN_ERROR,
				"rdsproxy: this session's transaction was lost in a failover; roll back first")
		}
		s.lostTx = false
		if isCommit(q) {
			return mysql.NewError(mysql.ER_UNKNOWN_ERROR,
				"rdsproxy: the transaction was lost in a failover and rolled back; nothing was committed")
		}
		return nil
	}
	effect, reason := classify(q)
	b, err := s.acquire()
	if err != nil {
		return err
	}
	inTx := b.conn.IsInTransaction()
	r, err := b.conn.Execute(q)
	if err != nil {
		var me *mysql.MyError
		if errors.As(err, &me) {
			s.release(b)
			return me
		}
		return s.lost(b, inTx && !endsTransaction(q), err)
	}
	switch effect {
	case effectPin:
		s.pin(reason)
	case effectNextTransaction:
		s.nextTx = true
	case effectAutocommit:
		s.manualCommit = !b.conn.IsAutoCommit()
	}
	if b.conn.IsInTransaction() {
		s.nextTx = false
	}
	s.mirrorStatus(b.conn.IsAutoCommit(), b.conn.IsInTransaction())
	s.release(b)
	return r
}

func (s *session) ping() any {
	b, err := s.acquire()
	if err != nil {
		return err
	}
	inTx := b.conn.IsInTransaction()
	if err := b.conn.Ping(); err != nil {
		return s.lost(b, inTx, err)
	}
	s.release(b)
	return nil
}

// UseDB: the proxy's connections are to one database (its target group's).
func (s *session) UseDB(name string) error {
	if name != "" && name != s.p.cfg.Database {
		return mysql.NewError(mysql.ER_DBACCESS_DENIED_ERROR,
			fmt.Sprintf("rdsproxy: this proxy serves database %q only, not %q", s.p.cfg.Database, name))
	}
	return nil
}

func (s *session) mirrorStatus(autocommit, inTx bool) {
	s.conn.UnsetStatus(mysql.SERVER_STATUS_AUTOCOMMIT | mysql.SERVER_STATUS_IN_TRANS)
	if autocommit {
		s.conn.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	}
	if inTx {
		s.conn.SetStatus(mysql.SERVER_STATUS_IN_TRANS)
	}
}

// relay passes a prepared-statement command to the session's backend unchanged and
// copies the answer back. Prepared statements pin the session (RDS Proxy, MySQL), so
// the statement ids the backend hands out stay valid for this client.
func (s *session) relay(data []byte, answer bool) any {
	cmd := data[0]
	if s.lostTx {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR,
			"rdsproxy: this session's transaction was lost in a failover; roll back first")
	}
	if cmd != mysql.COM_STMT_PREPARE && s.pinned == "" {
		if !answer {
			return written{}
		}
		return mysql.NewError(mysql.ER_UNKNOWN_STMT_HANDLER, "rdsproxy: unknown prepared statement")
	}
	b, err := s.acquire()
	if err != nil {
		return err
	}
	if cmd == mysql.COM_STMT_PREPARE {
		s.pin("prepared statement")
	}
	b.conn.ResetSequence()
	if err := b.conn.WritePacket(append(make([]byte, 4, 4+len(data)), data...)); err != nil {
		return s.lost(b, false, err)
	}
	if !answer {
		return written{}
	}
	status, err := s.copyAnswer(b.conn, cmd)
	if err != nil {
		var clientGone *clientWriteError
		if errors.As(err, &clientGone) {
			s.closing = true
			return written{}
		}
		return s.lost(b, false, err)
	}
	if status != nil {
		s.mirrorStatus(*status&mysql.SERVER_STATUS_AUTOCOMMIT != 0, *status&mysql.SERVER_STATUS_IN_TRANS != 0)
	}
	return written{}
}

type clientWriteError struct{ err error }

func (e *clientWriteError) Error() string { return "client: " + e.err.Error() }

// copyAnswer copies one command's answer packet by packet: a prepare's OK with its
// parameter and column definitions, an execute's OK, error or result sets.
func (s *session) copyAnswer(b *client.Conn, cmd byte) (*uint16, error) {
	next := func() ([]byte, error) {
		pkt, err := b.ReadPacket()
		if err != nil {
			return nil, err
		}
		if err := s.conn.WritePacket(append(make([]byte, 4, 4+len(pkt)), pkt...)); err != nil {
			return nil, &clientWriteError{err}
		}
		return pkt, nil
	}
	copyN := func(n int) error {
		for range n {
			if _, err := next(); err != nil {
				return err
			}
		}
		return nil
	}
	first, err := next()
	if err != nil || first[0] == mysql.ERR_HEADER {
		return nil, err
	}
	switch cmd {
	case mysql.COM_STMT_RESET:
		return nil, nil
	case mysql.COM_STMT_PREPARE:
		columns := int(binary.LittleEndian.Uint16(first[5:7]))
		params := int(binary.LittleEndian.Uint16(first[7:9]))
		if params > 0 {
			if err := copyN(params + 1); err != nil {
				return nil, err
			}
		}
		if columns > 0 {
			return nil, copyN(columns + 1)
		}
		return nil, nil
	}
	// COM_STMT_EXECUTE: one or more results, each an OK or a result set
	for pkt := first; ; {
		var status uint16
		switch pkt[0] {
		case mysql.ERR_HEADER:
			return nil, nil
		case mysql.OK_HEADER:
			status = okStatus(pkt)
		default:
			n, _, _ := mysql.LengthEncodedInt(pkt)
			if err := copyN(int(n) + 1); err != nil { // column definitions and their EOF
				return nil, err
			}
			for {
				row, err := next()
				if err != nil {
					return nil, err
				}
				if row[0] == mysql.ERR_HEADER {
					return nil, nil
				}
				if row[0] == mysql.EOF_HEADER && len(row) < 9 {
					status = binary.LittleEndian.Uint16(row[3:5])
					break
				}
			}
		}
		if status&mysql.SERVER_MORE_RESULTS_EXISTS == 0 {
			return &status, nil
		}
		if pkt, err = next(); err != nil {
			return nil, err
		}
	}
}

func okStatus(pkt []byte) uint16 {
	pos := 1
	_, _, n := mysql.LengthEncodedInt(pkt[pos:])
	pos += n
	_, _, n = mysql.LengthEncodedInt(pkt[pos:])
	pos += n
	if len(pkt) < pos+2 {
		return 0
	}
	return binary.LittleEndian.Uint16(pkt[pos:])
}

// server.Handler: the handshake calls UseDB; the commands are dispatched by loop().

func (s *session) HandleQuery(string) (*mysql.Result, error) { return nil, errUnused }
func (s *session) HandleFieldList(string, string) ([]*mysql.Field, error) {
	return nil, errUnused
}
func (s *session) HandleStmtPrepare(string) (int, int, any, error) { return 0, 0, nil, errUnused }
func (s *session) HandleStmtExecute(any, string, []any) (*mysql.Result, error) {
	return nil, errUnused
}
func (s *session) HandleStmtClose(any) error             { return errUnused }
func (s *session) HandleOtherCommand(byte, []byte) error { return errUnused }

var errUnused = errors.New("rdsproxy: dispatched by the session loop")

func init() { log.SetFlags(log.LstdFlags | log.Lmicroseconds) }
