# HAProxy from Debian as the load balancer: a Classic LB (legacy.cfg) or an ALB
# (modern.cfg), both rendered from stacks/common/haproxy.cfg.j2 by
# `python -m harness.stacks.compose` into stacks/docker/generated/.
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends haproxy curl \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/docker/generated/legacy/haproxy.cfg /etc/harness/legacy/haproxy.cfg
COPY stacks/docker/generated/modern/haproxy.cfg /etc/harness/modern/haproxy.cfg
COPY stacks/docker/generated/http-errors.map /run/harness/http-errors.map
EXPOSE 80
ENTRYPOINT ["haproxy", "-db"]
CMD ["-f", "/etc/harness/modern/haproxy.cfg"]
