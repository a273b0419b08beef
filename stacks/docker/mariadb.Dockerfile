# MariaDB from Debian, as the stack's RDS / Aurora instances (writer, reader, standby).
# Same server options as the process runtime (harness/stacks/components/mariadb.py);
# the server id, max_connections and the semi-sync options come from the compose file's
# `command`.
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends mariadb-server mariadb-client curl \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql/*
COPY stacks/docker/mariadb/entrypoint.sh /usr/local/bin/entrypoint.sh
# the compose stack's seed job runs in this image too (stacks/docker/seed/seed.sh)
COPY stacks/docker/seed/seed.sh stacks/apps/schema.sql stacks/docker/generated/seed.sql /seed/
EXPOSE 3306
HEALTHCHECK --interval=2s --timeout=2s --retries=30 \
  CMD mariadb-admin --no-defaults --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
