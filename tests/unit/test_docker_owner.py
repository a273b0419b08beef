"""Whose Docker objects are stale: the owner labels of harness/runtime/docker.py."""

from __future__ import annotations

import subprocess

from harness.runtime import docker as dockerrt


def test_objects_of_this_process_have_a_live_owner() -> None:
    assert dockerrt.owner_alive(dockerrt.owner_labels())


def test_an_exited_owner_is_gone() -> None:
    with subprocess.Popen(["true"]) as proc:
        proc.wait()
    labels = {dockerrt.LABEL_OWNER_PID: str(proc.pid), dockerrt.LABEL_OWNER_START: "0"}
    assert not dockerrt.owner_alive(labels)


def test_a_reused_pid_is_not_the_owner() -> None:
    labels = dockerrt.owner_labels()
    labels[dockerrt.LABEL_OWNER_START] = str(float(labels[dockerrt.LABEL_OWNER_START]) - 60)
    assert not dockerrt.owner_alive(labels)


def test_objects_without_owner_labels_have_no_live_owner() -> None:
    assert not dockerrt.owner_alive({dockerrt.LABEL_RUN: "r"})
    garbled = {dockerrt.LABEL_OWNER_PID: "x", dockerrt.LABEL_OWNER_START: "y"}
    assert not dockerrt.owner_alive(garbled)
