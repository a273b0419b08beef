# The RDS Proxy stand-in (stacks/apps/rdsproxy), built static by scripts/docker-setup.sh.
# Its admin endpoint listens on the container's 127.0.0.1 only, as on the host.
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/docker/bin/rdsproxy /usr/local/bin/rdsproxy
EXPOSE 3306
HEALTHCHECK --interval=2s --timeout=2s --retries=30 CMD curl -fsS http://127.0.0.1:8081/stats >/dev/null
ENTRYPOINT ["/usr/local/bin/rdsproxy"]
