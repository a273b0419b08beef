"""The services' database clients (app.db_pool): typed, cited, and what the apps' env gets.

PHP: a connection per request, or PDO::ATTR_PERSISTENT (DB_PERSISTENT). Go: database/sql's
pool limits (DB_MAX_OPEN_CONNS, DB_MAX_IDLE_CONNS), 0 open = unlimited, 0 idle = no pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import ProfileError
from harness.model.profile import Profile
from harness.model.profile_file import load_profile, profile_with, stacks_root
from harness.stacks import compose_file

WHY = "assumption: a test's own figure"


def _app(arch: str, app: dict[str, Any]) -> Profile:
    return profile_with(arch, {"app": app}, file="t.yaml", node=None, at="profile")


def _cited(value: Any) -> dict[str, Any]:
    return {"value": value, "source": WHY}


def test_legacy_opens_a_connection_per_request_by_default() -> None:
    legacy = load_profile("legacy")
    assert legacy.app.db_pool is not None
    assert legacy.app.db_pool.env() == {"DB_PERSISTENT": "0"}
    persistent = _app("legacy", {"db_pool": {"persistent": _cited(True)}})
    assert persistent.app.db_pool is not None
    assert persistent.app.db_pool.env() == {"DB_PERSISTENT": "1"}
    # one connection per php-fpm child either way
    assert persistent.app.connections_per_member() == legacy.app.connections_per_member() == 8


def test_modern_pool_is_the_samples_scaled_and_no_longer_raw_env() -> None:
    modern = load_profile("modern")
    assert modern.app.db_pool is not None
    assert modern.app.db_pool.env() == {"DB_MAX_OPEN_CONNS": "3", "DB_MAX_IDLE_CONNS": "2",
                                        "DB_INTERPOLATE_PARAMS": "0"}
    assert "DB_MAX_OPEN_CONNS" not in modern.app.env
    assert modern.app.connections_per_member() == 3


def test_a_go_service_without_a_pool_or_without_a_limit_is_expressible() -> None:
    no_pool = _app("modern", {"db_pool": {"max_idle_conns": _cited(0)}})
    assert no_pool.app.db_pool is not None
    assert no_pool.app.db_pool.env()["DB_MAX_IDLE_CONNS"] == "0"
    unlimited = _app("modern", {"db_pool": {"max_open_conns": _cited(0),
                                            "max_idle_conns": _cited(10)}})
    assert unlimited.app.db_pool is not None
    assert unlimited.app.db_pool.env()["DB_MAX_OPEN_CONNS"] == "0"
    # database/sql's unlimited: no bound on the connections a task opens
    assert unlimited.app.connections_per_member() is None
    assert unlimited.app_connections(9) is None


def test_more_idle_than_open_connections_does_nothing_and_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"max_idle_conns 5 is more than max_open_conns 3"):
        _app("modern", {"db_pool": {"max_idle_conns": _cited(5)}})


def test_a_setting_the_service_does_not_honour_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"db_pool.max_open_conns: the php service has no such"):
        _app("legacy", {"db_pool": {"max_open_conns": _cited(3)}})
    with pytest.raises(ProfileError, match=r"db_pool.persistent: the go service has no such"):
        _app("modern", {"db_pool": {"persistent": _cited(True)}})


def test_the_pool_settings_are_no_raw_env(tmp_path: Path) -> None:
    text = (stacks_root() / "modern" / "profile.yaml").read_text()
    path = tmp_path / "profile.yaml"
    grace = '    SHUTDOWN_GRACE_MS: "5000"'
    path.write_text(text.replace(grace, f'{grace}\n    DB_MAX_OPEN_CONNS: "20"'))
    with pytest.raises(ProfileError, match=r"app.env: .*DB_MAX_OPEN_CONNS come from app.client or "
                                           r"app.db_pool"):
        load_profile(str(path))


def test_a_new_max_children_needs_its_source() -> None:
    with pytest.raises(ProfileError, match=r"app.php.max_children: a new value needs its own "):
        _app("legacy", {"php": {"max_children": {"value": 12}}})


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_pool_settings_are_listed_as_modelled(arch: str) -> None:
    rows = {r.setting for r in load_profile(arch).modelled(0.1)}
    wanted = ({"app.php.max_children", "app.db_pool.persistent"} if arch == "legacy"
              else {"app.db_pool.max_open_conns", "app.db_pool.max_idle_conns"})
    assert wanted <= rows
    if arch == "modern":  # a Go task has no php-fpm pool to list
        assert not any(r.startswith("app.php") for r in rows)


def test_compose_apps_get_the_pool_env() -> None:
    services = yaml.safe_load(compose_file.render())["services"]
    assert services["php-1"]["environment"]["DB_PERSISTENT"] == "0"
    assert services["go-1"]["environment"]["DB_MAX_OPEN_CONNS"] == "3"
    assert services["go-1"]["environment"]["DB_MAX_IDLE_CONNS"] == "2"
