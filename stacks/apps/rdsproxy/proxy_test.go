package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// fakeDB is a small MySQL server (go-mysql's server side) standing in for a writer:
// it names itself, keeps transaction status, and can die like a failed instance.
type fakeDB struct {
	name     string
	maxConns int
	l        net.Listener
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	total    int
}

func newFakeDB(t *testing.T, name string, maxConns int) *fakeDB {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDB{name: name, maxConns: maxConns, l: l, conns: map[net.Conn]struct{}{}}
	srv := server.NewServer("10.11-fake", mysql.DEFAULT_COLLATION_ID, mysql.AUTH_NATIVE_PASSWORD, nil, nil)
	creds := server.NewInMemoryProvider()
	creds.AddUser("shop", "pw")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns[c] = struct{}{}
			f.total++
			f.mu.Unlock()
			go func() {
				h := &fakeHandler{db: f}
				conn, err := srv.NewCustomizedConn(c, creds, h)
				if err != nil {
					return
				}
				h.conn = conn
				conn.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
				for conn.HandleCommand() == nil {
				}
				f.mu.Lock()
				delete(f.conns, c)
				f.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(f.kill)
	return f
}

func (f *fakeDB) addr() string { return f.l.Addr().String() }

// kill: the instance is gone; its connections reset, new ones are refused.
func (f *fakeDB) kill() {
	f.l.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}

func (f *fakeDB) opened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

type fakeHandler struct {
	db   *fakeDB
	conn *server.Conn
}

func (h *fakeHandler) UseDB(string) error { return nil }

func (h *fakeHandler) row(value any, binary bool) (*mysql.Result, error) {
	rs, err := mysql.BuildSimpleResultset([]string{"v"}, [][]any{{value}}, binary)
	if err != nil {
		return nil, err
	}
	return mysql.NewResult(rs), nil
}

func (h *fakeHandler) HandleQuery(q string) (*mysql.Result, error) {
	switch u := strings.ToUpper(strings.TrimSpace(q)); {
	case u == "SELECT @@GLOBAL.MAX_CONNECTIONS":
		return h.row(int64(h.db.maxConns), false)
	case u == "SELECT @@HOSTNAME":
		return h.row(h.db.name, false)
	case u == "START TRANSACTION" || u == "BEGIN":
		h.conn.SetInTransaction()
	case u == "COMMIT" || u == "ROLLBACK":
		h.conn.ClearInTransaction()
	case u == "SET AUTOCOMMIT = 0":
		h.conn.UnsetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	case u == "SET AUTOCOMMIT = 1":
		h.conn.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	case u == "SELECT @@AUTOCOMMIT":
		return h.row(fmt.Sprintf("%s:%v", h.db.name, h.conn.IsAutoCommit()), false)
	case u == "DUPLICATE":
		return nil, mysql.NewError(mysql.ER_DUP_ENTRY, "Duplicate entry 'k' for key 'idempotency_key'")
	}
	return nil, nil
}

func (h *fakeHandler) HandleFieldList(string, string) ([]*mysql.Field, error) { return nil, nil }
func (h *fakeHandler) HandleStmtPrepare(q string) (int, int, any, error) {
	if strings.Contains(q, "DUPLICATE") { // go-mysql's server keeps error codes on prepare only
		return 0, 0, nil, mysql.NewError(mysql.ER_DUP_ENTRY, "Duplicate entry")
	}
	return strings.Count(q, "?"), 1, q, nil
}
func (h *fakeHandler) HandleStmtExecute(_ any, q string, args []any) (*mysql.Result, error) {
	return h.row(fmt.Sprintf("%s:%v", h.db.name, args), true)
}
func (h *fakeHandler) HandleStmtClose(any) error             { return nil }
func (h *fakeHandler) HandleOtherCommand(byte, []byte) error { return errors.New("unsupported") }

// -- helpers -------------------------------------------------------------------------

func startProxy(t *testing.T, target string, percent int, borrow time.Duration) (*Proxy, string) {
	t.Helper()
	p := NewProxy(target, Config{
		User: "shop", Password: "pw", Database: "shop", MaxConnectionsPercent: percent,
		BorrowTimeout: borrow, ConnectTimeout: time.Second,
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go p.Serve(l) //nolint:errcheck // ends when the listener closes
	return p, l.Addr().String()
}

func connect(t *testing.T, addr string) *client.Conn {
	t.Helper()
	c, err := client.Connect(addr, "shop", "pw", "shop")
	if err != nil {
		t.Fatalf("connect to proxy: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func hostname(t *testing.T, c *client.Conn) string {
	t.Helper()
	r, err := c.Execute("SELECT @@hostname")
	if err != nil {
		t.Fatalf("SELECT @@hostname: %v", err)
	}
	s, err := r.GetString(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustExec(t *testing.T, c *client.Conn, q string) {
	t.Helper()
	if _, err := c.Execute(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// -- behaviour -----------------------------------------------------------------------

func TestClientsShareOneDatabaseConnectionBetweenTransactions(t *testing.T) {
	a := newFakeDB(t, "a", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	for i := range 5 {
		if got := hostname(t, connect(t, addr)); got != "a" {
			t.Fatalf("client %d reached %q, want a", i, got)
		}
	}
	st := p.Stats()
	if a.opened() != 1 || st.Open != 1 || st.ClientConnections != 5 {
		t.Fatalf("5 clients one after another: db saw %d connections, stats %+v; want 1 and 5 clients",
			a.opened(), st)
	}
	if st.Limit != 100 {
		t.Fatalf("pool limit %d, want 100%% of max_connections 100", st.Limit)
	}
}

func TestPoolIsBoundedAndABorrowTimesOutWithAClearError(t *testing.T) {
	a := newFakeDB(t, "a", 4)
	p, addr := startProxy(t, a.addr(), 50, 300*time.Millisecond) // 50 % of 4 = 2
	c1, c2, c3 := connect(t, addr), connect(t, addr), connect(t, addr)
	mustExec(t, c1, "START TRANSACTION")
	mustExec(t, c2, "START TRANSACTION")
	started := time.Now()
	_, err := c3.Execute("SELECT @@hostname")
	waited := time.Since(started)
	var me *mysql.MyError
	if !errors.As(err, &me) || !strings.Contains(me.Message, "borrow timeout") ||
		!strings.Contains(me.Message, "all 2 connections") {
		t.Fatalf("third client while both connections are in transactions: %v; want a borrow timeout", err)
	}
	if waited < 250*time.Millisecond || waited > 2*time.Second {
		t.Fatalf("borrow timeout of 300ms took %s", waited)
	}
	st := p.Stats()
	if st.Limit != 2 || st.Open != 2 || st.BorrowTimeouts != 1 || st.BorrowWaits != 1 {
		t.Fatalf("stats %+v: want limit 2, 2 open, 1 wait, 1 timeout", st)
	}
	mustExec(t, c1, "COMMIT")
	if got := hostname(t, c3); got != "a" {
		t.Fatalf("after a commit freed a connection, c3 reached %q", got)
	}
}

func TestWaitingClientGetsTheConnectionAnotherFrees(t *testing.T) {
	a := newFakeDB(t, "a", 1)
	p, addr := startProxy(t, a.addr(), 100, 5*time.Second)
	c1, c2 := connect(t, addr), connect(t, addr)
	mustExec(t, c1, "START TRANSACTION")
	done := make(chan error, 1)
	go func() { _, err := c2.Execute("SELECT @@hostname"); done <- err }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("c2 ran while c1 held the only connection (err %v)", err)
	default:
	}
	mustExec(t, c1, "COMMIT")
	if err := <-done; err != nil {
		t.Fatalf("c2 after c1 committed: %v", err)
	}
	if st := p.Stats(); st.BorrowWaits != 1 || st.BorrowTimeouts != 0 {
		t.Fatalf("stats %+v: want 1 wait, no timeout", st)
	}
}

func TestRepointKeepsTheClientConnectionAndUsesTheNewWriterAtOnce(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	if got := hostname(t, c); got != "a" {
		t.Fatalf("before failover: %q", got)
	}
	a.kill()
	p.Repoint(b.addr())
	if got := hostname(t, c); got != "b" {
		t.Fatalf("same client connection after repoint reached %q, want b", got)
	}
	if st := p.Stats(); st.ClientConnections != 1 || st.Repoints != 1 || st.Target != b.addr() {
		t.Fatalf("stats %+v", st)
	}
}

func TestInFlightTransactionFailsAndTheSessionMustRollBack(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	mustExec(t, c, "START TRANSACTION")
	a.kill()
	p.Repoint(b.addr())
	if _, err := c.Execute("UPDATE products SET stock = stock - 1"); err == nil ||
		!strings.Contains(err.Error(), "transaction was lost") {
		t.Fatalf("statement of a transaction whose writer died: %v", err)
	}
	if _, err := c.Execute("INSERT INTO orders VALUES (1)"); err == nil ||
		!strings.Contains(err.Error(), "roll back first") {
		t.Fatalf("a later statement of the lost transaction must fail, got %v", err)
	}
	mustExec(t, c, "ROLLBACK")
	if got := hostname(t, c); got != "b" {
		t.Fatalf("after rollback: %q", got)
	}
	if st := p.Stats(); st.TransactionsLost != 1 {
		t.Fatalf("transactions_lost %d, want 1", st.TransactionsLost)
	}
}

func TestCommitOfALostTransactionReportsNothingCommitted(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	mustExec(t, c, "START TRANSACTION")
	mustExec(t, c, "SELECT @@hostname")
	a.kill()
	p.Repoint(b.addr())
	_, _ = c.Execute("UPDATE x SET y = 1")
	if _, err := c.Execute("COMMIT"); err == nil || !strings.Contains(err.Error(), "nothing was committed") {
		t.Fatalf("COMMIT of a lost transaction: %v", err)
	}
}

func TestQueriesDuringFailoverWaitForTheNewWriter(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, 5*time.Second)
	c := connect(t, addr)
	hostname(t, c)
	a.kill()
	type answer struct {
		host string
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := c.Execute("SELECT @@hostname")
		if err != nil {
			done <- answer{"", err}
			return
		}
		s, _ := r.GetString(0, 0)
		done <- answer{s, nil}
	}()
	time.Sleep(200 * time.Millisecond)
	p.Repoint(b.addr())
	got := <-done
	// the idle connection to the dead writer is found dead before use, so the query
	// waits for a connection instead of failing
	if got.err != nil || got.host != "b" {
		t.Fatalf("query during failover: %q, %v; want it served by b once repointed", got.host, got.err)
	}
	if st := p.Stats(); st.DialFailures == 0 || st.BorrowWaits != 1 {
		t.Fatalf("stats %+v: want dial failures while the writer was down and one borrow wait", st)
	}
}

func TestSessionStatePinsAndRepointClosesPinnedSessions(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	vars, stmts, plain := connect(t, addr), connect(t, addr), connect(t, addr)
	mustExec(t, vars, "SET @cart = 42")
	stmt, err := stmts.Prepare("SELECT ?")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	hostname(t, plain)
	st := p.Stats()
	if st.PinnedSessions != 2 || st.PinReasons["user variable"] != 1 || st.PinReasons["prepared statement"] != 1 {
		t.Fatalf("stats %+v: want 2 pinned (user variable, prepared statement)", st)
	}
	if st.Open != 3 {
		t.Fatalf("two pinned sessions and one plain: %d connections open, want 3", st.Open)
	}
	p.Repoint(b.addr())
	if _, err := vars.Execute("SELECT @cart"); err == nil {
		t.Fatal("a session pinned to the old writer must lose its connection")
	}
	if got := hostname(t, plain); got != "b" {
		t.Fatalf("unpinned session after repoint: %q", got)
	}
	if st := p.Stats(); st.PinnedSessions != 0 || st.PinnedClosed != 2 || st.ClientConnections != 1 {
		t.Fatalf("stats %+v: want 0 pinned, 2 closed, 1 client left", st)
	}
}

func TestPreparedStatementsAreRelayedWithTheirResultsAndErrors(t *testing.T) {
	a := newFakeDB(t, "a", 100)
	_, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	stmt, err := c.Prepare("SELECT id FROM products WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	r, err := stmt.Execute(int64(7))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.GetString(0, 0); got != "a:[7]" {
		t.Fatalf("binary result through the proxy: %q", got)
	}
	_, err = c.Prepare("INSERT DUPLICATE ?")
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_DUP_ENTRY {
		t.Fatalf("a duplicate key must reach the client as error 1062, got %v", err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute("DUPLICATE"); !errors.As(err, &me) || me.Code != mysql.ER_DUP_ENTRY {
		t.Fatalf("text protocol: want error 1062, got %v", err)
	}
	if got := hostname(t, c); got != "a" {
		t.Fatalf("after the statements: %q", got)
	}
}

func TestIdleClientsAreClosedAfterTheIdleTimeout(t *testing.T) {
	a := newFakeDB(t, "a", 100)
	p := NewProxy(a.addr(), Config{
		User: "shop", Password: "pw", Database: "shop", MaxConnectionsPercent: 100,
		BorrowTimeout: time.Second, ConnectTimeout: time.Second, IdleClientTimeout: 100 * time.Millisecond,
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go p.Serve(l) //nolint:errcheck
	c := connect(t, l.Addr().String())
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Execute("SELECT @@hostname"); err == nil {
		t.Fatal("a client idle past the idle client timeout must be disconnected")
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	a := newFakeDB(t, "a", 100)
	_, addr := startProxy(t, a.addr(), 100, time.Second)
	if _, err := client.Connect(addr, "shop", "wrong", "shop"); err == nil {
		t.Fatal("the proxy must check the client's credentials")
	}
}

func TestAdminEndpointRepointsAndReportsStats(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	hostname(t, c)
	ts := httptest.NewServer(AdminHandler(p))
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/target", "application/json",
		strings.NewReader(fmt.Sprintf(`{"target": %q}`, b.addr())))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /target: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if st["target"] != b.addr() || st["repoints"] != float64(1) {
		t.Fatalf("after POST /target: %v", st)
	}
	if got := hostname(t, c); got != "b" {
		t.Fatalf("after the admin repoint: %q", got)
	}
	bad, err := http.Post(ts.URL+"/target", "application/json", strings.NewReader(`{"target": "nowhere"}`))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad target: HTTP %d, want 400", bad.StatusCode)
	}
	get, err := http.Get(ts.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	var stats map[string]any
	_ = json.NewDecoder(get.Body).Decode(&stats)
	for _, key := range []string{"client_connections", "backend_in_use", "backend_idle", "borrow_waits",
		"borrow_timeouts", "pinned_sessions", "pool_limit"} {
		if _, ok := stats[key]; !ok {
			t.Errorf("GET /stats lacks %q: %v", key, stats)
		}
	}
}

func TestClassifyPinsSessionState(t *testing.T) {
	cases := []struct {
		query  string
		effect sessionEffect
		reason string
	}{
		{"SELECT id FROM products WHERE id = 1", effectNone, ""},
		{"SELECT @@max_connections", effectNone, ""},
		{"select 'a@b.com'", effectNone, ""},
		{"SET autocommit = 0", effectAutocommit, ""},
		{"SET AUTOCOMMIT=1", effectAutocommit, ""},
		{"SET NAMES utf8mb4", effectNone, ""},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", effectNextTransaction, ""},
		{"SET @x = 1", effectPin, "user variable"},
		{"SELECT id INTO @last FROM orders", effectPin, "user variable"},
		{"/* c */ SET sql_mode = ''", effectPin, "SET statement"},
		{"SET SESSION wait_timeout = 10", effectPin, "SET statement"},
		{"LOCK TABLES products WRITE", effectPin, "explicit lock"},
		{"SELECT GET_LOCK('k', 1)", effectPin, "explicit lock"},
		{"CREATE TEMPORARY TABLE t (id int)", effectPin, "temporary table"},
		{"PREPARE s FROM 'SELECT 1'", effectPin, "prepared statement"},
	}
	for _, tc := range cases {
		effect, reason := classify(tc.query)
		if effect != tc.effect || reason != tc.reason {
			t.Errorf("classify(%q) = %v %q, want %v %q", tc.query, effect, reason, tc.effect, tc.reason)
		}
	}
}

func TestAutocommitOffFollowsTheClientToTheNewWriter(t *testing.T) {
	a, b := newFakeDB(t, "a", 100), newFakeDB(t, "b", 100)
	p, addr := startProxy(t, a.addr(), 100, time.Second)
	c := connect(t, addr)
	mustExec(t, c, "SET autocommit = 0")
	if st := p.Stats(); st.PinnedSessions != 0 || st.InUse != 1 {
		t.Fatalf("autocommit off is tracked, not pinned, and holds its connection: %+v", st)
	}
	a.kill()
	p.Repoint(b.addr())
	_, _ = c.Execute("SELECT @@autocommit") // cut with the old writer
	r, err := c.Execute("SELECT @@autocommit")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.GetString(0, 0); got != "b:false" {
		t.Fatalf("on the new writer the client's autocommit setting is %q, want b:false", got)
	}
}

func TestGreetingSaysAutocommitLikeMySQL(t *testing.T) {
	a := newFakeDB(t, "a", 100)
	_, addr := startProxy(t, a.addr(), 100, time.Second)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	greeting := make([]byte, 256)
	n, _ := raw.Read(greeting)
	greeting = greeting[:n]
	end := 5 + strings.IndexByte(string(greeting[5:]), 0)
	status := int(greeting[end+17]) | int(greeting[end+18])<<8
	if status&int(mysql.SERVER_STATUS_AUTOCOMMIT) == 0 {
		t.Fatalf("greeting status 0x%04x: autocommit must be on, as MySQL's greeting says", status)
	}
	// the OK that ends the handshake says so too (go-mysql's client reads it from there)
	if c := connect(t, addr); !c.IsAutoCommit() {
		t.Fatal("the handshake's OK must report autocommit on")
	}
}

// fullDialer opens `slots` connections (pipes), then answers as a writer at its
// max_connections does: 1040 "Too many connections".
type fullDialer struct {
	mu      sync.Mutex
	slots   int
	dials   int
	refused int
}

func (d *fullDialer) dial(context.Context, string) (*backend, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dials++
	if d.slots == 0 {
		d.refused++
		return nil, mysql.NewError(mysql.ER_CON_COUNT_ERROR, "Too many connections")
	}
	d.slots--
	ours, _ := net.Pipe()
	return &backend{raw: ours}, nil
}

func (d *fullDialer) counts() (int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials, d.refused
}

// With MaxConnectionsPercent 100 the pool's size counts slots that other clients of
// the writer hold (a replica's replication connection, an admin session). At the
// writer's "Too many connections" the pool waits for one of its own connections
// instead of dialling again every 50 ms, and takes the first one freed.
func TestAFullWriterIsNotRedialledAndAFreedConnectionIsTaken(t *testing.T) {
	d := &fullDialer{slots: 2}
	p := NewPool("writer", 100, 400*time.Millisecond, d.dial)
	p.SetLimit(0, 3) // max_connections 3, one held by another client
	ctx := context.Background()
	first, err := p.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(ctx); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = p.Get(ctx)
	if !errors.Is(err, errBorrowTimeout) || !strings.Contains(err.Error(), "Too many connections") {
		t.Fatalf("third borrow at a full writer: %v; want a borrow timeout naming it", err)
	}
	if waited := time.Since(started); waited < 350*time.Millisecond {
		t.Fatalf("gave up after %s, before the borrow timeout", waited)
	}
	if dials, refused := d.counts(); dials != 3 || refused != 1 {
		t.Fatalf("%d dials, %d refused while waiting 400ms; want 3 and 1 (no redial every 50ms)", dials, refused)
	}
	got := make(chan error, 1)
	go func() { _, err := p.Get(ctx); got <- err }()
	time.Sleep(50 * time.Millisecond)
	p.Put(first, true)
	if err := <-got; err != nil {
		t.Fatalf("a waiting borrow after another was returned: %v", err)
	}
	if st := p.Stats(); st.WriterFull != 1 || st.Open != 2 {
		t.Fatalf("stats %+v: want writer_full 1, 2 open", st)
	}
}
