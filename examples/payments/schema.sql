-- The payments service's own schema, run on the database writer before any load.
CREATE TABLE accounts (
  id INT PRIMARY KEY,
  opening_cents BIGINT NOT NULL,
  balance_cents BIGINT NOT NULL
) ENGINE=InnoDB;

CREATE TABLE payments (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  idempotency_key VARCHAR(64) NOT NULL,
  account_id INT NOT NULL,
  amount_cents BIGINT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY payments_idempotency_key (idempotency_key),
  KEY payments_account (account_id)
) ENGINE=InnoDB;
