"""The doctor's fix for several missing parts is one command a person can paste."""

from __future__ import annotations

from typing import cast

import pytest

from harness import doctor
from harness.doctor import APT, Check, merged_fix
from harness.errors import EnvironmentProblem
from harness.settings import Settings


def test_missing_debian_packages_merge_into_one_apt_get() -> None:
    missing = [
        Check("mariadbd", False, "not found", f"{APT} mariadb-server"),
        Check("haproxy", False, "not found", f"{APT} haproxy"),
        Check("mariadb-install-db", False, "not found", f"{APT} mariadb-server"),
        Check("toxiproxy-server", False, "not found", "make setup"),
    ]
    assert merged_fix(missing) == f"{APT} mariadb-server haproxy && make setup"


def test_the_error_names_make_setup_once_when_it_is_the_fix(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    only_setup = [Check("toxiproxy-server", False, "not found", "make setup")]
    monkeypatch.setattr(doctor, "checks", lambda settings: only_setup)
    with pytest.raises(EnvironmentProblem) as caught:
        doctor.require(cast(Settings, None), "legacy")
    assert str(caught.value) == "legacy stack needs toxiproxy-server: run `make setup`"

    apt = [Check("haproxy", False, "not found", f"{APT} haproxy")]
    monkeypatch.setattr(doctor, "checks", lambda settings: apt)
    with pytest.raises(EnvironmentProblem, match=r"run `.* haproxy` \(or `make setup`\)$"):
        doctor.require(cast(Settings, None), "legacy")
