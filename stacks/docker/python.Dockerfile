# A team's own service written in Python (`app.command: ["{python}", app.py, ...]`, as in
# examples/payments): Debian's python3 with the libraries the harness's own Python gives
# such a service under the process runtime (Flask, PyMySQL, boto3). The service's code is
# not copied in: the docker runtime mounts its folder (app.workdir) read-only at the same
# path. curl for a health check by hand; no entrypoint: the runtime gives the command.
FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends python3 python3-flask python3-pymysql python3-boto3 curl \
      ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# a service's own log lines reach its log file as they are written, not at exit
ENV PYTHONUNBUFFERED=1
