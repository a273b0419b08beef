package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// One client connection: its command loop, the connection it holds, what pins it.

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
