"""Legacy: OpsWorks Stacks' in-place rolling deploy, instance by instance.

For each batch of `deploy.batch_size` instances (1: one by one), as the Deploy
recipes did it: prepare the release (`deploy.prepare_s`, the instance serving the
old one meanwhile), then have the app server pick it up in place, with the instance
still registered with the CLB and getting requests: php-fpm is reloaded (SIGUSR2) with
the release's variables in its pool (`env[...]`), as new code would be. Whatever
php-fpm does to requests in flight or arriving during the reload is what clients
see; the instance is done when it answers as the new release. OpsWorks had no
automatic rollback: a bad release stays until someone acts (the scenario's alarms
say when someone would have noticed).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from harness.deploys.base import DeployRun, release_env, serves_version
from harness.errors import FaultError
from harness.model.deploy import OpsWorksDeploy
from harness.records.events import DeployEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.scenario.faults import Deploy
from harness.stacks.topology import StackInfo

#: a reloaded php-fpm answers within a second on this machine; beyond this it is stuck
_RELOAD_TIMEOUT_S = 20.0
#: pool lines the deploy owns in php-fpm.conf (rewritten by each deploy)
_ENV_PREFIX = "env[APP_VERSION"
_MARK = "; the release (harness deploy), read by the workers php-fpm starts next"


def with_release(conf: str, env: dict[str, str]) -> str:
    """php-fpm.conf with the release's variables as the last pool's `env[...]` lines.

    The [www] pool is the file's last section (stacks/legacy/templates/php-fpm.conf.j2),
    so appended lines belong to it; the lines of an earlier deploy are replaced.
    """
    kept = [ln for ln in conf.splitlines() if not ln.startswith(_ENV_PREFIX) and ln != _MARK]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, "", _MARK, *(f"env[{k}] = {v}" for k, v in env.items())]) + "\n"


def php_fpm_master(pids: list[int]) -> int | None:
    """The php-fpm master among these processes and their descendants, as this host sees them.

    The process runtime lists php-fpm's master itself; the docker runtime lists the
    container's main process (the shell that runs nginx and php-fpm side by side), whose
    children share this host's kernel, so the same search finds it on either runtime.
    """
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                parent = proc.parent()
                # the binary is php-fpm8.2 on Debian; workers are the master's children
                if proc.name().startswith("php-fpm") and (
                        parent is None or not parent.name().startswith("php-fpm")):
                    return proc.pid
        except psutil.Error:
            continue
    return None


def _workers(master_pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(master_pid).children()}
    except psutil.Error:
        return set()


class RollingDeploy(DeployRun):
    strategy = "opsworks_rolling"

    def __init__(self, spec: Deploy, name: str, *, settings: OpsWorksDeploy,
                 runtime: Runtime, info: StackInfo, instances: list[str],
                 liveness_path: str, events: EventLog, time_scale: float) -> None:
        super().__init__(spec, name, events=events, time_scale=time_scale)
        self.settings = settings
        #: the app's liveness path: a reloaded instance answers it as the release
        self.liveness_path = liveness_path
        self.runtime = runtime
        self.info = info
        self.instances = instances

    def describe(self) -> dict[str, Any]:
        return {"instances": self.instances, "batch_size": self.settings.batch_size.value,
                "php_fpm": self.settings.php_fpm.value}

    def run(self) -> None:
        started = time.monotonic()
        size = self.settings.batch_size.value
        for i in range(0, len(self.instances), size):
            batch = self.instances[i:i + size]
            errors: list[str] = []
            threads = [threading.Thread(target=self._guarded, args=(app, errors), daemon=True)
                       for app in batch]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                # OpsWorks marks the deployment failed; instances already done keep the release
                raise FaultError("; ".join(errors))
            if self.stopping:
                return
        self.outcome = "succeeded"
        # nothing left to shift: the deploy's traffic is where it will stay
        self.emit(DeployEvent.TRAFFIC_SHIFTED, took_s=round(time.monotonic() - started, 3))
        self.emit(DeployEvent.DONE,
                  outcome="succeeded", took_s=round(time.monotonic() - started, 3))

    def _guarded(self, app: str, errors: list[str]) -> None:
        try:
            self._instance(app)
        except Exception as exc:
            errors.append(str(exc) if isinstance(exc, FaultError)
                          else f"{app}: {type(exc).__name__}: {exc}")

    def _instance(self, app: str) -> None:
        self.emit(DeployEvent.INSTANCE_PREPARING, component=app)
        if not self.sleep(self.scaled(self.settings.prepare_s)):
            return
        spec = self.runtime.spec(app)
        if spec is None:
            raise FaultError(f"{app} was never started; nothing to deploy to")
        names = [p.name for p in spec.processes]
        if "php-fpm" not in names:
            raise FaultError(f"{app} runs no php-fpm ({', '.join(names)}); an OpsWorks deploy "
                             "needs the legacy stack")
        fpm = spec.processes[names.index("php-fpm")]
        conf = Path(fpm.argv[fpm.argv.index("-y") + 1])
        conf.write_text(with_release(conf.read_text(), release_env(self.spec)))
        master = php_fpm_master(self.runtime.pids(app))
        if master is None:
            raise FaultError(f"{app} is not running (being replaced?); deploy skipped it")
        old_workers = _workers(master)
        reloaded = time.monotonic()
        self.emit(DeployEvent.INSTANCE_RELOADING, component=app, signal="SIGUSR2")
        # the master re-executes itself in place (same PID): the runtime still sees it run
        os.kill(master, signal.SIGUSR2)
        url = f"http://{LOOPBACK}:{self.info.components[app].port}"
        deadline = reloaded + _RELOAD_TIMEOUT_S
        # done when no old worker is left and a new one answers as the release
        while _workers(master) & old_workers or not serves_version(
                url, self.spec.version, liveness_path=self.liveness_path):
            if time.monotonic() > deadline:
                raise FaultError(f"{app} did not answer as {self.spec.version} within "
                                 f"{_RELOAD_TIMEOUT_S:g} s of php-fpm's reload")
            if not self.sleep(0.02):
                return
        self.emit(DeployEvent.INSTANCE_UPDATED, component=app,
                  reload_s=round(time.monotonic() - reloaded, 3))
