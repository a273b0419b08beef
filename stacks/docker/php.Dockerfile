# One EC2-era instance: nginx in front of a php-fpm pool with a fixed pm.max_children,
# configs rendered from stacks/legacy/templates/ (stacks/docker/generated/legacy/).
# python3-minimal runs the stressors of the cpu_stress and memory_pressure faults inside
# the instance (harness/faults/resource.py).
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends nginx-light php8.2-fpm php8.2-mysql php8.2-curl php8.2-apcu \
      php-async-aws-sqs curl python3-minimal \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/apps/php /app
COPY stacks/docker/generated/legacy/nginx.conf stacks/docker/generated/legacy/php-fpm.conf /etc/harness/
COPY stacks/docker/php/entrypoint.sh /usr/local/bin/entrypoint.sh
EXPOSE 8080
HEALTHCHECK --interval=2s --timeout=2s --retries=30 CMD curl -fsS http://127.0.0.1:8080/ready >/dev/null
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
