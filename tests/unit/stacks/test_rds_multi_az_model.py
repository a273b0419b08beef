"""RDS Multi-AZ as data and decisions: the standby in the topology, what the watch loop does."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import FaultError
from harness.model.database import RdsSettings
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.runtime.events import EventLog
from harness.scenario.faults import Topology, load_timeline
from harness.stacks.components import mariadb
from harness.stacks.orchestrators.rds import RdsInstance


def _legacy(multi_az: bool) -> Profile:
    legacy = load_profile("legacy")
    db = legacy.database
    assert isinstance(db, RdsSettings)
    flag = db.multi_az.model_copy(update={"value": multi_az})
    return legacy.model_copy(update={"database": db.model_copy(update={"multi_az": flag})})


def test_legacy_defaults_to_a_multi_az_standby_in_the_second_zone() -> None:
    legacy = load_profile("legacy")
    assert legacy.has_standby
    assert not legacy.has_reader
    assert legacy.db_instances == [("db-writer", "a"), ("db-standby", "b")]
    assert load_profile("modern").db_instances == [("db-writer", "a"), ("db-reader", "b")]
    assert _legacy(multi_az=False).db_instances == [("db-writer", "a")]


def test_fault_targets_know_the_standby_only_when_it_exists() -> None:
    multi = Topology.from_profile(load_profile("legacy"))
    assert multi.components["db-standby"] == "b"
    (kill,) = load_timeline([{"type": "kill", "at": "1s", "target": "db-standby"}],
                            source="test.yaml", topology=multi)
    assert multi.resolve(kill) == ["db-standby"]
    (outage,) = load_timeline([{"type": "az_outage", "at": "1s", "target": "zone:b"}],
                              source="test.yaml", topology=multi)
    assert "db-standby" in multi.resolve(outage)
    single = Topology.from_profile(_legacy(multi_az=False))
    assert "db-standby" not in single.components
    # no edge leads to the standby: it serves no traffic
    assert not any("standby" in edge for edge in multi.edges)


class Recording(RdsInstance):
    def __init__(self, handles: Any, settings: RdsSettings) -> None:
        super().__init__(handles, settings)
        self.reactions: list[str] = []

    def react(self, key: str, action: Callable[[], None]) -> None:
        self.reactions.append(key)


def _rds(multi_az: bool, running: set[str]) -> Recording:
    profile = _legacy(multi_az)
    assert isinstance(profile.database, RdsSettings)
    handles = SimpleNamespace(
        runtime=SimpleNamespace(is_running=lambda name: name in running),
        profile=profile, events=EventLog(None),
    )
    return Recording(handles, profile.database)


@pytest.mark.parametrize(("multi_az", "running", "reactions"), [
    (True, {"db-writer", "db-standby"}, []),
    (True, {"db-standby"}, ["failover"]),           # the primary is lost: fail over
    (True, {"db-writer"}, ["standby"]),             # the standby is lost: RDS restarts it
    (True, set(), ["failover"]),                    # the primary first; the standby after
    (False, {"db-writer"}, []),                     # single-AZ: no standby to watch
    (False, set(), ["failover"]),                   # single-AZ: restart in place
])
def test_the_watch_loop_reacts_to_the_instance_that_is_lost(
    multi_az: bool, running: set[str], reactions: list[str]
) -> None:
    rds = _rds(multi_az, running)
    rds.tick()
    assert rds.reactions == reactions


def test_a_planned_failover_needs_a_standby() -> None:
    rds = _rds(False, {"db-writer"})
    with pytest.raises(FaultError, match=r"database\.multi_az"):
        rds.switchover()


def test_semi_sync_acknowledges_after_the_binlog_sync_and_never_waits_for_a_missing_standby(
) -> None:
    options = mariadb.semi_sync_options(1000)
    assert "--rpl-semi-sync-master-wait-point=AFTER_SYNC" in options
    assert "--rpl-semi-sync-master-timeout=1000" in options
    assert "--skip-rpl-semi-sync-master-wait-no-slave" in options
    # a former primary must be able to rejoin as a semi-sync replica
    assert "--rpl-semi-sync-slave-enabled=ON" in options
