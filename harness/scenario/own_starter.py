"""`harness init --own-service DIR`: a starter folder for rehearsing a team's own service.

Five files that `harness validate DIR/scenario.yaml` accepts as written: the scenario
(with its `own_service:` block), a profile per era that extends the shipped one and
changes only the app, the schema, and a locustfile that marks its writes with
`record_write`. Every line to change says `FILL IN`; the example under
examples/payments is the same shape, filled in.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError

SCENARIO = """\
# Your own service on both eras, written by `harness init --own-service`.
# Lines to change say FILL IN; examples/payments is this folder filled in.
#
#   harness validate {dir}/scenario.yaml
#   harness run {dir}/scenario.yaml
name: my-service
description: "my service on both eras, an app lost and a slow database"  # FILL IN
# one label per era; each runs the profile file its variant names
architectures: [legacy#mine, modern#mine]
seed: 1
time_scale: 0.05          # every AWS timing x 0.05: a 30 s health check every 1.5 s
drain: 2s

variants:
  legacy#mine:
    description: my service on the EC2-era stack (legacy.yaml)
    profile: legacy.yaml
  modern#mine:
    description: my service on the container-era stack (modern.yaml)
    profile: modern.yaml

workload:
  locustfile: {{path: locustfile.py, users: 3, spawn_rate: 3, duration: 20s}}

# your data and your checks, the same on both eras (README: Rehearse your own service)
own_service:
  schema: [schema.sql]        # SQL files, or {{command: [./migrate.sh]}}; run on the writer
  # seed: [seed.sql]          # rows your service needs before the load
  # queues: [my-events]       # created in LocalStack; the app gets SQS_QUEUE_URL_MY_EVENTS
  # buckets: [my-receipts]    # the app gets S3_BUCKET_MY_RECEIPTS
  invariants:                 # read-only queries run after the drain; FILL IN your own
    - name: no_empty_items
      description: every item has a name
      sql: SELECT id FROM items WHERE name = ''
      expect: no_rows           # or {{value: N}}, {{rows: N}}, with op: ">=" etc.

faults:
  - {{name: kill-app, type: kill, target: app-1, at: main+4s}}
  - {{name: slow-db, type: latency, target: app->db, latency_ms: 150, at: main+12s, duration: 3s}}

slos:
  - {{name: errors, metric: error_rate, threshold: 5%}}
  - {{name: p99, metric: p99, threshold: 1s}}
  - {{name: recovers-from-kill, metric: recovery_s, fault: kill-app, threshold: 20s}}

recovery: {{baseline: 4s, consecutive: 3}}
"""

PROFILE = """\
# Your service on the {era_text} stack: stacks/{era}/profile.yaml (every cited AWS
# behaviour) with only the app changed. No name: the stack keeps {era}'s.
extends: {era}
app:
  # FILL IN: how your service starts, run in this file's folder; {{port}} is the port it
  # must listen on (also in PORT), {{host}} 127.0.0.1, {{python}} the harness's Python
  command: ["{{python}}", app.py, --port, "{{port}}"]
  health_path: /ready         # FILL IN: readiness (can serve: its database answers)
  liveness_path: /health      # FILL IN: liveness (the process answers)
  # FILL IN: the names your code reads, from the harness's (DB_HOST, DB_PORT, DB_USER,
  # DB_PASSWORD, DB_NAME, AWS_ENDPOINT_URL, AWS_REGION, SQS_QUEUE_URL_<NAME>, ...)
  env:
    MY_DB_HOST: ${{DB_HOST}}
    MY_DB_PORT: ${{DB_PORT}}
    MY_DB_USER: ${{DB_USER}}
    MY_DB_PASSWORD: ${{DB_PASSWORD}}
    MY_DB_NAME: ${{DB_NAME}}
# the load balancer's health check requests this path; FILL IN your readiness path
load_balancer:
  health_check:
    path: {{value: /ready, source: "my service's readiness path (app.health_path)"}}
"""

SCHEMA = """\
-- FILL IN: your service's schema, run on the database writer before the load.
CREATE TABLE items (
  id VARCHAR(64) PRIMARY KEY,
  name VARCHAR(200) NOT NULL
) ENGINE=InnoDB;
"""

LOCUSTFILE = """\
# FILL IN: your traffic. Every write is marked with record_write, so after the drain the
# harness looks each acknowledged key up in items.id: one missing is a lost write.
import uuid

from locust import HttpUser, constant_throughput, task

from harness.load.acked import record_write


class Client(HttpUser):
    wait_time = constant_throughput(2)

    @task
    def create(self):
        key = uuid.uuid4().hex
        response = self.client.post("/items", json={"id": key, "name": "one"})
        record_write(response, table="items", column="id", key=key)
"""


def write_own_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the starter's files into `directory`; ConfigError instead of overwriting."""
    files = {
        directory / "scenario.yaml": SCENARIO.format(dir=directory),
        directory / "legacy.yaml": PROFILE.format(era="legacy", era_text="EC2-era"),
        directory / "modern.yaml": PROFILE.format(era="modern", era_text="container-era"),
        directory / "schema.sql": SCHEMA,
        directory / "locustfile.py": LOCUSTFILE,
    }
    existing = [str(p) for p in files if p.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exists; choose another folder or "
                          "--force to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    return list(files)
