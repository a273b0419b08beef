"""The load engine against real targets: Debian's nginx, a fake shop, a server that stalls."""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench._targets import StallServer, StaticNginx
from harness.errors import LoadError
from harness.load import writes
from harness.load.runner import LoadResult, run_load
from harness.runtime.ports import PortAllocator
from harness.scenario.workload import Workload, load_workload

pytestmark = pytest.mark.integration


def workload(rate: float, seconds: float, **extra: Any) -> Workload:
    data: dict[str, Any] = {
        "arrivals": "uniform",
        "journeys": {"get": {}},
        "phases": [{"name": "main", "shape": "constant", "rate": rate, "duration": seconds}],
        **extra,
    }
    return load_workload(data, "test")


def generator_children() -> list[psutil.Process]:
    """Live generator processes; a worker that died and is not reaped yet is not one."""
    live = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "harness.load.worker" in " ".join(p.cmdline()):
                live.append(p)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return live


@pytest.fixture(scope="module")
def nginx() -> Iterator[StaticNginx]:
    with StaticNginx() as server:
        yield server


def logged_since(nginx: StaticNginx, before: int) -> list[tuple[int, float, str]]:
    # nginx writes its access log line after the response; give the last ones a moment
    time.sleep(0.3)
    return nginx.logged()[before:]


@pytest.mark.parametrize("workers", [1, 2])
def test_counts_and_classes_match_what_nginx_logged(
    nginx: StaticNginx, tmp_path: Path, workers: int
) -> None:
    before = len(nginx.logged())
    result = run_load(f"{nginx.url}/mixed", workload(100, 3), out_dir=tmp_path, workers=workers)
    logged = logged_since(nginx, before)
    s = result.summary()
    statuses = Counter(status for status, _took, _path in logged)
    assert s["offered"] == 300
    assert s["started"] == 300
    assert s["requests"] == len(logged) == 300
    assert s["ok"] == statuses[200]
    assert s["errors"]["http_5xx"] == statuses[503]
    assert statuses[503] > 0  # nginx fails 20 %
    assert result.complete
    # latency counts from the intended start, so it is never below the service time
    assert s["p50"] >= s["service"]["p50"]
    assert s["max"] >= s["service"]["max"]
    # nginx's own request time (ms resolution) is within what the client saw
    assert max(took for _s, took, _p in logged) * 1000 <= s["service"]["max"] + 1.0
    assert not generator_children()


def test_per_second_files_add_up_to_the_summary(nginx: StaticNginx, tmp_path: Path) -> None:
    result = run_load(f"{nginx.url}/", workload(50, 2), out_dir=tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "load-seconds.jsonl").read_text().splitlines()]
    assert sum(r["count"] for r in rows) == result.summary()["requests"] == 100
    assert {r["second"] for r in rows} == {0, 1}
    assert all(r["latency_hdr"] for r in rows)
    summary = json.loads((tmp_path / "load-summary.json").read_text())
    assert summary["offered"] == 100
    assert {"p50", "p90", "p95", "p99", "p999", "max"} <= summary.keys()


def test_nothing_listening_is_connection_refused(tmp_path: Path) -> None:
    port = PortAllocator().take()
    result = run_load(f"http://127.0.0.1:{port}/", workload(20, 1), out_dir=tmp_path)
    s = result.summary()
    assert s["errors"]["connection_refused"] == s["offered"] == 20
    assert s["ok"] == 0


@pytest.mark.alone
def test_stall_shows_in_latency_from_intended_start(tmp_path: Path) -> None:
    with StallServer(stall_at_s=1.0, stall_for_s=1.5) as server:
        result = run_load(server.url, workload(40, 4), out_dir=tmp_path)
    s = result.summary()
    assert s["requests"] == 160
    assert s["ok"] == 160
    # the first arrival in the stall waited ~1.5 s; ~60 arrivals fell inside it (> 1 %)
    assert s["max"] >= 1400
    assert s["p99"] >= 1000


