# LocalStack without its own image (no container registry here): localstack-core on
# Python 3.13 from Debian trixie (bookworm has 3.11; localstack-core 2026.3 needs 3.13),
# with the pins of scripts/setup.sh and every other version fixed (localstack/constraints.txt).
# stacks/docker/certs/ holds the host's extra CA certificates (if any), which pip needs
# behind a TLS-inspecting proxy.
FROM debian:trixie-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends python3 python3-venv ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY stacks/docker/certs/ /usr/local/share/ca-certificates/
COPY stacks/docker/localstack/constraints.txt /tmp/constraints.txt
RUN update-ca-certificates >/dev/null \
    && python3 -m venv /opt/localstack \
    && PIP_CERT=/etc/ssl/certs/ca-certificates.crt /opt/localstack/bin/pip install -q \
       --no-cache-dir -c /tmp/constraints.txt \
       "localstack-core[runtime]==2026.3.0" "cbor2<6" "pyopenssl==24.2.1" \
       "cryptography==43.0.3" "service_identity<24.3"
ENV GATEWAY_LISTEN=0.0.0.0:4566 SERVICES=sqs,s3 EAGER_SERVICE_LOADING=1 DNS_ADDRESS=0 \
    PERSISTENCE=0 DISABLE_EVENTS=1 SQS_ENDPOINT_STRATEGY=path SKIP_SSL_CERT_DOWNLOAD=1 \
    LOCALSTACK_VOLUME_DIR=/var/lib/localstack FILESYSTEM_ROOT=/var/lib/localstack/fs
WORKDIR /var/lib/localstack
EXPOSE 4566
HEALTHCHECK --interval=2s --timeout=2s --retries=60 \
  CMD curl -fsS http://127.0.0.1:4566/_localstack/health | grep -q '"sqs": "running"'
ENTRYPOINT ["/opt/localstack/bin/python", "-m", "localstack.runtime.main"]
