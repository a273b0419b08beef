"""The load balancer's per-request metrics from its HAProxy request log."""

from __future__ import annotations

from pathlib import Path

from harness.stacks.collector import LbLogTail, lb_samples

OK = ('127.0.0.1:37952 [26/Nov/2026:12:56:37.371] public app/app-3 0/0/1/12/13 200 6262 - - '
      '---- 10/10/9/2/0 0/0 "GET /products HTTP/1.1"')
TARGET_500 = ('127.0.0.1:37953 [26/Nov/2026:12:56:37.400] public app/app-1 0/0/0/30/30 500 '
              '120 - - ---- 10/10/9/2/0 0/0 "POST /orders HTTP/1.1"')
REFUSED = ('127.0.0.1:37954 [26/Nov/2026:12:56:37.410] public app/app-1 0/0/-1/-1/2 503 '
           '217 - - SC-- 10/10/9/2/0 0/0 "GET /products HTTP/1.1"')
NO_TARGET = ('127.0.0.1:37955 [26/Nov/2026:12:56:37.420] public public/<NOSRV> 0/-1/-1/-1/0 '
             '503 217 - - LR-- 1/1/0/0/0 0/0 "GET /products HTTP/1.1"')


def by_metric(lines: list[str]) -> dict[tuple[str, str | None], object]:
    return {(s.metric, s.member): (s.value if s.value is not None else s.values)
            for s in lb_samples(5.0, lines)}


def test_requests_per_target_5xx_split_and_response_times() -> None:
    got = by_metric([OK, TARGET_500, REFUSED, NO_TARGET])
    assert got[("RequestCount", "app-3")] == 1
    assert got[("RequestCount", "app-1")] == 2  # the refused one was sent to it too
    assert got[("HTTPCode_Target_5XX_Count", None)] == 1  # the target answered 500
    assert got[("HTTPCode_ELB_5XX_Count", None)] == 2  # refused, and no target at all
    # Tc + Tr of the requests a target answered, in seconds
    assert got[("TargetResponseTime", None)] == (0.013, 0.03)


def test_no_5xx_means_no_5xx_datapoint() -> None:
    got = by_metric([OK])
    assert ("HTTPCode_Target_5XX_Count", None) not in got
    assert ("HTTPCode_ELB_5XX_Count", None) not in got


def test_tail_reads_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "lb.log"
    log.write_text("--- starting lb\n" + OK + "\n")
    tail = LbLogTail(log)
    with log.open("a") as fh:
        fh.write(TARGET_500 + "\n" + REFUSED[:40])
    assert tail.lines() == [TARGET_500]
    with log.open("a") as fh:
        fh.write(REFUSED[40:] + "\n")
    assert tail.lines() == [REFUSED]
