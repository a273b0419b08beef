<?php

declare(strict_types=1);

namespace Shop;

use PDO;
use PDOException;

/** The handlers of stacks/api.yaml that need the database (and the queue). */
final class Shop
{
    /** skip_stock_check's pause between its unlocked check and its decrement (the Go app's bugRaceWindow). */
    private const BUG_RACE_WINDOW_US = 50000;

    /** Orders and reservations are the same idempotent "take from a counter" write. */
    private const WRITES = [
        'order' => [
            'table' => 'orders', 'id' => 'order_id', 'ref' => 'product_id', 'amount' => 'quantity',
            'counter_table' => 'products', 'counter' => 'stock',
            'missing' => 'no such product', 'short' => ['out_of_stock', 'not enough stock'],
        ],
        'reservation' => [
            'table' => 'reservations', 'id' => 'reservation_id', 'ref' => 'event_id', 'amount' => 'seats',
            'counter_table' => 'events', 'counter' => 'seats_left',
            'missing' => 'no such event', 'short' => ['sold_out', 'not enough seats left'],
        ],
    ];

    private ?PDO $db = null;

    public function __construct(private readonly Config $config)
    {
    }

    public function ready(): Response
    {
        $this->db()->query('SELECT 1')->fetchColumn();
        return Response::json(200, ['status' => 'ok']);
    }

    public function listProducts(): Response
    {
        $rows = $this->db()->query('SELECT id, name, price_cents, stock FROM products ORDER BY id')->fetchAll();
        return Response::json(200, array_map(self::product(...), $rows));
    }

    public function getProduct(int $id): Response
    {
        $row = $this->one('SELECT id, name, price_cents, stock FROM products WHERE id = ?', [$id]);
        return $row ? Response::json(200, self::product($row)) : throw new HttpError(404, 'not_found', 'no such product');
    }

    public function getOrder(int $id): Response
    {
        $row = $this->one('SELECT id, idempotency_key, product_id, quantity FROM orders WHERE id = ?', [$id]);
        return $row ? Response::json(200, self::written('order', $row)) : throw new HttpError(404, 'not_found', 'no such order');
    }

    public function getEvent(int $id): Response
    {
        $row = $this->one('SELECT id, name, seats_total, seats_left FROM events WHERE id = ?', [$id]);
        if (!$row) {
            throw new HttpError(404, 'not_found', 'no such event');
        }
        return Response::json(200, [
            'id' => (int) $row['id'], 'name' => $row['name'],
            'seats_total' => (int) $row['seats_total'], 'seats_left' => (int) $row['seats_left'],
        ]);
    }

    public function createOrder(): Response
    {
        $body = self::body();
        $productId = self::int($body, 'product_id');
        $quantity = self::int($body, 'quantity', 1, 100);
        $key = self::key($body);

        [$status, $order] = $this->writeOnce('order', $key, $productId, $quantity);
        if ($status === 201) {
            Metrics::countOrderCreated();
        }
        // Also on a replay: the first attempt may have committed and then failed
        // to publish (503), and the contract promises the retry publishes.
        Queue::publish($this->config, $order);
        return Response::json($status, $order);
    }

    public function reserve(int $eventId): Response
    {
        $body = self::body();
        $seats = self::int($body, 'seats', 1, 10);
        $key = self::key($body);

        [$status, $reservation] = $this->writeOnce('reservation', $key, $eventId, $seats);
        return Response::json($status, $reservation);
    }

    /**
     * One transaction: a known key returns what it made (200); otherwise take
     * from the counter, insert, commit (201). The unique key on
     * idempotency_key settles two first attempts racing each other.
     *
     * @return array{0: int, 1: array<string, int|string>}
     */
    private function writeOnce(string $kind, string $key, int $refId, int $amount): array
    {
        $w = self::WRITES[$kind];
        $db = $this->db();
        $db->beginTransaction();
        try {
            if ($existing = $this->findByKey($kind, $key)) {
                $db->commit();
                return [200, $existing];
            }
            if (!$this->take($w['counter_table'], $w['counter'], $refId, $amount)) {
                $exists = $this->one("SELECT 1 FROM {$w['counter_table']} WHERE id = ?", [$refId]);
                throw $exists ? new HttpError(409, $w['short'][0], $w['short'][1]) : new HttpError(404, 'not_found', $w['missing']);
            }
            try {
                $db->prepare("INSERT INTO {$w['table']} (idempotency_key, {$w['ref']}, {$w['amount']}) VALUES (?, ?, ?)")
                    ->execute([$key, $refId, $amount]);
            } catch (PDOException $e) {
                if (!Db::isDuplicateKey($e)) {
                    throw $e;
                }
                // Another request with this key committed first: undo our take, answer theirs.
                $db->rollBack();
                $winner = $this->findByKey($kind, $key);
                return $winner ? [200, $winner] : throw new PDOException('the concurrent write for this key vanished; retry');
            }
            $row = self::written($kind, [
                'id' => (int) $db->lastInsertId(), 'idempotency_key' => $key, $w['ref'] => $refId, $w['amount'] => $amount,
            ]);
            if ($kind === 'order' && $this->config->bug === 'ack_before_commit' && $row['order_id'] % 5 === 0) {
                // Planted bug: the order is thrown away, yet acknowledged and published.
                $db->rollBack();
            } else {
                $db->commit();
            }
            return [201, $row];
        } finally {
            Db::rollBackQuietly($db);
        }
    }

