"""`harness init`: a commented starter scenario (and locustfile) that validates as written.

A team copies its own event into it: the phases of its traffic, the faults it
fears, the SLOs it promises. The files are templates with one placeholder, the
scenario's name; a unit test validates what they produce.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import ConfigError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_HEAD = """\
# {name}: a rehearsal of your own event, written by `harness {writer}`.
#
#   harness validate {file}                      # check it (seconds)
#   harness run {file} --arch modern             # one architecture, about a minute
#   harness run {file}                           # both, one after the other
#
# Durations: "30s", "2m", "500ms". Rates: "200/s", "6000/m". `harness faults` lists
# the fault types, their targets and parameters; scenarios/blackfriday.yaml is a
# bigger example.
name: {name}
description: "{description}"  # one line, shown by `harness list`
# legacy = EC2 era (PHP instances, Classic LB, RDS MySQL, ASG);
# modern = container era (Go tasks on ECS, ALB, Aurora). They run one after the other.
architectures: [legacy, modern]
# the same seed gives the same arrivals in the same order on both architectures
seed: 1
# multiplies every AWS timing (health checks, launches, failovers): 0.1 makes
# a 300 s Auto Scaling grace period 30 s, so a rehearsal takes minutes
time_scale: 0.1
# after the load, before lost orders and oversold seats are checked
drain: 3s
"""

_JOURNEYS = """
workload:
  # what one arrival does, and how often each journey is chosen
  journeys:
    browse: {weight: 6}       # GET /products, then one product
    checkout: {weight: 1}     # one product, then POST /orders (checked for loss afterwards)
  # open model: arrivals follow these rates whether or not the stack keeps up
  phases:
    - {name: warm, shape: constant, rate: 10/s, duration: 10s}
    - {name: doors-open, shape: ramp, from: 10/s, to: 30/s, duration: 5s}
    - {name: peak, shape: constant, rate: 30/s, duration: 20s}
  timeouts: {connect: 1s, read: 5s}

# the fault timeline: `at` is seconds from the start of the load, or `<phase>+5s`;
# a fault without `duration` lasts to the end (kill is instant: the orchestrator
# of each architecture replaces the instance or task, as ASG or ECS would)
faults:
  - {name: lose-an-app, type: kill, target: app-1, at: peak+3s}
  - {name: slow-db, type: latency, target: app->db, latency_ms: 100, at: peak+12s, duration: 4s}

# what "good" means; one that fails makes `harness run` exit 1
slos:
  - {name: keeps-up, metric: achieved_ratio, op: ">=", threshold: 0.95}
  - {name: warm-p99, metric: p99, phase: warm, threshold: 500ms}
  - {name: peak-errors, metric: error_rate, phase: peak, threshold: 5%}
  - {name: recovers, metric: recovery_s, fault: lose-an-app, threshold: 30s}

# "back to normal" after a fault: error rate and p95 within the baseline of the
# seconds before it, for `consecutive` seconds in a row
recovery: {baseline: 5s, consecutive: 3}
"""

_LOCUST_WORKLOAD = """
workload:
  # your own locustfile, run as written (users, wait times, tasks); a relative
  # path is taken from this file's folder. Every request is recorded and judged.
  locustfile:
    path: locustfile.py
    # a LoadTestShape class in the file sets these two over time: then leave them out
    users: 20               # concurrent users
    spawn_rate: 10          # users started per second
    duration: 30s           # how long they run (the one phase is called `main`)
  timeouts: {connect: 1s, read: 5s}

# the fault timeline: `at` is seconds from the start of the load, or `main+5s`
faults:
  - {name: lose-an-app, type: kill, target: app-1, at: 10s}
  - {name: slow-db, type: latency, target: app->db, latency_ms: 100, at: 20s, duration: 4s}

# what "good" means; one that fails makes `harness run` exit 1
slos:
  - {name: p99, metric: p99, threshold: 1s}
  - {name: errors, metric: error_rate, threshold: 5%}
  - {name: recovers, metric: recovery_s, fault: lose-an-app, threshold: 30s}

recovery: {baseline: 5s, consecutive: 3}
"""

LOCUSTFILE = """\
# A locustfile for the sample shop, written by `harness init`; replace the tasks with
# your own. Locust's documentation: https://docs.locust.io/en/stable/writing-a-locustfile.html
#
# It only reads: orders a locustfile places are not in the harness's write log, so the
# invariant check would count them as "orders_unexpected". For writes checked for
# loss, use the scenario's built-in `checkout` journey (see `harness init` without
# --locustfile).
import random

from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.5, 1.5)

    @task(6)
    def browse(self):
        self.client.get("/products")
        self.client.get(f"/products/{random.randint(1, 100)}", name="/products/{id}")

    @task(1)
    def seats(self):
        self.client.get(f"/events/{random.randint(1, 5)}", name="/events/{id}")
"""


def head_text(name: str, *, file: str, description: str, writer: str = "init") -> str:
    """The starter's commented top level (name to drain), for other writers of scenarios."""
    return _HEAD.format(name=name, file=file, description=description, writer=writer)


def scenario_text(name: str, *, locustfile: bool = False, file: str = "") -> str:
    """The starter scenario for `name`; with `locustfile`, its workload is locustfile.py."""
    description = (
        "my event: our own locustfile, an app lost and a slow database" if locustfile
        else "my event: a doors-open ramp to 3x, an app lost at the peak and a slow database"
    )
    head = head_text(name, file=file or f"{name}.yaml", description=description)
    return head + (_LOCUST_WORKLOAD if locustfile else _JOURNEYS)


def write_starter(name: str, directory: Path, *, locustfile: bool = False,
                  force: bool = False) -> list[Path]:
    """Write NAME.yaml (and locustfile.py) into `directory`; ConfigError instead of overwriting."""
    if not NAME.match(name):
        raise ConfigError(
            f"{name!r}: a scenario name is letters, digits, '-', '_' and '.', "
            "starting with a letter or digit (e.g. black-friday-2026)"
        )
    scenario = directory / f"{name}.yaml"
    files = {scenario: scenario_text(name, locustfile=locustfile, file=str(scenario))}
    if locustfile:
        files[directory / "locustfile.py"] = LOCUSTFILE
    existing = [str(p) for p in files if p.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exists; choose another name, "
                          "another --dir, or --force to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    return list(files)
