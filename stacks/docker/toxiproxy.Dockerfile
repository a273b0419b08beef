# Toxiproxy (pinned, built static through the Go module proxy by scripts/docker-setup.sh):
# one proxy per edge, from stacks/docker/generated/<arch>/toxiproxy.json.
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/docker/bin/toxiproxy-server /usr/local/bin/toxiproxy-server
COPY stacks/docker/generated/legacy/toxiproxy.json /etc/harness/legacy/toxiproxy.json
COPY stacks/docker/generated/modern/toxiproxy.json /etc/harness/modern/toxiproxy.json
# at info it logs every client connection (see harness/stacks/components/toxiproxy.py)
ENV LOG_LEVEL=warn
EXPOSE 8474
HEALTHCHECK --interval=2s --timeout=2s --retries=30 CMD curl -fsS http://127.0.0.1:8474/version >/dev/null
ENTRYPOINT ["/usr/local/bin/toxiproxy-server", "-host", "0.0.0.0", "-port", "8474"]
