"""Database faults: db_failover (unplanned: the writer crashes; planned: switchover), db_reboot.

What follows an unplanned failover (promotion, endpoint moved) is the
database orchestrator's reaction; a planned one and a reboot are asked of it.
A planned failover is Aurora's manual failover (FailoverDBCluster: no write lost, both
instances restarted), or RDS Multi-AZ's reboot with failover.
"""

from __future__ import annotations

from harness.errors import FaultError
from harness.faults.base import FaultType, register


@register
class DbFailover(FaultType):
    types = ("db_failover",)

    def apply(self) -> None:
        db = self.ctx.database
        if self.spec.params()["mode"] == "planned":
            if db is None:
                raise FaultError(
                    "a planned db_failover needs the stack's orchestrator; run it in a scenario "
                    "or use mode=unplanned with `harness inject`"
                )
            db.switchover()
            return
        # the writer now, which after an earlier failover is no longer `db-writer`
        writer = db.current_writer() if db is not None else self.targets[0]
        self.ctx.processes.kill(writer)


@register
class DbReboot(FaultType):
    types = ("db_reboot",)

    def apply(self) -> None:
        if self.ctx.database is None:
            raise FaultError("db_reboot needs the stack's orchestrator; run it in a scenario")
        for name in self.targets:
            self.ctx.database.reboot(name, force=self.spec.params()["force"])
