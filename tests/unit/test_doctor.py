"""The doctor's fix for several missing parts is one command a person can paste."""

from __future__ import annotations

from harness.doctor import APT, Check, merged_fix


def test_missing_debian_packages_merge_into_one_apt_get() -> None:
    missing = [
        Check("mariadbd", False, "not found", f"{APT} mariadb-server"),
        Check("haproxy", False, "not found", f"{APT} haproxy"),
        Check("mariadb-install-db", False, "not found", f"{APT} mariadb-server"),
        Check("toxiproxy-server", False, "not found", "make setup"),
    ]
    assert merged_fix(missing) == f"{APT} mariadb-server haproxy && make setup"
