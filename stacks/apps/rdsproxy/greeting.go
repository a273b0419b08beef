package main

import (
	"bytes"
	"encoding/binary"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"
)

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
