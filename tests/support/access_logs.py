"""Synthetic access logs with a known per-second shape and endpoint mix (tests, bench).

Every line carries what a real one does — client addresses, user agents with quotes,
query strings with tokens, ids in paths — so a test can check none of it leaks.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

#: a shop night: requests by endpoint template, shares summing to 1
SHOP_MIX = {
    "GET /products": 0.30,
    "GET /products/{id}": 0.40,
    "POST /orders": 0.10,
    "GET /events/{id}": 0.10,
    "POST /events/{id}/reservations": 0.10,
}
#: 2025-11-28T20:00:00Z
START = 1764360000
SECRET_AGENT = 'Mozilla/5.0 (SecretAgent \\"x\\") leak-check'
SECRET_QUERY = "session=SECRET-TOKEN-123"


def doors_open(seconds: int, base: int, peak: int) -> list[int]:
    """Requests per second: `base`, a ramp to `peak` at the middle, then back down."""
    mid = seconds // 2
    return [base + (peak - base) * max(0, mid - abs(s - mid) * 2) // mid for s in range(seconds)]


def _fill(template: str, rng: random.Random) -> str:
    method, path = template.split(" ", 1)
    ids = (str(rng.randint(1, 10_000)), f"{rng.getrandbits(64):016x}",
           "3f2b8c1e-9a4d-4e5f-8a7b-6c5d4e3f2a1b")
    return f"{method} {path.replace('{id}', rng.choice(ids))}"


def _iso(second: int, micro: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{micro:06d}Z"


def _clf(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def lines(shape: list[int], mix: dict[str, float], fmt: str, *, seed: int = 1,
          start: int = START, error_share: float = 0.02) -> Iterator[str]:
    """Lines of `fmt` (alb, clb, combined) with shape[s] requests in second start + s."""
    rng = random.Random(seed)
    names, weights = list(mix), list(mix.values())
    for offset, count in enumerate(shape):
        second = start + offset
        when = _iso(second, 0)[:19]
        clf = _clf(second)
        picks = rng.choices(names, weights, k=count)
        for template in picks:
            method, path = _fill(template, rng).split(" ", 1)
            status = 503 if rng.random() < error_share else (201 if method == "POST" else 200)
            ip = f"203.0.113.{rng.randint(1, 254)}:{rng.randint(1024, 65535)}"
            micro = rng.randint(0, 999_999)
            target = f"{path}?{SECRET_QUERY}&n={micro}"
            if fmt == "alb":
                yield (f"https {when}.{micro:06d}Z app/shop/50dc6c495c0c9188 {ip} 10.0.0.1:80 "
                       f"0.000 0.001 0.000 {status} {status} 34 366 "
                       f'"{method} https://shop.example.com:443{target} HTTP/1.1" '
                       f'"{SECRET_AGENT}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
                       "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/shop/"
                       '73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" '
                       f'"shop.example.com" "-" 0 {when}.{micro:06d}Z "forward" "-" "-" '
                       f'"10.0.0.1:80" "{status}" "-" "-"')
            elif fmt == "clb":
                yield (f"{when}.{micro:06d}Z shop {ip} 10.0.0.1:80 0.000073 0.001048 0.000057 "
                       f"{status} {status} 0 29 "
                       f'"{method} http://shop.example.com:80{target} HTTP/1.1" '
                       f'"{SECRET_AGENT}" - -')
            else:
                yield (f'{ip.split(":")[0]} - - [{clf}] "{method} {target} HTTP/1.1" {status} '
                       f'512 "https://ref.example/?{SECRET_QUERY}" "{SECRET_AGENT}"')


def write_files(folder: Path, shape: list[int], mix: dict[str, float], fmt: str, *,
                files: int = 4, seed: int = 1) -> list[Path]:
    """The lines spread over `files` files (every other one gzip), shuffled within each,
    so neither the files nor the lines are in time order."""
    rng = random.Random(seed)
    buckets: list[list[str]] = [[] for _ in range(files)]
    for line in lines(shape, mix, fmt, seed=seed):
        buckets[rng.randrange(files)].append(line)
    written = []
    for i, bucket in enumerate(reversed(buckets)):
        rng.shuffle(bucket)
        text = "\n".join(bucket) + "\n"
        path = folder / f"part-{i}.log{'.gz' if i % 2 else ''}"
        if i % 2:
            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write(text)
        else:
            path.write_text(text)
        written.append(path)
    return written
