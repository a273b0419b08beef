"""Helpers of the fault tests: look at the stack from outside, poll with deadlines."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import psutil
import pytest
import requests

from harness.model.database import RdsSettings
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.stacks.components.toxiproxy import ToxiproxyClient


def single_az_legacy() -> Profile:
    """The legacy profile with its RDS instance single-AZ (no standby)."""
    legacy = load_profile("legacy")
    db = legacy.database
    assert isinstance(db, RdsSettings)
    off = db.multi_az.model_copy(update={"value": False})
    return legacy.model_copy(update={"database": db.model_copy(update={"multi_az": off})})


def order(url: str, product_id: int = 1, timeout_s: float = 10) -> requests.Response:
    body = {"product_id": product_id, "quantity": 1, "idempotency_key": uuid.uuid4().hex}
    return requests.post(f"{url}/orders", json=body, timeout=timeout_s)


def timed(call: Callable[[], requests.Response]) -> tuple[float, int]:
    started = time.monotonic()
    try:
        status = call().status_code
    except requests.RequestException:
        status = 0
    return time.monotonic() - started, status


def poll(check: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.1) -> float:
    """Wait until check() is true; return the seconds it took; fail the test at the deadline."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"{what}: not within {timeout_s:g} s")
        time.sleep(every_s)
    return time.monotonic() - started


def no_toxics_left(api: str) -> list[str]:
    """Toxics on any proxy, and disabled proxies: both must be empty after a test."""
    client = ToxiproxyClient(api)
    left = []
    for name, proxy in client.proxies().items():
        left += [f"{name}: toxic {t['name']}" for t in proxy.get("toxics", [])]
        if not proxy.get("enabled", True):
            left.append(f"{name}: disabled")
    return left


def stopped_processes(pids: list[int]) -> list[int]:
    """Those pids (and their children) left in the stopped state."""
    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                if p.status() == psutil.STATUS_STOPPED:
                    found.append(p.pid)
        except psutil.Error:
            continue
    return found
