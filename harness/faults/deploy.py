"""`deploy`: ship a release on the stack as its era did (harness.deploys).

Apply starts the deploy in its own thread and returns (the deploy's own steps are
`deploy.*` events); revert, at the end of the run, stops an unfinished deploy where
it stands. A deploy needs the stack this harness started (its runtime starts task
sets and reloads instances), so `harness inject` cannot run one.
"""

from __future__ import annotations

from harness.deploys.base import DeployRun
from harness.deploys.bluegreen import BlueGreenDeploy
from harness.deploys.rolling import RollingDeploy
from harness.errors import FaultError
from harness.faults.base import FaultType, register
from harness.model.deploy import CodeDeployEcs
from harness.scenario.faults import Deploy


@register
class DeployFault(FaultType):
    types = ("deploy",)

    _run: DeployRun | None = None

    def apply(self) -> None:
        spec = self.spec
        assert isinstance(spec, Deploy)
        stack = self.ctx.stack
        if stack is None or stack.runtime is None:
            raise FaultError("a deploy needs the stack this harness started (a scenario run); "
                             "`harness inject` cannot deploy")
        settings = stack.profile.deploy
        if settings is None:
            raise FaultError(f"the {stack.profile.name} profile has no `deploy:` section")
        scale = stack.settings.time_scale
        run: DeployRun
        if isinstance(settings, CodeDeployEcs):
            run = BlueGreenDeploy(
                spec, self.name, settings=settings, profile=stack.profile,
                runtime=stack.runtime, admin=self.ctx.haproxy, blue=self.targets,
                events=self.ctx.events, time_scale=scale)
        else:
            run = RollingDeploy(
                spec, self.name, settings=settings, runtime=stack.runtime, info=self.ctx.info,
                instances=self.targets, liveness_path=stack.profile.app.liveness_path,
                events=self.ctx.events, time_scale=scale)
        self._run = run
        run.start()

    def revert(self) -> None:
        if self._run is not None:
            self._run.stop()
