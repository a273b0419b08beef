"""The collector's watch over the harness's own parts, on a fake runtime."""

from __future__ import annotations

from typing import Any, cast

from harness.model.components import HARNESS_PARTS, declare
from harness.model.profile_file import load_profile
from harness.records.events import FaultEvent, StackEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.stacks.collector import PartsWatch


class _Runtime:
    def __init__(self, names: list[str]) -> None:
        self.alive = set(names)
        self.names = names

    def components(self) -> list[str]:
        return list(self.names)

    def is_running(self, name: str) -> bool:
        return name in self.alive


def _watch(names: list[str]) -> tuple[PartsWatch, _Runtime, EventLog]:
    parts = declare(load_profile("modern")).harness_parts()
    rt = _Runtime(names)
    events = EventLog(None)
    return PartsWatch(cast(Runtime, rt), parts, events), rt, events


def _stops(events: EventLog) -> list[dict[str, Any]]:
    return events.of_kind(StackEvent.PART_STOPPED)


def test_the_modern_stack_declares_four_harness_parts() -> None:
    parts = declare(load_profile("modern")).harness_parts()
    assert {p.name: HARNESS_PARTS[p.kind] for p in parts} == {
        "toxiproxy": "Toxiproxy", "aws": "LocalStack", "aws-fault": "the AWS fault point",
        "db-proxy": "the RDS Proxy stand-in",
    }


def test_a_part_that_stops_is_recorded_once_with_its_name() -> None:
    watch, rt, events = _watch(["toxiproxy", "aws", "aws-fault", "db-proxy", "app-1"])
    watch.check()
    assert _stops(events) == []
    rt.alive.discard("aws")
    rt.alive.discard("app-1")  # the architecture's: the orchestrators' business
    watch.check()
    watch.check()
    (stop,) = _stops(events)
    assert (stop["component"], stop["component_kind"], stop["part"]) == (
        "aws", "localstack", "LocalStack")
    assert stop["alive_s"] <= stop["t_s"]


def test_a_part_a_scenario_fault_stopped_is_not_recorded() -> None:
    watch, rt, events = _watch(["toxiproxy", "aws", "aws-fault", "db-proxy"])
    events.emit(FaultEvent.APPLYING, fault="kill-proxy", type="kill", target="db-proxy",
                targets=["db-proxy"])
    rt.alive.discard("db-proxy")
    watch.check()
    assert _stops(events) == []


def test_a_part_the_runtime_never_started_is_not_watched() -> None:
    watch, _rt, events = _watch(["toxiproxy", "aws"])  # a stack without its fault point
    watch.check()
    assert [p.name for p in watch.parts] == ["toxiproxy", "aws"]
    assert _stops(events) == []
