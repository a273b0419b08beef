"""AWS faults on the app->aws edge: throttling and 5xx for a share of SQS/S3 calls.

They set a rule on the stack's AWS fault point (our proxy in front of
LocalStack); the answers have the shape the AWS SDKs retry on, so a small share
shows up as retries and latency, a large one as failed publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultType, register
from harness.stacks.components import awsfault


@register
class AwsFault(FaultType):
    types = ("aws_throttle", "aws_errors")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set = False

    @property
    def kind(self) -> str:
        return "throttle" if self.spec.type == "aws_throttle" else "errors"

    def _port(self) -> int:
        port = awsfault.read_port(Path(self.ctx.info.workdir))
        if port is None:
            raise FaultError(
                f"{self.spec.type}: this stack has no AWS fault point "
                f"({self.ctx.info.workdir}/{awsfault.PORT_FILE}); restart it with this harness"
            )
        return port

    def _set_rule(self, rule: dict[str, Any] | None) -> None:
        try:
            awsfault.set_rules(self._port(), {self.kind: rule})
        except OSError as exc:
            raise FaultError(
                f"{self.spec.type}: the AWS fault point did not answer: {exc}"
            ) from None

    def apply(self) -> None:
        p = self.spec.params()
        self._set = True
        self._set_rule({"percent": p["percent"], "services": p["services"],
                        "status": p.get("status", 500)})

    def revert(self) -> None:
        if self._set:
            self._set_rule(None)
            self._set = False
