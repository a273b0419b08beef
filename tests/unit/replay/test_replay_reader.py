"""Reading log files: plain and gzip, many and out of order, and the skipped-line limit."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.replay.reader import DEFAULT_LIMIT, SkipLimit, read_logs
from tests.support.access_logs import SHOP_MIX, START, doors_open, lines, write_files

GOOD = '10.1.2.3 - - [28/Nov/2025:20:00:{s:02d} +0000] "GET /products/{s} HTTP/1.1" 200 5'


def test_gzip_and_plain_files_read_alike(tmp_path: Path) -> None:
    text = "\n".join(GOOD.format(s=s) for s in range(10)) + "\n"
    (tmp_path / "a.log").write_text(text)
    with gzip.open(tmp_path / "b.log.gz", "wt") as f:
        f.write(text)
    plain, _ = read_logs([tmp_path / "a.log"])
    zipped, stats = read_logs([tmp_path / "b.log.gz"])
    assert plain.per_second == zipped.per_second
    assert (stats.lines, stats.skipped) == (10, 0)


def test_gzip_is_told_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "renamed.log", "wt") as f:
        f.write(GOOD.format(s=1) + "\n")
    tally, _ = read_logs([tmp_path / "renamed.log"])
    assert tally.requests == 1


def test_many_files_out_of_order_give_the_same_counts(tmp_path: Path) -> None:
    shape = doors_open(60, 20, 80)
    write_files(tmp_path, shape, SHOP_MIX, "alb", files=5)
    tally, stats = read_logs([tmp_path])  # a folder: every log file in it
    assert stats.files == 5
    assert tally.series(START, START + 60) == shape
    assert stats.skipped == 0


def test_a_broken_gzip_names_the_file(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(GOOD.format(s=s) for s in range(50)) + "\n").encode())
    (tmp_path / "cut.log.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match=r"cut.log.gz:\d+: the file is cut short"):
        read_logs([tmp_path / "cut.log.gz"])


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gone.log: no such file"):
        read_logs([tmp_path / "gone.log"])


def test_skipped_lines_are_counted_with_the_first_one_named(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_text(GOOD.format(s=1) + "\nnot a log line\n\n" + GOOD.format(s=2) + "\n")
    tally, stats = read_logs([f])
    assert (tally.requests, stats.lines, stats.skipped) == (2, 3, 1)
    assert stats.first_skipped.startswith(f"{f}:2: ")


def test_past_the_limit_the_error_names_file_and_line_and_never_the_line(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    secret = "198.51.100.7 this line is private"
    f.write_text(GOOD.format(s=1) + f"\n{secret}\n{secret}\n{secret}\n")
    with pytest.raises(ConfigError, match=rf"^{f}:4: cannot read this line") as exc:
        read_logs([f], limit=SkipLimit.parse("2"))
    assert "198.51.100.7" not in str(exc.value)
    assert "3 of 4 lines skipped" in str(exc.value)


def test_a_share_limit_is_judged_at_the_end(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_text("bad\n" + "\n".join(GOOD.format(s=s % 60) for s in range(99)) + "\n")
    read_logs([f], limit=SkipLimit.parse("1%"))  # 1 of 100: allowed
    with pytest.raises(ConfigError, match="more than --max-skipped allows"):
        read_logs([f], limit=SkipLimit.parse("0.5%"))


def test_the_default_limit_is_1000_lines_or_1_percent() -> None:
    assert DEFAULT_LIMIT.exceeded(1000, 5000) is False
    assert DEFAULT_LIMIT.exceeded(1001, 5000) is True
    assert DEFAULT_LIMIT.exceeded(1500, 200_000) is False  # 1 % of 200,000 is 2,000
    assert str(DEFAULT_LIMIT) == "1000 lines or 1 % of the lines read, whichever is more"


@pytest.mark.parametrize("text", ["lots", "-1", "1.5", "%"])
def test_a_bad_limit_says_what_to_give(text: str) -> None:
    with pytest.raises(ConfigError, match="--max-skipped"):
        SkipLimit.parse(text)


def test_a_forced_format_skips_the_other_formats(tmp_path: Path) -> None:
    f = tmp_path / "mixed.log"
    f.write_text("\n".join([*lines([3], SHOP_MIX, "clb"), *lines([2], SHOP_MIX, "alb")]) + "\n")
    tally, stats = read_logs([f], fmt="alb", limit=SkipLimit.parse("10"))
    assert (tally.requests, stats.skipped) == (2, 3)
    auto, _ = read_logs([f])
    assert auto.requests == 5
