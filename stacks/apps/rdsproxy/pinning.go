package main

import (
	"regexp"
	"strings"
)

// What RDS Proxy does with a statement's effect on the session (RDS User Guide,
// "Avoiding pinning an RDS Proxy", MySQL): most session state cannot follow a
// client to another database connection, so the client is pinned to the one it
// has until it disconnects. A few settings the proxy tracks itself.
type sessionEffect int

const (
	// no session state: the connection goes back to the pool after the transaction
	effectNone sessionEffect = iota
	// state for the next transaction only (SET TRANSACTION ...): keep the connection
	// until that transaction ends
	effectNextTransaction
	// state that lasts for the session: pin
	effectPin
	// SET autocommit: tracked by the proxy, applied to each connection the client borrows
	effectAutocommit
)

var (
	leadingComments = regexp.MustCompile(`^(\s+|/\*.*?\*/|--[^\n]*\n|#[^\n]*\n)+`)
	// a user variable (`@name`), not a system variable (`@@name`), outside quotes
	userVariable = regexp.MustCompile(`(^|[^@\w])@[A-Za-z_$]`)
	quoted       = regexp.MustCompile(`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|` + "`[^`]*`")
	// SET statements whose state the proxy tracks or that the transaction status covers
	trackedSet = regexp.MustCompile(`^SET\s+(SESSION\s+|@@SESSION\.|@@)?(NAMES|CHARACTER\s+SET|CHARSET)\b`)
	autocommit = regexp.MustCompile(`^SET\s+(SESSION\s+|@@SESSION\.|@@)?AUTOCOMMIT\s*=\s*\w+\s*$`)
)

// classify says what a COM_QUERY statement does to the session and why it pins.
func classify(query string) (sessionEffect, string) {
	q := strings.ToUpper(strings.TrimSpace(leadingComments.ReplaceAllString(query, "")))
	bare := quoted.ReplaceAllString(q, "''")
	switch {
	case userVariable.MatchString(bare):
		return effectPin, "user variable"
	case strings.HasPrefix(q, "SET TRANSACTION"):
		return effectNextTransaction, ""
	case autocommit.MatchString(q):
		return effectAutocommit, ""
	case trackedSet.MatchString(q):
		return effectNone, ""
	case strings.HasPrefix(q, "SET "):
		return effectPin, "SET statement"
	case strings.HasPrefix(q, "PREPARE "):
		return effectPin, "prepared statement"
	case strings.HasPrefix(q, "LOCK TABLE"), strings.HasPrefix(q, "FLUSH TABLES WITH READ LOCK"),
		strings.Contains(bare, "GET_LOCK("):
		return effectPin, "explicit lock"
	case strings.HasPrefix(q, "CREATE TEMPORARY TABLE"):
		return effectPin, "temporary table"
	}
	return effectNone, ""
}

func isCommit(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(leadingComments.ReplaceAllString(query, "")))
	return strings.HasPrefix(q, "COMMIT")
}

// endsTransaction: statements a client sends to close a transaction it may have lost.
func endsTransaction(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(leadingComments.ReplaceAllString(query, "")))
	return strings.HasPrefix(q, "ROLLBACK") || strings.HasPrefix(q, "COMMIT")
}
