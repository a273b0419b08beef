"""The database's max_connections: AWS's rule for the instance class, scaled like the fleet.

RDS for MySQL's default parameter group gives {DBInstanceClassMemory/12582880}; Aurora
MySQL tabulates a default per class. Both profiles state a class and scale the figure by
the factor their fleet's CPU has, so that app connections at the largest fleet :
max_connections is AWS's ratio; MariaDB runs with the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import ProfileError
from harness.model import dbclass
from harness.model.profile import MAX_CONNECTIONS_SETTING, Profile
from harness.model.profile_file import load_profile, profile_with
from harness.report.connections import LIMIT_SETTING
from harness.settings import Settings
from harness.stacks import compose_file
from harness.stacks.assembly import declare_backing
from harness.stacks.components import mariadb

WHY = "assumption: a test's own figure"


def _with(arch: str, database: dict[str, Any]) -> Profile:
    return profile_with(arch, {"database": database}, file="t.yaml", node=None, at="profile")


def _class(name: str) -> dict[str, Any]:
    return {"instance_class": {"value": name, "source": WHY}}


@pytest.mark.parametrize(("instance_class", "aws", "used"), [
    ("db.r5.large", 1365, 205),   # 16 GiB: 17179869184 // 12582880
    ("db.m5.large", 682, 102),    # 8 GiB
    ("db.t3.medium", 341, 51),    # 4 GiB
])
def test_rds_mysql_divides_the_class_memory_by_12582880(instance_class: str, aws: int,
                                                         used: int) -> None:
    limit = _with("legacy", _class(instance_class)).database.connection_limit()
    assert (limit.aws, limit.used) == (aws, used)
    assert "{DBInstanceClassMemory/12582880}" in limit.source


@pytest.mark.parametrize(("instance_class", "aws", "used"), [
    ("db.r5.large", 1000, 150),
    ("db.r6g.xlarge", 2000, 300),
    ("db.t3.medium", 90, 14),     # 13.5 rounds half up
])
def test_aurora_mysql_takes_its_table_of_defaults(instance_class: str, aws: int,
                                                  used: int) -> None:
    limit = _with("modern", _class(instance_class)).database.connection_limit()
    assert (limit.aws, limit.used) == (aws, used)
    assert "Maximum connections to an Aurora MySQL DB instance" in limit.source


def test_a_class_the_engine_does_not_offer_is_refused_with_the_choices() -> None:
    # Aurora MySQL has no general-purpose db.m classes
    with pytest.raises(ProfileError, match=r"instance_class: 'db.m5.large' is not a DB instance "
                                           r"class aurora_mysql offers here; choose one of"):
        _with("modern", _class("db.m5.large"))


def test_a_limit_below_what_mariadb_accepts_is_an_error_not_a_silent_ten() -> None:
    # db.t3.small: Aurora's 45 x 0.15 = 7; MariaDB would run with 10
    with pytest.raises(ProfileError, match=r"45 x scale 0.15 = 7, below the 10 MariaDB accepts"):
        _with("modern", _class("db.t3.small"))


def test_a_custom_parameter_group_replaces_the_default_and_is_scaled_alike() -> None:
    group = {"value": 67, "source": "assumption: a test's custom parameter group"}
    limit = _with("legacy", {"max_connections": {"parameter_group": group}}
                  ).database.connection_limit()
    assert (limit.aws, limit.used) == (67, 10)
    assert limit.source.startswith("a custom parameter group: assumption")


def test_both_stacks_have_the_same_class_and_scale_as_their_cpu() -> None:
    legacy, modern = load_profile("legacy").database, load_profile("modern").database
    assert legacy.instance_class.value == modern.instance_class.value == "db.r5.large"
    assert legacy.max_connections.scale.value == modern.max_connections.scale.value == 0.15
    # the CPU factor of app.size: a t3.small's 0.75 vCPU share and a 0.5 vCPU Fargate task
    assert load_profile("legacy").app.size.cpus.value == pytest.approx(0.75 * 0.15)
    assert load_profile("modern").app.size.cpus.value == pytest.approx(0.5 * 0.15)


@pytest.mark.parametrize(("arch", "aws_each", "aws_limit"), [
    ("legacy", 51, 1365),   # 51 php-fpm children per t3.small; RDS MySQL db.r5.large
    ("modern", 20, 1000),   # the Go sample's pool of 20 per task; Aurora db.r5.large
    ("modern-no-proxy", 20, 1000),
])
def test_app_connections_at_the_largest_fleet_against_the_limit_is_awss_ratio(
        arch: str, aws_each: int, aws_limit: int) -> None:
    profile = load_profile(arch)
    assert profile.scaling is not None
    fleet = profile.scaling.max_capacity.value
    limit = profile.database.connection_limit()
    assert limit.aws == aws_limit
    run = profile.app_connections(fleet)
    assert run is not None
    assert run / limit.used == pytest.approx(fleet * aws_each / aws_limit, abs=0.015)
    # neither stack reaches the limit with its own fleet: as at AWS sizes
    assert run < limit.used


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_limit_is_a_modelled_row_the_report_reads(arch: str) -> None:
    assert LIMIT_SETTING == MAX_CONNECTIONS_SETTING
    rows = {r.setting: r for r in load_profile(arch).modelled(0.1)}
    row = rows[MAX_CONNECTIONS_SETTING]
    limit = load_profile(arch).database.connection_limit()
    assert (row.aws_value, row.used_value, row.scaled) == (limit.aws, limit.used, False)
    assert "x max_connections.scale 0.15" in row.source
    assert rows["database.instance_class"].used_value == "db.r5.large"


def test_mariadb_runs_with_the_limit_it_is_given(tmp_path: Path) -> None:
    spec = mariadb.spec("db-writer", port=1, workdir=tmp_path, zone=None,
                        options=mariadb.server_options(1, 205))
    limits = [a for a in spec.processes[0].argv if a.startswith("--max-connections=")]
    assert limits == ["--max-connections=205"]


@pytest.mark.parametrize(("arch", "limit"), [("legacy", 205), ("modern", 150)])
def test_every_compose_db_instance_gets_its_profiles_limit(arch: str, limit: int) -> None:
    services = yaml.safe_load(compose_file.render())["services"]
    names = [f"db-writer-{arch}", "db-standby" if arch == "legacy" else "db-reader"]
    for name in names:
        assert f"--max-connections={limit}" in services[name]["command"], name
        assert services[name]["profiles"] == [arch]
    # the writer is still db-writer on the compose network (edges, the proxy, the seed job)
    assert services[f"db-writer-{arch}"]["networks"]["default"]["aliases"] == ["db-writer"]
    assert limit >= dbclass.MARIADB_MIN_CONNECTIONS


@pytest.mark.parametrize(("arch", "limit"), [("legacy", 205), ("modern", 150)])
def test_the_stack_starts_every_db_instance_with_its_profiles_limit(
        arch: str, limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mariadb, "install_datadir", lambda *_a, **_k: None)
    ports = iter(range(20000, 20100))
    backing = declare_backing(
        load_profile(arch), Settings.from_env({"HARNESS_STATE_DIR": "/tmp/hs-unit"}),
        take=lambda: next(ports), workdir=tmp_path, log_dir=tmp_path / "logs", seed=1)
    databases = [d for d in backing if d.decl.role == "database"]
    assert [d.name for d in databases] == [
        "db-writer", "db-standby" if arch == "legacy" else "db-reader"]
    for db in databases:
        limits = [a for a in db.spec.processes[0].argv if a.startswith("--max-connections=")]
        assert limits == [f"--max-connections={limit}"], db.name
