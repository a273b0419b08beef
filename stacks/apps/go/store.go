package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
)

var (
	errNotFound  = errors.New("not found")
	errNotEnough = errors.New("not enough left")
)

type Product struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Stock      int64  `json:"stock"`
}

type Event struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	SeatsTotal int64  `json:"seats_total"`
	SeatsLeft  int64  `json:"seats_left"`
}

type Order struct {
	OrderID        int64  `json:"order_id"`
	ProductID      int64  `json:"product_id"`
	Quantity       int64  `json:"quantity"`
	IdempotencyKey string `json:"idempotency_key"`
}

type Reservation struct {
	ReservationID  int64  `json:"reservation_id"`
	EventID        int64  `json:"event_id"`
	Seats          int64  `json:"seats"`
	IdempotencyKey string `json:"idempotency_key"`
}

// A claim takes some units of a counted row (a product's stock, an event's
// seats) and records who took them under an idempotency key. Orders and
// reservations are the same transaction on different tables.
type claimKind struct {
	findByKey, findByID string
	readLeft, lockLeft  string
	take, takeUnguarded string
	insert              string
}

func newClaimKind(claims, ref, amount, counted, left string) claimKind {
	cols := fmt.Sprintf("id, %s, %s, idempotency_key", ref, amount)
	return claimKind{
		findByKey:     fmt.Sprintf("SELECT %s FROM %s WHERE idempotency_key = ?", cols, claims),
		findByID:      fmt.Sprintf("SELECT %s FROM %s WHERE id = ?", cols, claims),
		readLeft:      fmt.Sprintf("SELECT %s FROM %s WHERE id = ?", left, counted),
		lockLeft:      fmt.Sprintf("SELECT %s FROM %s WHERE id = ? FOR UPDATE", left, counted),
		take:          fmt.Sprintf("UPDATE %s SET %s = %[2]s - ? WHERE id = ? AND %[2]s >= ?", counted, left),
		takeUnguarded: fmt.Sprintf("UPDATE %s SET %s = %[2]s - ? WHERE id = ?", counted, left),
		insert:        fmt.Sprintf("INSERT INTO %s (idempotency_key, %s, %s) VALUES (?, ?, ?)", claims, ref, amount),
	}
}

var (
	orderClaims       = newClaimKind("orders", "product_id", "quantity", "products", "stock")
	reservationClaims = newClaimKind("reservations", "event_id", "seats", "events", "seats_left")
)

// claim is the stored row of an order or a reservation.
type claim struct {
	ID, Ref, Amount int64
	Key             string
}

type store struct {
	writer, reader *sql.DB
	queryTimeout   time.Duration
	bug            string
}

func openStore(cfg config) (*store, error) {
	writer, err := openPool(cfg, cfg.DBHost, cfg.DBPort, true)
	if err != nil {
		return nil, err
	}
	st := &store{writer: writer, reader: writer, queryTimeout: cfg.DBQueryTimeout, bug: cfg.Bug}
	if cfg.DBReaderHost != "" {
		if st.reader, err = openPool(cfg, cfg.DBReaderHost, cfg.DBReaderPort, false); err != nil {
			writer.Close()
			return nil, err
		}
	}
	return st, nil
}

// openPool does not connect: the service starts (and answers /health) while
// the database is still down, and /ready tells the load balancer when it is not.
func openPool(cfg config, host, port string, writer bool) (*sql.DB, error) {
	mc := mysql.NewConfig()
	mc.Net = "tcp"
	mc.Addr = net.JoinHostPort(host, port)
	mc.User = cfg.DBUser
	mc.Passwd = cfg.DBPassword
	mc.DBName = cfg.DBName
	mc.Timeout = cfg.DBConnectTimeout
	mc.ReadTimeout = cfg.DBQueryTimeout
	mc.WriteTimeout = cfg.DBQueryTimeout
	mc.ParseTime = true
	mc.InterpolateParams = cfg.DBInterpolateParams
	// After a failover the old writer may come back read-only behind the same
	// endpoint; with this a write there drops the connection instead of
	// failing on it forever, and the pool dials the new writer.
	mc.RejectReadOnly = writer
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", mc.Addr, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(cfg.DBMaxOpenConns)
	db.SetMaxIdleConns(cfg.DBMaxIdleConns)
	// Connections are re-dialled at least once a minute, so a repointed
	// endpoint (failover, proxy) is picked up even by a busy pool.
	db.SetConnMaxLifetime(60 * time.Second)
	db.SetConnMaxIdleTime(30 * time.Second)
	return db, nil
}

func (s *store) Close() {
	if s.reader != s.writer {
		s.reader.Close()
	}
	s.writer.Close()
}

func (s *store) Ping(ctx context.Context) error {
	return s.writer.PingContext(ctx)
}