@pytest.mark.alone
def test_read_timeout_is_its_own_class(tmp_path: Path) -> None:
    with StallServer(stall_at_s=0.5, stall_for_s=3.0) as server:
        w = workload(20, 2, timeouts={"connect": "1s", "read": "300ms"})
        result = run_load(server.url, w, out_dir=tmp_path)
    s = result.summary()
    assert s["errors"]["timeout"] > 0
    assert s["ok"] + s["errors"]["timeout"] == s["requests"] == 40


def test_stop_returns_what_was_measured_and_leaves_no_process(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    stop = threading.Event()
    threading.Timer(2.5, stop.set).start()
    result = run_load(f"{nginx.url}/", workload(50, 30), out_dir=tmp_path, stop=stop)
    assert not result.complete
    assert 0 < result.summary()["requests"] < 1500
    assert not generator_children()


# -- a fake shop, enough of stacks/api.yaml for the journeys --


class FakeShop:
    """Orders and reservations with idempotency keys, little stock, and a log of what it did."""

    def __init__(self, stock: int, seats: int) -> None:
        self.stock = {i: stock for i in range(1, 4)}
        self.seats = {i: seats for i in range(1, 3)}
        self.orders: dict[str, int] = {}
        self.reservations: dict[str, int] = {}
        self.log: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            status, answer = self._route(method, path, body)
            template = re.sub(r"/\d+", "/{id}", path)
            self.log.append((f"{method} {template}", status))
            return status, answer

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and path == "/products":
            return 200, [{"id": i, "stock": s} for i, s in self.stock.items()]
        if m := re.fullmatch(r"/products/(\d+)", path):
            pid = int(m.group(1))
            return (200, {"id": pid}) if pid in self.stock else (404, {"error": "not_found"})
        if method == "POST" and path == "/orders":
            key = body["idempotency_key"]
            if key in self.orders:
                return 200, {"order_id": self.orders[key]}
            if self.stock[body["product_id"]] < body["quantity"]:
                return 409, {"error": "out_of_stock"}
            self.stock[body["product_id"]] -= body["quantity"]
            self.orders[key] = len(self.orders) + 1
            return 201, {"order_id": self.orders[key]}
        if m := re.fullmatch(r"/events/(\d+)", path):
            return 200, {"id": int(m.group(1))}
        if m := re.fullmatch(r"/events/(\d+)/reservations", path):
            eid, key = int(m.group(1)), body["idempotency_key"]
            if self.seats[eid] < body["seats"]:
                return 409, {"error": "sold_out"}
            self.seats[eid] -= body["seats"]
            self.reservations[key] = len(self.reservations) + 1
            return 201, {"reservation_id": self.reservations[key]}
        return 404, {"error": "not_found"}


@pytest.fixture
def shop() -> Iterator[tuple[str, FakeShop]]:
    state = FakeShop(stock=20, seats=15)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            status, answer = state.handle(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    port = PortAllocator().take()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", state
    server.shutdown()
    server.server_close()


def test_journeys_against_a_shop_log_every_acknowledged_write(
    shop: tuple[str, FakeShop], tmp_path: Path
) -> None:
    url, state = shop
    w = load_workload(
        {
            "journeys": {"browse": {}, "checkout": {"weight": 2}, "ticket_rush": {"weight": 2}},
            "phases": [{"name": "rush", "shape": "constant", "rate": 40, "duration": 3}],
            "data": {"products": 3, "events": 2},
        },
        "test",
    )
    result: LoadResult = run_load(url, w, out_dir=tmp_path, seed=5)
    s = result.summary()
    served = Counter(endpoint for endpoint, _status in state.log)
    for endpoint, counts in s["endpoints"].items():
        assert sum(v for k, v in counts.items() if k in ("ok", "http_4xx")) == served[endpoint]
    # 409 out_of_stock / sold_out are expected outcomes, not errors
    assert any(status == 409 for _e, status in state.log)
    assert s["errors"]["http_4xx"] == 0
    logged = list(writes.read(tmp_path / "writes.jsonl"))
    acked = {(w.kind, w.idempotency_key): w.id for w in logged if w.outcome == "acknowledged"}
    assert {("order", k): v for k, v in state.orders.items()} | {
        ("reservation", k): v for k, v in state.reservations.items()
    } == acked
    assert all(w.outcome == "failed" and w.status == 409 for w in logged if w.id is None)


# -- bring your own locustfile --

LOCUSTFILE = """
from locust import HttpUser, constant, task

class Shopper(HttpUser):
    # short waits: at the end most users are mid-request, which must finish and be recorded
    wait_time = constant(0.01)

    @task
    def home(self):
        self.client.get("/")

    @task
    def missing(self):
        self.client.get("/missing")
"""


def test_a_teams_locustfile_is_recorded_by_the_same_recorder(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    lf = tmp_path / "team_locustfile.py"
    lf.write_text(LOCUSTFILE)
    w = load_workload(
        {"locustfile": {"path": str(lf), "users": 3, "spawn_rate": 10, "duration": "2s"}}, "t"
    )
    before = len(nginx.logged())
    result = run_load(nginx.url, w, out_dir=tmp_path / "out")
    logged = logged_since(nginx, before)
    s = result.summary()
    assert s["requests"] == len(logged) > 10
    assert s["errors"]["http_4xx"] == sum(1 for status, _t, _p in logged if status == 404)
    assert set(s["endpoints"]) == {"GET /", "GET /missing"}


def test_a_locustfile_that_does_not_import_is_one_clear_error(tmp_path: Path) -> None:
    lf = tmp_path / "broken.py"
    lf.write_text("import locust\nraise RuntimeError('boom')\n")
    w = load_workload({"locustfile": {"path": str(lf), "users": 1, "duration": "1s"}}, "t")
    with pytest.raises(
        LoadError,
        match=rf"{lf}:2: the locustfile does not import: "
        r"RuntimeError: boom",
    ):
        run_load("http://127.0.0.1:9/", w, out_dir=tmp_path / "out")
    assert not generator_children()


STAGED_SHAPE = """
from locust import HttpUser, LoadTestShape, constant, task

class Reader(HttpUser):
    # a constant wait: each user's request rate is fixed, so the rate follows the users
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get("/")

class Stages(LoadTestShape):
    # Locust's staged-shape pattern: (end of stage s, users, spawn rate)
    stages = [(6, 2, 10), (12, 10, 10)]

    def tick(self):
        run_time = self.get_run_time()
        for end, users, spawn_rate in self.stages:
            if run_time < end:
                return users, spawn_rate
        return None
"""


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.alone
def test_a_locustfiles_staged_shape_sets_the_rate_and_ends_the_load(
    nginx: StaticNginx, tmp_path: Path, workers: int
) -> None:
    lf = tmp_path / "staged.py"
    lf.write_text(STAGED_SHAPE)
    # duration far past the shape's end: only the shape's None can end the load early
    w = load_workload({"locustfile": {"path": str(lf), "duration": "40s"}}, "t")
    result = run_load(nginx.url, w, out_dir=tmp_path / "out", workers=workers)
    per_second = {s: sum(result.recorder.class_counts(second=s).values())
                  for s in result.recorder.seconds()}
    # whole stages, less their first two seconds (users still starting) and the last
    first = statistics.median(per_second.get(s, 0) for s in range(2, 6))
    second = statistics.median(per_second.get(s, 0) for s in range(8, 12))
    # 2 users then 10 at 5 requests a second each: about 10/s then 50/s
    assert first > 0
    assert second >= 2.5 * first, per_second
    assert sum(result.summary()["errors"].values()) == 0, result.summary()["errors"]
    # tick() returned None at 12 s: nothing sent after, and the load ended long before 40 s
    assert max(s for s, n in per_second.items() if n) <= 13, sorted(per_second.items())
    assert result.finished_at - result.start_at < 25
    assert any("ended the load at" in p for p in result.problems), result.problems
    assert not generator_children()


# -- the command --


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "load", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_load_command_prints_the_table_and_writes_json(nginx: StaticNginx, tmp_path: Path) -> None:
    out = harness(
        f"{nginx.url}/",
        "--rate",
        "50/s",
        "--duration",
        "2s",
        "--json",
        str(tmp_path / "s.json"),
        "--out",
        str(tmp_path / "data"),
    )
    assert out.returncode == 0, out.stderr
    assert "p99.9" in out.stdout
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["offered"] == summary["ok"] == 100
    assert set(summary["errors"]) == {
        "http_4xx",
        "http_5xx",
        "timeout",
        "connection_refused",
        "connection_reset",
        "other",
    }
    assert all(isinstance(summary[k], float) for k in ("p50", "p90", "p95", "p99", "p999", "max"))
    assert (tmp_path / "data" / "load-seconds.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "-5/s"], "harness: error: --rate: '-5/s': a rate cannot be negative"),
        (["--rate", "5/s", "--duration", "soon"], "harness: error: --duration: 'soon' is not a"),
    ],
)
def test_load_command_bad_flags_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = harness("http://127.0.0.1:9/", *args)
    assert out.returncode == 2
    assert out.stderr.strip().startswith(message)
    assert len(out.stderr.strip().splitlines()) == 1


def test_load_command_refuses_a_remote_target() -> None:
    out = harness("http://192.0.2.1/", "--rate", "1/s")
    assert out.returncode == 2
    assert "not a loopback address" in out.stderr
    assert "--allow-remote" in out.stderr


def test_load_command_bad_phases_file_names_file_and_field(tmp_path: Path) -> None:
    phases = tmp_path / "phases.yaml"
    phases.write_text(
        "journeys: {get: {}, shopping: {}}\n"
        "phases:\n  - {name: a, shape: constant, rate: 5, duration: 5s}\n"
        "  - {name: b, shape: constant, rate: 5, duration: 5s, at: 2s}\n"
    )
    out = harness("http://127.0.0.1:9/", "--phases", str(phases))
    assert out.returncode == 2
    assert out.stderr.startswith(f"harness: error: {phases}: journeys.shopping: unknown name")


def test_overloaded_generator_marks_the_run_invalid_exit_3(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    # Far beyond what one generator process starts on this machine (about ten thousand/s),
    # with a cap high enough that arrivals are started, not dropped at once: dropping is
    # cheap, so a low cap (20) makes a run bound by the cap and the target, not the generator.
    out = harness(
        f"{nginx.url}/",
        "--rate",
        "40000/s",
        "--duration",
        "2s",
        "--concurrency",
        "1000",
        "--json",
        str(tmp_path / "s.json"),
        "--out",
        str(tmp_path / "data"),
    )
    assert out.returncode == 3, out.stderr
    assert "the generator fell behind its schedule" in out.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["valid"] is False
    assert summary["offered"] == 80_000
    assert summary["started"] + summary["dropped"] == 80_000


def test_ctrl_c_prints_what_was_measured_and_leaves_no_process(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "load",
            f"{nginx.url}/",
            "--rate",
            "50/s",
            "--duration",
            "60s",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # Interrupt mid-run; how far the generator got depends on the machine, so the test
    # checks the shape of the outcome, not the numbers.
    # a wait, not a bound: the first child can be slow on a busy machine
    deadline = time.monotonic() + 90
    while len(psutil.Process(proc.pid).children(recursive=True)) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(4)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "stopped early" in err
    assert "p99.9" in out
    time.sleep(0.2)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_load_command_with_a_broken_locustfile_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "team.py").write_text("from locust import HttpUser\nimport no_such_module\n")
    workload_file = tmp_path / "team.yaml"
    workload_file.write_text("locustfile: {path: team.py, users: 1, duration: 2s}\n")
    out = harness("http://127.0.0.1:9/", "--phases", str(workload_file))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"harness: error: {tmp_path / 'team.py'}:2: the locustfile does not import: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    )


@pytest.mark.alone
def test_stop_during_a_gap_between_phases_does_not_wait_for_the_next_arrival(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    w = load_workload(
        {
            "arrivals": "uniform",
            "journeys": {"get": {}},
            "phases": [
                {"name": "first", "shape": "constant", "rate": 20, "duration": "1s"},
                {"name": "late", "shape": "constant", "rate": 20, "duration": "1s", "at": "120s"},
            ],
        },
        "test",
    )
    stop = threading.Event()
    threading.Timer(6, stop.set).start()
    started = time.monotonic()
    result = run_load(f"{nginx.url}/", w, out_dir=tmp_path, stop=stop)
    assert time.monotonic() - started < 60  # the next arrival was due at 120 s
    assert not result.complete
    assert result.summary()["offered"] <= 20


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.alone
def test_a_given_start_time_is_offset_zero_of_the_schedule(
    nginx: StaticNginx, tmp_path: Path, workers: int
) -> None:
    # a caller shares this clock with its fault timeline
    start_at = time.time() + 6
    result = run_load(
        f"{nginx.url}/", workload(20, 1), out_dir=tmp_path, workers=workers, start_at=start_at
    )
    assert result.start_at == start_at
    assert result.finished_at > start_at + 0.9  # the last arrival is due at 0.975 s
    assert result.summary()["offered"] == 20


def test_a_worker_that_dies_makes_the_run_invalid_not_smaller(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = [p for p in generator_children() if mode_of(p) == "worker"]
            if len(workers) == 2:
                time.sleep(4)  # let it join and run for a while
                workers[0].kill()
                return
            time.sleep(0.2)

    threading.Thread(target=kill_one_worker, daemon=True).start()
    result = run_load(f"{nginx.url}/", workload(40, 20), out_dir=tmp_path, workers=2)
    s = result.summary()
    assert any("stopped answering" in p for p in result.problems)
    assert s["offered"] == 800  # every scheduled arrival is accounted for ...
    assert s["missed"] > 0  # ... the dead worker's as missed
    assert not result.valid
    assert not generator_children()


def mode_of(proc: psutil.Process) -> str:
    cmd = proc.cmdline()
    return cmd[cmd.index("--mode") + 1]


#: a worker that takes a second to register its message handlers once connected, as a
#: busy machine can make any worker do: the master's plan must wait for it
SLOW_TO_REGISTER = """
import sys
import harness.load.worker as worker
import gevent
from locust.runners import WorkerRunner

registered = WorkerRunner.register_message

def slowly(self, *args, **kwargs):
    gevent.sleep(0.3)  # Locust's worker greenlet already reads the master's messages
    return registered(self, *args, **kwargs)

WorkerRunner.register_message = slowly
sys.exit(worker.main(sys.argv[1:]))
"""


def test_a_worker_slow_to_register_its_handlers_still_gets_its_share(
    nginx: StaticNginx, tmp_path: Path
) -> None:
    # before the master waited for harness_ready, it sent this worker its plan while the
    # worker was still registering: Locust dropped it as an unknown message, the worker
    # never generated nor said done, and the run ended incomplete at its deadline
    port = PortAllocator().take()
    log = (tmp_path / "slow-worker.log").open("wb")
    slow: list[subprocess.Popen[bytes]] = []
    timer = threading.Timer(0.5, lambda: slow.append(subprocess.Popen(
        [sys.executable, "-c", SLOW_TO_REGISTER, "--mode", "worker", "--master-port", str(port)],
        stdout=log, stderr=subprocess.STDOUT)))
    timer.start()
    try:
        result = run_load(f"{nginx.url}/", workload(20, 3), out_dir=tmp_path / "out",
                          workers=1, remote_workers=1, master_port=port)
    finally:
        timer.cancel()
        for proc in slow:
            proc.kill()
            proc.wait()
        log.close()
    s = result.summary()
    assert "Unknown message type" not in (tmp_path / "slow-worker.log").read_text()
    assert result.complete, result.problems
    assert s["offered"] == s["requests"] == s["ok"] == 60
