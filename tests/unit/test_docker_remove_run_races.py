"""remove_run() and cleanup_stale() when another client removes the same dead run.

A SIGKILLed docker run is cleaned by its watchdog and, often at the same moment, by
the next harness command's cleanup_stale(). The engine then answers the later of two
removes 409 ("removal of container ... is already in progress") or 404, and a full
listing, which inspects each container, 404 for one removed in between. None of these
is a failure: the run's containers are listed again until none is left.

The engine here is a fake with the docker SDK's shapes (containers, networks, volumes;
NotFound and APIError carrying the HTTP status), where "another client" removes
containers while this one lists and removes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from docker.errors import APIError, NotFound

from harness.errors import EnvironmentProblem
from harness.runtime import docker_engine
from harness.runtime.docker_engine import LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_RUN


def _api_error(status: int, explanation: str) -> APIError:
    response = requests.Response()
    response.status_code = status
    cls = NotFound if status == 404 else APIError
    return cls(f"{status} Client Error", response=response, explanation=explanation)


@dataclass
class _Box:
    """One container on the fake engine, and what another client does to it."""

    id: str
    name: str
    labels: dict[str, str]
    #: listings left until another client's removal (under way) ends; None: no such removal
    removing_for: int | None = None
    #: another client removes it between a listing and this client's remove
    gone_before_remove: bool = False
    #: another client removes it between the id listing and the inspect of a full listing
    gone_before_inspect: bool = False
    #: the engine refuses every remove with this status (500: a busy mount)
    refuse: int | None = None


@dataclass
class _Engine:
    boxes: dict[str, _Box] = field(default_factory=dict)
    listings: int = 0
    removed_by_us: list[str] = field(default_factory=list)

    def add(self, name: str, run: str, **kwargs: Any) -> _Box:
        labels = {LABEL_RUN: run, LABEL_OWNER_PID: "1", LABEL_OWNER_START: "0"}
        box = _Box(id=f"id-{name}", name=name, labels=labels, **kwargs)
        self.boxes[box.id] = box
        return box

    def matching(self, filters: dict[str, Any] | None) -> list[_Box]:
        wanted = (filters or {}).get("label")
        wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
        found = []
        for box in self.boxes.values():
            pairs = [w.partition("=") for w in wanted]
            if all(k in box.labels and (not eq or box.labels[k] == v) for k, eq, v in pairs):
                found.append(box)
        return found

    def tick(self) -> None:
        """Another client's removals under way advance by one listing."""
        for box in list(self.boxes.values()):
            if box.removing_for is not None:
                box.removing_for -= 1
                if box.removing_for <= 0:
                    del self.boxes[box.id]


class _Container:
    def __init__(self, engine: _Engine, box: _Box, *, sparse: bool) -> None:
        self._engine = engine
        self.id = box.id
        self.attrs: dict[str, Any] = (
            {"Id": box.id, "Names": [f"/{box.name}"], "Labels": box.labels} if sparse
            else {"Id": box.id, "Name": f"/{box.name}", "Config": {"Labels": box.labels}})

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.attrs["Config"]["Labels"])  # a sparse one raises, as the SDK's does

    def remove(self, force: bool = False, v: bool = False) -> None:
        box = self._engine.boxes.get(self.id)
        if box is None:
            raise _api_error(404, f"No such container: {self.id}")
        if box.gone_before_remove:
            del self._engine.boxes[self.id]
            raise _api_error(404, f"No such container: {self.id}")
        if box.removing_for is not None:
            raise _api_error(
                409, f"removal of container {self.id} is already in progress")
        if box.refuse is not None:
            raise _api_error(box.refuse, "driver failed to remove root filesystem: busy")
        del self._engine.boxes[self.id]
        self._engine.removed_by_us.append(box.name)


class _Containers:
    def __init__(self, engine: _Engine) -> None:
        self._engine = engine

    def list(self, all: bool = False, filters: dict[str, Any] | None = None,
             sparse: bool = False, ignore_removed: bool = False) -> list[_Container]:
        engine = self._engine
        engine.listings += 1
        engine.tick()
        listed = engine.matching(filters)
        if sparse:
            return [_Container(engine, box, sparse=True) for box in listed]
        # the SDK inspects each listed container: one removed in between is a 404
        out = []
        for box in listed:
            if box.gone_before_inspect:
                engine.boxes.pop(box.id, None)
                if not ignore_removed:
                    raise _api_error(404, f"No such container: {box.id}")
                continue
            out.append(_Container(engine, box, sparse=False))
        return out


class _Nothing:
    """Networks and volumes: the docker runtime makes none (host network)."""

    def list(self, filters: dict[str, Any] | None = None) -> list[Any]:
        return []


class _Client:
    def __init__(self, engine: _Engine) -> None:
        self.containers = _Containers(engine)
        self.networks = _Nothing()
        self.volumes = _Nothing()


def test_a_container_another_client_is_removing_is_listed_again_until_gone() -> None:
    engine = _Engine()
    engine.add("db-writer", "run-1", removing_for=4)  # 409 until the other's removal ends
    engine.add("lb", "run-1")
    engine.add("other-lb", "run-2")
    removed = docker_engine.remove_run(_Client(engine), "run-1")
    assert removed == 1  # the lb; the other client removed the db
    assert engine.removed_by_us == ["lb"]
    assert engine.matching({"label": f"{LABEL_RUN}=run-1"}) == []
    assert engine.listings >= 4  # it listed again rather than give up
    assert [b.name for b in engine.boxes.values()] == ["other-lb"]  # another run's stays


def test_a_container_another_client_removed_first_counts_as_gone() -> None:
    engine = _Engine()
    engine.add("app-1", "run-1", gone_before_remove=True)
    engine.add("app-2", "run-1", gone_before_inspect=True)
    engine.add("app-3", "run-1")
    assert docker_engine.remove_run(_Client(engine), "run-1") == 2
    assert sorted(engine.removed_by_us) == ["app-2", "app-3"]  # app-1: the other's
    assert engine.boxes == {}


def test_cleanup_stale_survives_another_clients_clean_up_of_the_same_run() -> None:
    engine = _Engine()
    engine.add("aws", "dead-1", gone_before_inspect=True)  # a full listing would 404
    engine.add("db-writer", "dead-1", removing_for=3)
    engine.add("lb", "dead-2")
    stale = docker_engine.cleanup_stale(_Client(engine))
    assert stale == ["dead-1", "dead-2"]
    assert engine.boxes == {}


def test_containers_that_will_not_go_are_named_after_the_cap() -> None:
    engine = _Engine()
    engine.add("db-reader", "run-1", refuse=500)
    engine.add("lb", "run-1")
    with pytest.raises(EnvironmentProblem) as err:
        docker_engine.remove_run(_Client(engine), "run-1", timeout_s=0.5)
    message = str(err.value)
    for part in ("docker run run-1", "db-reader", "busy", "docker rm -f"):
        assert part in message, message
    assert engine.removed_by_us == ["lb"]  # the rest was removed all the same
    assert engine.listings >= 2  # it tried again before giving up


def test_a_removal_stuck_in_progress_ends_at_the_cap_not_before() -> None:
    engine = _Engine()
    engine.add("db-writer", "run-1", removing_for=10**6)
    with pytest.raises(EnvironmentProblem, match="1 containers still there"):
        docker_engine.remove_run(_Client(engine), "run-1", timeout_s=0.6)
    assert engine.listings >= 3
