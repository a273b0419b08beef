package main

import (
	"encoding/binary"
	"errors"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

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
