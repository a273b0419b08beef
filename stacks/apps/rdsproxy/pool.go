package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// A backend is one database connection the proxy opened to a writer.
type backend struct {
	conn *client.Conn
	raw  net.Conn // closed from other goroutines to cut an in-flight query
	gen  int      // the pool generation (target) it belongs to
}

// Dialer opens one authenticated database connection to addr.
type Dialer func(ctx context.Context, addr string) (*backend, error)

// errBorrowTimeout is what a client's query gets when no connection came free in time.
var errBorrowTimeout = errors.New("borrow timeout")

// Pool is the proxy's bounded set of database connections to the current writer.
//
// RDS Proxy opens at most MaxConnectionsPercent of the writer's max_connections;
// a query that finds none free waits up to ConnectionBorrowTimeout. Repointing
// (a failover) starts a new generation: idle connections of the old writer are
// closed, borrowed ones are cut so that their in-flight transactions fail.
type Pool struct {
	dial          Dialer
	maxPercent    int
	borrowTimeout time.Duration
	// how often a borrower retries a writer that refuses connections
	retryEvery time.Duration
	// how long the pool opens no connection after the writer answered "Too many
	// connections" (1040) while the pool holds some: others have the remaining slots
	// (with 100 %, any other client's), so a borrower waits for one of the pool's own
	fullBackoff time.Duration

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a connection frees or the target moves
	target   string
	gen      int
	limit    int // 0 until the writer's max_connections is known
	idle     []*backend
	borrowed map[*backend]struct{}
	open     int  // connections of the current generation (idle + borrowed)
	probing  bool // the first connection to a new target is learning its max_connections
	lastErr  error
	// no new connection before this: the writer is at its max_connections (fullBackoff)
	fullUntil time.Time

	borrowWaits    int64
	borrowTimeouts int64
	dialFailures   int64
	writerFull     int64
	repoints       int64
}

func NewPool(target string, maxPercent int, borrowTimeout time.Duration, dial Dialer) *Pool {
	return &Pool{
		dial: dial, maxPercent: maxPercent, borrowTimeout: borrowTimeout,
		retryEvery: 50 * time.Millisecond, fullBackoff: time.Second, changed: make(chan struct{}),
		target: target, borrowed: map[*backend]struct{}{},
	}
}

