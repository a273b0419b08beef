#!/bin/bash
# The compose stack's one-shot seed job (mariadb image): what Stack does before the apps
# start. Schema and the app's user on the writer, GTID replication on every replica
# (REPLICAS), the shop's data (generated/seed.sql, the harness's default SeedPlan), the
# replicas caught up, and LocalStack's queue (QUEUE) and bucket (BUCKET, may be empty).
set -euo pipefail
sql() { local host=$1; shift; mariadb --no-defaults --protocol=tcp -h "$host" -uroot "$@"; }
sql db-writer <<'SQL'
CREATE DATABASE IF NOT EXISTS shop;
CREATE USER IF NOT EXISTS 'shop'@'%' IDENTIFIED BY 'shop-pass';
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO 'shop'@'%';
SQL
grep -v '^ *--' /seed/schema.sql | sql db-writer shop
for replica in ${REPLICAS:-}; do
  sql "$replica" -e "SET GLOBAL read_only = 1; STOP SLAVE;
    CHANGE MASTER TO MASTER_HOST='db-writer', MASTER_PORT=3306, MASTER_USER='root',
      MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
    START SLAVE;"
done
sql db-writer shop < /seed/seed.sql
pos=$(sql db-writer -N -e "SELECT @@GLOBAL.gtid_binlog_pos")
for replica in ${REPLICAS:-}; do
  [ "$(sql "$replica" -N -e "SELECT MASTER_GTID_WAIT('$pos', 30)")" = 0 ] \
    || { echo "seed: $replica did not catch up with db-writer ($pos) within 30 s" >&2; exit 1; }
done
# LocalStack answers unsigned requests: the query API for SQS, a plain PUT for S3
curl -fsS -o /dev/null --data "Action=CreateQueue&QueueName=$QUEUE" http://aws:4566/
if [ -n "${BUCKET:-}" ]; then
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "http://aws:4566/$BUCKET")
  case $code in 200|409) ;; *) echo "seed: creating bucket $BUCKET: HTTP $code" >&2; exit 1;; esac
fi
echo "seed: done (GTID $pos)"
