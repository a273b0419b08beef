"""Fixtures of the contract suite: real MariaDB, LocalStack and Toxiproxy, both apps.

The backing parts start once per session with the harness's own components
(`harness.stacks.components.*`) on the process runtime, or on the docker runtime with
HARNESS_CONTRACT_RUNTIME=docker (tests/containers/test_contract_on_docker.py runs the
suite so); the docker runtime uses the host's network, so every 127.0.0.1 port below
means the same on both. Every app instance talks to MariaDB through its own Toxiproxy
proxy (so one test can cut one app off its database) and to LocalStack through its own
proxy and the AWS fault point (so a test can throttle SQS), with its own queue (and,
Go, bucket). Each app gets its architecture's client settings (timeouts, AWS attempts)
from the stack profile. Tests create their own product and event rows, so they never
depend on order.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from contract_support import AppUnderTest, Backends

from harness.model.profile_file import load_profile
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.select import RUNTIMES, make_runtime
from harness.settings import Settings
from harness.stacks import seed as seeding
from harness.stacks.components import apps, awsfault, localstack, mariadb, toxiproxy

KINDS = ("php", "go")
#: the architecture whose profile each kind of app comes from
PROFILE_OF = {"php": "legacy", "go": "modern"}
#: names the runtime the suite's parts run on (default: process)
RUNTIME_ENV = "HARNESS_CONTRACT_RUNTIME"


@pytest.fixture(scope="session")
def runtime_name() -> str:
    """The runtime of this session, from HARNESS_CONTRACT_RUNTIME (process by default)."""
    name = os.environ.get(RUNTIME_ENV) or "process"
    if name not in RUNTIMES:
        pytest.fail(f"{RUNTIME_ENV}={name!r}: choose one of {', '.join(RUNTIMES)}")
    return name


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory, runtime_name: str) -> Iterator[Backends]:
    """MariaDB (seeded), LocalStack (SQS + S3) and Toxiproxy, for the whole session."""
    settings = Settings.from_env()
    root = tmp_path_factory.mktemp("contract")
    stack_id = f"contract-{uuid.uuid4().hex[:8]}"
    # the docker runtime mounts the work dir (data dirs, configs) at the same path
    runtime = make_runtime(runtime_name, stack_id=stack_id, workdir=root / "work",
                           log_dir=root / "logs")
    ports = PortAllocator()
    toxi_port, aws_port, db_port = ports.take(), ports.take(), ports.take()
    fault_port = ports.take()
    try:
        db_dir = root / "work" / "db"
        mariadb.install_datadir(db_dir / "data", runtime.log_path("db"), cache=settings.cache_dir)
        runtime.launch(mariadb.spec("db", port=db_port, workdir=db_dir, zone=None,
                                    options=mariadb.server_options(1)))
        runtime.start_many([
            toxiproxy.spec(api_port=toxi_port, binary=settings.tool("toxiproxy-server"), seed=1),
            localstack.spec(
                port=aws_port, python=settings.localstack_python,
                workdir=root / "work" / "localstack", services=["sqs", "s3"],
            ),
            awsfault.spec(port=fault_port, upstream_port=aws_port, seed=1),
        ])
        runtime.wait("db")
        mariadb.bootstrap(db_port)
        seeding.seed(db_port, seeding.SeedPlan(seed=1, products=20, events=3))
        backends = Backends(
            runtime=runtime, stack_id=stack_id, ports=ports, settings=settings, root=root,
            db_port=db_port, aws_port=aws_port, aws_endpoint=f"http://{LOOPBACK}:{aws_port}",
            toxi=toxiproxy.ToxiproxyClient(f"http://{LOOPBACK}:{toxi_port}"),
            aws_fault_port=fault_port,
        )
        yield backends
        backends.close()
    finally:
        runtime.close()


@pytest.fixture(scope="session")
def start_app(backends: Backends) -> Iterator[Callable[[str, str | None], AppUnderTest]]:
    """Start (once per session) an app of a kind, optionally with a planted bug."""
    started: dict[tuple[str, str | None], AppUnderTest] = {}

    def start(kind: str, bug: str | None = None) -> AppUnderTest:
        if (kind, bug) not in started:
            started[kind, bug] = _start_app(backends, kind, bug)
        return started[kind, bug]

    yield start
    for app in started.values():
        app.close()
        backends.runtime.stop(app.name)


@pytest.fixture(scope="session")
def start_release(backends: Backends) -> Iterator[Callable[[str, dict[str, str]], AppUnderTest]]:
    """Start (once per session) an app of a kind running a release (APP_VERSION and its
    parameters, as a deploy sets them), named after the variables' values."""
    started: dict[tuple[str, tuple[tuple[str, str], ...]], AppUnderTest] = {}

    def start(kind: str, release: dict[str, str]) -> AppUnderTest:
        key = (kind, tuple(sorted(release.items())))
        if key not in started:
            label = "-".join(v for _k, v in key[1])
            started[key] = _start_app(backends, kind, None, release=release, label=label)
        return started[key]

    yield start
    for app in started.values():
        app.close()
        backends.runtime.stop(app.name)