func (p *Pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Get borrows a connection to the current writer, waiting up to the borrow timeout.
func (p *Pool) Get(ctx context.Context) (*backend, error) {
	deadline := time.Now().Add(p.borrowTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	waited := false
	for {
		p.mu.Lock()
		if n := len(p.idle); n > 0 {
			b := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.borrowed[b] = struct{}{}
			p.mu.Unlock()
			if alive(b) {
				return b, nil
			}
			p.Put(b, false)
			continue
		}
		full := time.Now().Before(p.fullUntil)
		if (p.limit == 0 && !p.probing) || (p.limit > 0 && p.open < p.limit && !full) {
			p.open++
			probe := p.limit == 0
			p.probing = probe
			gen, target := p.gen, p.target
			p.mu.Unlock()
			b, err := p.dial(ctx, target)
			if err == nil && probe {
				// RDS Proxy sizes its pool from the writer's max_connections
				var n int
				if n, err = maxConnections(b.conn); err != nil {
					b.raw.Close()
				} else {
					p.SetLimit(gen, n)
				}
			}
			p.mu.Lock()
			if probe && gen == p.gen {
				p.probing = false
				p.notifyLocked()
			}
			if err == nil && gen == p.gen {
				b.gen = gen
				p.borrowed[b] = struct{}{}
				p.mu.Unlock()
				return b, nil
			}
			if gen == p.gen {
				p.open--
			}
			if err != nil {
				p.dialFailures++
				p.lastErr = err
				if tooManyConnections(err) && gen == p.gen && p.open > 0 {
					// the writer is full, the pool is not empty: wait for one of its own
					p.writerFull++
					p.fullUntil = time.Now().Add(p.fullBackoff)
					if !waited {
						waited = true
						p.borrowWaits++
					}
					p.mu.Unlock()
					continue
				}
			} else {
				b.raw.Close() // the target moved while dialling
			}
			if err == nil {
				p.mu.Unlock()
				continue
			}
			// the writer refuses (it is down or failing over): retry until the deadline
			if !waited {
				waited = true
				p.borrowWaits++
			}
			changed := p.changed
			p.mu.Unlock()
			select {
			case <-changed:
			case <-time.After(p.retryEvery):
			case <-ctx.Done():
				return nil, p.timedOut()
			}
			continue
		}
		if !waited {
			waited = true
			p.borrowWaits++
		}
		changed := p.changed
		var retry <-chan time.Time // nil: no timer, a free connection or the deadline
		if full {
			retry = time.After(time.Until(p.fullUntil))
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-retry:
		case <-ctx.Done():
			return nil, p.timedOut()
		}
	}
}

// tooManyConnections: the writer refused a login at its max_connections (MySQL 1040).
func tooManyConnections(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && me.Code == mysql.ER_CON_COUNT_ERROR
}

func (p *Pool) timedOut() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.borrowTimeouts++
	reason := fmt.Sprintf("all %d connections to %s are in use", p.limit, p.target)
	if time.Now().Before(p.fullUntil) {
		reason = fmt.Sprintf("all %d connections to %s are in use and it refuses more "+
			"(Too many connections: other clients hold the rest of its max_connections)",
			p.open, p.target)
	} else if p.open < p.limit || p.limit == 0 {
		reason = fmt.Sprintf("%s refuses connections (%v)", p.target, p.lastErr)
	}
	return fmt.Errorf("%w after %s: %s", errBorrowTimeout, p.borrowTimeout, reason)
}

// Put returns a borrowed connection; a broken one (or one of an old writer) is closed.
func (p *Pool) Put(b *backend, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.borrowed[b]; !ok {
		return // already cut by a repoint
	}
	delete(p.borrowed, b)
	if healthy && b.gen == p.gen {
		p.idle = append(p.idle, b)
	} else {
		b.raw.Close()
		if b.gen == p.gen {
			p.open--
			p.fullUntil = time.Time{} // the writer has a slot again
		}
	}
	p.notifyLocked()
}

// SetLimit sets the pool size from the writer's max_connections (first connection learns it).
func (p *Pool) SetLimit(gen int, maxConnections int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	p.limit = max(1, maxConnections*p.maxPercent/100)
	p.notifyLocked()
}

// Repoint sends every later borrow to a new writer at once (no DNS involved). Idle
// connections to the old writer are closed and borrowed ones cut: what was in flight fails.
func (p *Pool) Repoint(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	p.repoints++
	p.target = target
	p.limit = 0
	p.open = 0
	p.probing = false
	p.lastErr = nil
	p.fullUntil = time.Time{}
	for _, b := range p.idle {
		b.raw.Close()
	}
	p.idle = nil
	for b := range p.borrowed {
		b.raw.Close()
	}
	p.notifyLocked()
}

// Generation of the current target; a backend of another generation is stale.
func (p *Pool) Generation() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

func maxConnections(c *client.Conn) (int, error) {
	r, err := c.Execute("SELECT @@GLOBAL.max_connections")
	if err != nil {
		return 0, err
	}
	// not r.Close(): that recycles the result set into a pool go-mysql's server side shares
	n, err := r.GetInt(0, 0)
	return int(n), err
}

// PoolStats is the pool's part of the admin endpoint's stats.
type PoolStats struct {
	Target         string `json:"target"`
	Limit          int    `json:"pool_limit"`
	Open           int    `json:"backend_open"`
	InUse          int    `json:"backend_in_use"`
	Idle           int    `json:"backend_idle"`
	BorrowWaits    int64  `json:"borrow_waits"`
	BorrowTimeouts int64  `json:"borrow_timeouts"`
	DialFailures   int64  `json:"dial_failures"`
	WriterFull     int64  `json:"writer_full"`
	Repoints       int64  `json:"repoints"`
}

func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{
		Target: p.target, Limit: p.limit, Open: p.open, InUse: len(p.borrowed), Idle: len(p.idle),
		BorrowWaits: p.borrowWaits, BorrowTimeouts: p.borrowTimeouts,
		DialFailures: p.dialFailures, WriterFull: p.writerFull, Repoints: p.repoints,
	}
}

// alive tells whether an idle connection still has a live peer, without waiting: one
// non-blocking read finds EOF on a connection the writer closed (it died or restarted)
// and EAGAIN on a live idle one, as go-sql-driver checks its pooled connections.
func alive(b *backend) bool {
	sc, ok := b.raw.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	live := false
	var one [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, rerr := syscall.Read(int(fd), one[:])
		// nothing to read (EAGAIN) is a live idle connection; EOF or stray bytes are not
		live = n < 0 && (errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK))
		return true
	})
	return err == nil && live
}
