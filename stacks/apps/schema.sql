-- The shop's schema, shared by both sample services. The harness creates it
-- (and seeds it) before the apps start; the apps never run DDL.
CREATE TABLE IF NOT EXISTS products (
  id          INT PRIMARY KEY,
  name        VARCHAR(120) NOT NULL,
  price_cents INT NOT NULL,
  -- signed on purpose: the invariant checker must be able to see a negative stock
  stock       INT NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS orders (
  id              BIGINT AUTO_INCREMENT PRIMARY KEY,
  -- binary NO PAD collation: keys are compared byte for byte, never case- or
  -- space-folded (ascii_bin would treat 'k' and 'k ' as one key)
  idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  product_id      INT NOT NULL,
  quantity        INT NOT NULL,
  created_at      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY orders_idempotency_key (idempotency_key)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS events (
  id          INT PRIMARY KEY,
  name        VARCHAR(120) NOT NULL,
  seats_total INT NOT NULL,
  -- signed on purpose, as products.stock
  seats_left  INT NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS reservations (
  id              BIGINT AUTO_INCREMENT PRIMARY KEY,
  -- binary NO PAD collation: keys are compared byte for byte, never case- or
  -- space-folded (ascii_bin would treat 'k' and 'k ' as one key)
  idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  event_id        INT NOT NULL,
  seats           INT NOT NULL,
  created_at      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY reservations_idempotency_key (idempotency_key)
) ENGINE=InnoDB;
