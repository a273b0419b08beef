"""A stack's datadirs: made once by the installer, copied from the cache after that."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.errors import StackError
from harness.stacks.components import mariadb

INSTALLER = """#!/bin/sh
# stands in for mariadb-install-db: counts its runs, fills --datadir, fails on request
echo run >> "{runs}"
[ -f "{fail}" ] && exit 7
for a in "$@"; do case "$a" in --datadir=*) d="${{a#--datadir=}}";; esac; done
mkdir -p "$d/mysql" && echo "system tables" > "$d/mysql/user.frm" && echo log > "$d/ib_logfile0"
"""


@pytest.fixture
def installer(tmp_path: Path) -> Path:
    script = tmp_path / "fake-install-db"
    script.write_text(INSTALLER.format(runs=tmp_path / "runs", fail=tmp_path / "fail"))
    script.chmod(0o755)
    return script


def _runs(tmp_path: Path) -> int:
    runs = tmp_path / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def _files(datadir: Path) -> dict[str, str]:
    return {str(p.relative_to(datadir)): p.read_text() for p in datadir.rglob("*") if p.is_file()}


def test_the_first_datadir_is_installed_and_later_ones_are_copies(
        tmp_path: Path, installer: Path) -> None:
    cache = tmp_path / "cache"
    first, second = tmp_path / "a" / "data", tmp_path / "b" / "data"
    mariadb.install_datadir(first, tmp_path / "a.log", str(installer), cache=cache)
    mariadb.install_datadir(second, tmp_path / "b.log", str(installer), cache=cache)
    assert _runs(tmp_path) == 1
    assert _files(second) == _files(first) == {
        "mysql/user.frm": "system tables\n", "ib_logfile0": "log\n"}
    # the copy is the stack's own: writing to it leaves the cache as it was
    (second / "ib_logfile0").write_text("changed")
    third = tmp_path / "c" / "data"
    mariadb.install_datadir(third, tmp_path / "c.log", str(installer), cache=cache)
    assert (third / "ib_logfile0").read_text() == "log\n"
    assert [p.name for p in cache.iterdir()] == [p.name for p in cache.glob("mariadb-datadir-*")]


def test_another_installer_is_another_cache_entry(tmp_path: Path, installer: Path) -> None:
    cache = tmp_path / "cache"
    mariadb.install_datadir(tmp_path / "a" / "data", tmp_path / "a.log", str(installer),
                            cache=cache)
    installer.write_text(installer.read_text() + "# a newer MariaDB\n")
    mariadb.install_datadir(tmp_path / "b" / "data", tmp_path / "b.log", str(installer),
                            cache=cache)
    assert _runs(tmp_path) == 2
    assert len(list(cache.glob("mariadb-datadir-*"))) == 2


def test_without_a_cache_every_datadir_is_installed(tmp_path: Path, installer: Path) -> None:
    for name in ("a", "b"):
        mariadb.install_datadir(tmp_path / name / "data", tmp_path / f"{name}.log", str(installer))
    assert _runs(tmp_path) == 2


def test_a_failed_install_is_one_error_and_caches_nothing(tmp_path: Path, installer: Path) -> None:
    (tmp_path / "fail").touch()
    cache = tmp_path / "cache"
    with pytest.raises(StackError, match=r"failed for .*data \(exit 7\); see .*a\.log"):
        mariadb.install_datadir(tmp_path / "a" / "data", tmp_path / "a.log", str(installer),
                                cache=cache)
    assert not list(cache.glob("mariadb-datadir-*"))


def test_a_missing_installer_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="apt-get install mariadb-server"):
        mariadb.install_datadir(tmp_path / "data", tmp_path / "a.log", "no-such-install-db",
                                cache=tmp_path / "cache")


def test_a_copy_left_half_way_by_a_killed_harness_is_removed_later(
        tmp_path: Path, installer: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    stale, fresh = cache / ".partial-old", cache / ".partial-new"
    for d in (stale, fresh):
        (d / "data").mkdir(parents=True)
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    mariadb.install_datadir(tmp_path / "a" / "data", tmp_path / "a.log", str(installer),
                            cache=cache)
    assert not stale.exists()
    assert fresh.exists()  # may be another harness's copy on its way in


def test_a_second_harness_finding_the_entry_made_keeps_the_first(
        tmp_path: Path, installer: Path) -> None:
    cache = tmp_path / "cache"
    first = tmp_path / "a" / "data"
    mariadb.install_datadir(first, tmp_path / "a.log", str(installer), cache=cache)
    (template,) = cache.glob("mariadb-datadir-*")
    other = tmp_path / "other"
    (other / "mysql").mkdir(parents=True)
    (other / "ib_logfile0").write_text("someone else's")
    mariadb._keep(other, template)  # the race's loser
    assert (template / "ib_logfile0").read_text() == "log\n"
    assert not list(cache.glob(".partial-*"))
