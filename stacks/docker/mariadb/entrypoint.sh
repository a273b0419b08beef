#!/bin/sh
# A fresh datadir on first start (about half a second), then mariadbd in the foreground.
# root may connect from the stack's network (the seed job and replicas use it), as the
# harness's root does over TCP in the process runtime; nothing of this is logged to the
# binlog, so a replica's GTID history starts empty and strict mode accepts the writer's.
# The compose file's command adds the server id, max_connections (the profile's) and the
# semi-sync options.
set -eu
DATA=/var/lib/mysql
if [ ! -d "$DATA/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$DATA" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null
fi
cat > /tmp/init.sql <<'SQL'
SET sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'root'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
exec mariadbd --no-defaults --user=root --datadir="$DATA" --socket=/run/mysqld.sock \
  --port=3306 --bind-address=0.0.0.0 --skip-name-resolve --init-file=/tmp/init.sql \
  --log-bin=binlog --log-slave-updates --binlog-format=ROW --gtid-strict-mode=1 \
  --innodb-buffer-pool-size=64M \
  --innodb-flush-log-at-trx-commit=1 --sync-binlog=1 "$@"