def _start_app(b: Backends, kind: str, bug: str | None, *, release: dict[str, str] | None = None,
               label: str | None = None) -> AppUnderTest:
    name = f"{kind}-{bug.replace('_', '-')}" if bug else kind
    if label:
        name = f"{name}-{label}"
    profile = load_profile(PROFILE_OF[kind])
    db_proxy, aws_proxy = f"db_{name.replace('-', '_')}", f"aws_{name.replace('-', '_')}"
    proxy_port, aws_port, app_port = b.ports.take(), b.ports.take(), b.ports.take()
    b.toxi.create(db_proxy, listen_port=proxy_port, upstream_port=b.db_port)
    b.toxi.create(aws_proxy, listen_port=aws_port, upstream_port=b.aws_fault_port)
    queue_url = localstack.create_resources(
        b.aws_endpoint, queue=f"orders-{name}", bucket=f"receipts-{name}" if kind == "go" else None
    )
    # The queue URL names LocalStack's own port; the app must reach it through its proxy.
    app_queue_url = urlunsplit(urlsplit(queue_url)._replace(netloc=f"{LOOPBACK}:{aws_port}"))
    env = {
        "APP_NAME": f"contract-{name}",
        "DB_HOST": LOOPBACK, "DB_PORT": str(proxy_port), "DB_NAME": mariadb.DATABASE,
        "DB_USER": mariadb.APP_USER, "DB_PASSWORD": mariadb.APP_PASSWORD,
        "AWS_ENDPOINT_URL": f"http://{LOOPBACK}:{aws_port}", "AWS_REGION": localstack.REGION,
        "AWS_ACCESS_KEY_ID": localstack.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": localstack.SECRET_ACCESS_KEY,
        "SQS_QUEUE_URL": app_queue_url,
        **profile.app.client.env(),
    }
    if kind == "go":
        env["S3_BUCKET"] = f"receipts-{name}"
        env["SHUTDOWN_GRACE_MS"] = "1000"
    if bug:
        env["APP_BUG"] = bug
    env.update(release or {})
    if kind == "php":
        spec = apps.php_instance(
            name, profile=profile, port=app_port, workdir=b.root / "work" / name,
            log_dir=b.root / "logs", env=env, zone="a",
            php_fpm=b.settings.tool("php-fpm8.2"), nginx=b.settings.tool("nginx"),
        )
    else:
        spec = apps.go_task(
            name, profile=profile, port=app_port, binary=b.settings.go_app_binary, env=env,
            zone="a",
        )
    # The contract is about behaviour, not capacity: neither kind gets its instance/task
    # size here (the suite shares a small machine and must not starve either app).
    spec = dataclasses.replace(spec, limits=None)
    b.runtime.start(spec)
    return AppUnderTest(
        name=name, kind=kind, bug=bug, url=f"http://{LOOPBACK}:{app_port}",
        app_name=env["APP_NAME"], queue_url=queue_url, bucket=env.get("S3_BUCKET"),
        db_proxy=db_proxy, aws_proxy=aws_proxy, backends=b, log=Path(b.runtime.log_path(name)),
    )


@pytest.fixture(scope="session", params=KINDS)
def app(request: pytest.FixtureRequest, start_app: Callable[[str, str | None], AppUnderTest]) -> (
    AppUnderTest
):
    """The correct app of each kind (ids `php`, `go`)."""
    return start_app(str(request.param), None)


_ids = itertools.count(10_000)


@pytest.fixture
def new_product(backends: Backends) -> Callable[[int], int]:
    """Insert a product with the given stock under a fresh id; return the id."""

    def make(stock: int) -> int:
        pid = next(_ids)
        backends.execute(
            "INSERT INTO products (id, name, price_cents, stock) VALUES (%s, %s, %s, %s)",
            (pid, f"contract-product-{pid}", 1234, stock),
        )
        return pid

    return make


@pytest.fixture
def new_event(backends: Backends) -> Callable[[int, int], int]:
    """Insert an event with (seats_total, seats_left) under a fresh id; return the id."""

    def make(seats_total: int, seats_left: int) -> int:
        eid = next(_ids)
        backends.execute(
            "INSERT INTO events (id, name, seats_total, seats_left) VALUES (%s, %s, %s, %s)",
            (eid, f"contract-event-{eid}", seats_total, seats_left),
        )
        return eid

    return make


@pytest.fixture
def key() -> str:
    """A fresh idempotency key."""
    return f"contract-{uuid.uuid4().hex}"
