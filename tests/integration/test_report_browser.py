"""report.html in a real headless Chromium (Debian's `chromium` package), offline.

The page is opened from a file:// URL with networking disabled, so it only
renders if plotly.js really is inlined. The DOM after rendering must hold the
plot's SVG traces, and the screenshot must show both architectures' colours.
The screenshot is kept in results/test-artifacts/report-browser.png (git
ignores results/) so a person can look at it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from harness.report.html import ARCH_COLORS, figure
from tests.support.demo import demo_data, demo_events, demo_record, write_demo

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "results" / "test-artifacts"
WIDTH, HEIGHT = 1280, 1400


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium: apt-get install -y chromium (Debian) to run this test")


def _run_chromium(args: list[str], profile: Path) -> str:
    """Run headless Chromium to completion; kill its whole process group on a timeout."""
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
        # file:// only: a page that needs the network fails to render here
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=10000", *args,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        # renderer and zygote children share the session; none may outlive the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}"
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory.mktemp("results")).path / "report.html"


def test_charts_render_offline_in_chromium(report: Path, tmp_path: Path) -> None:
    dom = _run_chromium(["--dump-dom", report.as_uri()], tmp_path / "profile")
    fig = figure(demo_record(), demo_data(), demo_events())
    lines = sum(1 for t in fig.data if t.mode != "markers")
    # plotly draws into SVG: one <g class="trace scatter"> per trace, a path per line
    # (counted as attributes: the inlined plotly.js source holds these words too)
    assert len(re.findall(r'<svg class="main-svg"', dom)) >= 2
    assert len(re.findall(r'<g class="trace scatter trace\w+"', dom)) == len(fig.data)
    assert len(re.findall(r'<path class="js-line" d="M[^"]+"', dom)) >= lines
    assert "modern came through better" in dom
    assert "kill-app" in dom


def _pixels_near(image: Image.Image, hex_color: str, tolerance: int = 40) -> int:
    target = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    count = 0
    for r, g, b in image.convert("RGB").get_flattened_data():
        if abs(r - target[0]) + abs(g - target[1]) + abs(b - target[2]) <= tolerance:
            count += 1
    return count


def test_screenshot_shows_both_architectures(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _run_chromium(
        [f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", report.as_uri()],
        tmp_path / "profile",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "report-browser.png")
    image = Image.open(shot)
    assert image.size == (WIDTH, HEIGHT)
    # lines of both colours: the header text alone has a few hundred such pixels
    for arch, color in ARCH_COLORS.items():
        assert _pixels_near(image, color) > 2000, f"{arch}'s lines are missing from the screenshot"
