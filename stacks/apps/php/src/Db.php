<?php

declare(strict_types=1);

namespace Shop;

use PDO;
use PDOException;

final class Db
{
    /**
     * By default one new connection per request, closed when the request ends,
     * as classic PHP on EC2 did (no pool survives a request, and persistent
     * connections were avoided because a half-dead one is reused after a DB
     * failover or a network fault). So the legacy stack pays a TCP + MySQL
     * handshake on every request and opens up to pm.max_children connections
     * per instance: that cost and that behaviour under faults are what the
     * rehearsal compares. DB_PERSISTENT=1 sets PDO::ATTR_PERSISTENT: each
     * php-fpm child then keeps its connection for its lifetime (max_children
     * connections per instance, busy or not). At the database's
     * max_connections the connect fails with 1040 "Too many connections",
     * which App answers 503 like any database error.
     */
    public static function connect(Config $c): PDO
    {
        // mysqlnd only knows whole seconds on the client side; the server-side
        // max_statement_time below enforces the exact budget. The client read
        // timeout is what saves us when the server (or the path to it) goes silent.
        ini_set('mysqlnd.net_read_timeout', (string) self::seconds($c->dbQueryTimeoutMs));

        $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', $c->dbHost, $c->dbPort, $c->dbName);
        return new PDO($dsn, $c->dbUser, $c->dbPassword, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_TIMEOUT => self::seconds($c->dbConnectTimeoutMs),
            PDO::ATTR_PERSISTENT => $c->dbPersistent,
            // MariaDB aborts any statement (lock waits included) that runs longer.
            PDO::MYSQL_ATTR_INIT_COMMAND => sprintf('SET SESSION max_statement_time = %.3F', $c->dbQueryTimeoutMs / 1000),
        ]);
    }

    public static function isDuplicateKey(PDOException $e): bool
    {
        return ($e->errorInfo[1] ?? null) === 1062;
    }

    /** Rolls back if it still can; a broken connection has nothing left to undo. */
    public static function rollBackQuietly(PDO $db): void
    {
        try {
            if ($db->inTransaction()) {
                $db->rollBack();
            }
        } catch (PDOException) {
        }
    }

    private static function seconds(int $ms): int
    {
        return max(1, (int) ceil($ms / 1000));
    }
}
