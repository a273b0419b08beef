"""A user's HTTP proxy never carries the stack's loopback traffic (harness.runtime.loopback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests.utils

from harness.runtime.loopback import keep_loopback_local, without_proxy

PROXY = "http://proxy.corp.example:3128"


def test_loopback_joins_the_users_own_no_proxy_entries_in_both_spellings() -> None:
    env = {"HTTP_PROXY": PROXY, "no_proxy": "intranet.example, .corp"}
    assert without_proxy(env) == {
        "NO_PROXY": "intranet.example,.corp,127.0.0.1,localhost,::1",
        "no_proxy": "intranet.example,.corp,127.0.0.1,localhost,::1",
    }


def test_nothing_changes_when_loopback_is_already_kept_local() -> None:
    env = {"NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1"}
    assert without_proxy(env) == {}
    assert without_proxy({"NO_PROXY": "*"}) == {}


def test_the_harness_s_http_clients_then_skip_the_proxy_for_loopback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, PROXY)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    url = "http://127.0.0.1:8080/ready"
    # without it, requests (and botocore, which asks the same question) would proxy it
    assert requests.utils.get_environ_proxies(url) != {}
    keep_loopback_local()
    assert requests.utils.get_environ_proxies(url) == {}
    assert requests.utils.get_environ_proxies("http://pypi.org/simple") != {}


def test_every_harness_command_keeps_loopback_local_for_its_children(tmp_path: Path) -> None:
    code = ("import os, sys; from harness.cli import app; "
            "sys.argv = ['harness', 'validate', '--help']\n"
            "try: app()\nexcept SystemExit: pass\n"
            "print('NO_PROXY=' + os.environ.get('no_proxy', ''), file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "HTTP_PROXY": PROXY, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "NO_PROXY=127.0.0.1,localhost,::1" in done.stderr.splitlines()
