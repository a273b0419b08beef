# One ECS-era task: the Go sample service (stacks/apps/go), built static by
# scripts/docker-setup.sh into stacks/docker/bin/. python3-minimal runs the stressors of
# the cpu_stress and memory_pressure faults inside the task (harness/faults/resource.py).
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends curl ca-certificates python3-minimal \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/docker/bin/shop /usr/local/bin/shop
ENV APP_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=2s --timeout=2s --retries=30 CMD curl -fsS http://127.0.0.1:8080/ready >/dev/null
ENTRYPOINT ["/usr/local/bin/shop"]
