"""modern-nlb, started for real: it serves through the NLB stand-in, one target per connection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import running_stack

pytestmark = pytest.mark.integration


def test_the_nlb_serves_and_keeps_each_connection_on_one_target(short_tmp: Path) -> None:
    with running_stack("modern-nlb", short_tmp / "state") as stack:
        url = stack.info.lb_url
        assert requests.get(f"{url}/products", timeout=10).status_code == 200
        # a new connection per request: the flow hash spreads them over the tasks
        fresh = Counter(
            requests.get(f"{url}/health", timeout=10, headers={"Connection": "close"})
            .headers["X-Served-By"] for _ in range(60)
        )
        assert set(fresh) == set(stack.profile.app_names), fresh
        # requests on one kept-alive connection all reach the target its flow hashed to
        with requests.Session() as session:
            kept = Counter(session.get(f"{url}/health", timeout=10).headers["X-Served-By"]
                           for _ in range(20))
        assert len(kept) == 1, kept