func (s *store) Products(ctx context.Context) ([]Product, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.reader.QueryContext(ctx, "SELECT id, name, price_cents, stock FROM products ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	products := []Product{}
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.ID, &p.Name, &p.PriceCents, &p.Stock); err != nil {
			return nil, err
		}
		products = append(products, p)
	}
	return products, rows.Err()
}

func (s *store) Product(ctx context.Context, id int64) (Product, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	var p Product
	err := s.reader.QueryRowContext(ctx, "SELECT id, name, price_cents, stock FROM products WHERE id = ?", id).
		Scan(&p.ID, &p.Name, &p.PriceCents, &p.Stock)
	return p, notFound(err)
}

func (s *store) Event(ctx context.Context, id int64) (Event, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	var e Event
	err := s.reader.QueryRowContext(ctx, "SELECT id, name, seats_total, seats_left FROM events WHERE id = ?", id).
		Scan(&e.ID, &e.Name, &e.SeatsTotal, &e.SeatsLeft)
	return e, notFound(err)
}

// Order reads from the writer: a client reading its own order right after
// placing it must not miss it because of replica lag.
func (s *store) Order(ctx context.Context, id int64) (Order, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	c, err := s.findClaim(ctx, orderClaims.findByID, id)
	return Order{c.ID, c.Ref, c.Amount, c.Key}, err
}

func (s *store) CreateOrder(ctx context.Context, productID, quantity int64, key string) (Order, bool, error) {
	c, created, err := s.claim(ctx, orderClaims, productID, quantity, key, s.bug == bugAckBeforeCommit)
	return Order{c.ID, c.Ref, c.Amount, c.Key}, created, err
}

func (s *store) CreateReservation(ctx context.Context, eventID, seats int64, key string) (Reservation, bool, error) {
	c, created, err := s.claim(ctx, reservationClaims, eventID, seats, key, false)
	return Reservation{c.ID, c.Ref, c.Amount, c.Key}, created, err
}

// claim takes amount from row ref and records it under key, in one
// transaction. It returns created=false with the stored claim when the key
// was used before, whatever ref and amount say now: the key wins.
func (s *store) claim(ctx context.Context, k claimKind, ref, amount int64, key string, loseEveryFifth bool) (claim, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()

	if c, err := s.findClaim(ctx, k.findByKey, key); !errors.Is(err, errNotFound) {
		return c, false, err
	}

	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return claim{}, false, err
	}
	defer tx.Rollback() // no-op after Commit

	unguarded := s.bug == bugSkipStockCheck
	check := k.lockLeft
	if unguarded {
		// The planted race: a plain read sees the transaction's snapshot,
		// not the latest row, and nothing stops another request in between.
		check = k.readLeft
	}
	var left int64
	if err := tx.QueryRowContext(ctx, check, ref).Scan(&left); err != nil {
		return claim{}, false, notFound(err)
	}
	if left < amount {
		return claim{}, false, errNotEnough
	}
	if unguarded {
		// work between check and act, as a real handler has: the window the race needs
		select {
		case <-time.After(bugRaceWindow):
		case <-ctx.Done():
			return claim{}, false, ctx.Err()
		}
		_, err = tx.ExecContext(ctx, k.takeUnguarded, amount, ref)
	} else {
		// The row is locked, so the guard cannot fail here; it stays so
		// the statement is safe on its own.
		var res sql.Result
		if res, err = tx.ExecContext(ctx, k.take, amount, ref, amount); err == nil {
			if n, _ := res.RowsAffected(); n != 1 {
				return claim{}, false, errNotEnough
			}
		}
	}
	if err != nil {
		return claim{}, false, err
	}

	res, err := tx.ExecContext(ctx, k.insert, key, ref, amount)
	if isDuplicateKey(err) {
		// A concurrent request with the same key committed first (InnoDB
		// waited for it, so its row is durable): answer with its claim.
		tx.Rollback()
		c, err := s.findClaim(ctx, k.findByKey, key)
		return c, false, err
	}
	if err != nil {
		return claim{}, false, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return claim{}, false, err
	}
	c := claim{ID: id, Ref: ref, Amount: amount, Key: key}

	if loseEveryFifth && id%5 == 0 {
		log.Printf("APP_BUG=%s: rolling back order %d and acknowledging it anyway", bugAckBeforeCommit, id)
		return c, true, tx.Rollback()
	}
	return c, true, tx.Commit()
}

func (s *store) findClaim(ctx context.Context, query string, arg any) (claim, error) {
	var c claim
	err := s.writer.QueryRowContext(ctx, query, arg).Scan(&c.ID, &c.Ref, &c.Amount, &c.Key)
	return c, notFound(err)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	return err
}

func isDuplicateKey(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}