    /** Takes $amount from a stock or seats counter; false when there is not enough (or no such row). */
    private function take(string $table, string $column, int $id, int $amount): bool
    {
        if ($this->config->bug === 'skip_stock_check') {
            // Planted bug: check, then act. The check reads a snapshot without a
            // lock and the decrement has no guard, so requests running at the
            // same time all see enough left and all decrement, below zero.
            $left = $this->one("SELECT $column AS n FROM $table WHERE id = ?", [$id]);
            if (!$left || $left['n'] < $amount) {
                return false;
            }
            // work between check and act, as a real handler has: the window the race needs
            usleep(self::BUG_RACE_WINDOW_US);
            $this->db()->prepare("UPDATE $table SET $column = $column - ? WHERE id = ?")->execute([$amount, $id]);
            return true;
        }
        // The guard makes check and decrement one atomic statement: never below zero.
        $stmt = $this->db()->prepare("UPDATE $table SET $column = $column - ? WHERE id = ? AND $column >= ?");
        $stmt->execute([$amount, $id, $amount]);
        return $stmt->rowCount() === 1;
    }

    private function findByKey(string $kind, string $key): ?array
    {
        $w = self::WRITES[$kind];
        $row = $this->one("SELECT id, idempotency_key, {$w['ref']}, {$w['amount']} FROM {$w['table']} WHERE idempotency_key = ?", [$key]);
        return $row ? self::written($kind, $row) : null;
    }

    private function db(): PDO
    {
        return $this->db ??= Db::connect($this->config);
    }

    private function one(string $sql, array $params): ?array
    {
        $stmt = $this->db()->prepare($sql);
        $stmt->execute($params);
        return $stmt->fetch() ?: null;
    }

    /** An order or reservation row as the contract spells it. */
    private static function written(string $kind, array $row): array
    {
        $w = self::WRITES[$kind];
        return [
            $w['id'] => (int) $row['id'],
            $w['ref'] => (int) $row[$w['ref']],
            $w['amount'] => (int) $row[$w['amount']],
            'idempotency_key' => (string) $row['idempotency_key'],
        ];
    }

    private static function product(array $row): array
    {
        return [
            'id' => (int) $row['id'], 'name' => $row['name'],
            'price_cents' => (int) $row['price_cents'], 'stock' => (int) $row['stock'],
        ];
    }

    private static function body(): array
    {
        $body = json_decode((string) file_get_contents('php://input'), true);
        return is_array($body) ? $body : throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
    }

    /** JSON integers only: "3", 3.0 and true are refused, as a typed decoder would. */
    private static function int(array $body, string $field, ?int $min = null, ?int $max = null): int
    {
        $value = $body[$field] ?? null;
        if (!is_int($value) || ($min !== null && $value < $min) || ($max !== null && $value > $max)) {
            $range = $min !== null ? " between $min and $max" : '';
            throw new HttpError(400, 'invalid_request', "$field must be an integer$range");
        }
        return $value;
    }

    private static function key(array $body): string
    {
        $key = $body['idempotency_key'] ?? null;
        // /u counts characters, not bytes, and refuses invalid UTF-8.
        if (!is_string($key) || !preg_match('/^.{1,64}$/su', $key)) {
            throw new HttpError(400, 'invalid_request', 'idempotency_key must be a string of 1 to 64 characters');
        }
        // The column is ASCII (schema.sql): the database would refuse the key,
        // and a client's mistake must not look like a database outage (503).
        if (preg_match('/[^\x00-\x7F]/', $key)) {
            throw new HttpError(400, 'invalid_request', 'idempotency_key must be ASCII');
        }
        return $key;
    }
}
