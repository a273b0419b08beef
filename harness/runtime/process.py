"""The process runtime: every component is one or more local processes.

Each process leads its own session (so a signal to its group reaches its
workers: nginx's and php-fpm's stay in their master's group), writes stdout and
stderr to the component's log, and is recorded in the stack's registry. If the
harness dies, the leaders die with it (PDEATHSIG) and the harness's watchdog kills
the rest: every recorded group, the stack's cgroups (harness.runtime.watchdog).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from harness.errors import EnvironmentProblem, StackError
from harness.runtime import cgroups, process_state, watchdog
from harness.runtime.base import ComponentSpec, InForce, StartsByLaunching
from harness.runtime.helpers import CgroupHelper, child_setup, run_in_cgroups
from harness.runtime.loopback import without_proxy
from harness.runtime.registry import ProcessRecord, Registry
from harness.runtime.wait import wait_ready


class _Running:
    def __init__(self, spec: ComponentSpec, popens: list[subprocess.Popen[bytes]]) -> None:
        self.spec = spec
        self.popens = popens
        self.paused = False


class ProcessRuntime(StartsByLaunching):
    """Runs components as local processes under one stack work dir."""

    name = "process"

    def __init__(self, *, stack_id: str, workdir: Path, log_dir: Path) -> None:
        self.stack_id = stack_id
        self.workdir = workdir
        self.log_dir = log_dir
        self.registry = Registry(workdir)
        self.cgroups = cgroups.CgroupLimiter(stack_id)
        self._running: dict[str, _Running] = {}
        # specs outlive their processes so an orchestrator can restart a killed component
        self._specs: dict[str, ComponentSpec] = {}
        # PDEATHSIG fires when the *thread* that forked the child ends, not the process:
        # every child is forked by this one long-lived thread, so a component restarted
        # from an orchestrator's short-lived thread does not die when that thread ends.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")
        workdir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)
        # before the first process: if the harness dies from here on, they die too
        watchdog.guard("stack", workdir, stack_id=stack_id)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def launch(self, spec: ComponentSpec) -> None:
        """Spawn the component's processes without waiting for readiness."""
        if spec.name in self._running:
            raise StackError(f"{spec.name} is already running")
        procs_files = self.cgroups.prepare(spec.name, spec.limits) if spec.limits else []
        log = self.log_path(spec.name)
        popens: list[subprocess.Popen[bytes]] = []
        self._running[spec.name] = _Running(spec, popens)
        self._specs[spec.name] = spec
        with log.open("ab") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {spec.name}\n".encode())
        for proc in spec.processes:
            env = {**os.environ, **without_proxy(os.environ), **proc.env,
                   "HARNESS_STACK_ID": self.stack_id}
            try:
                with log.open("ab") as out:
                    popen = self._spawner.submit(
                        subprocess.Popen,
                        list(proc.argv),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                        cwd=proc.cwd,
                        start_new_session=True,
                        preexec_fn=child_setup(procs_files),
                    ).result()
            except FileNotFoundError:
                raise EnvironmentProblem(
                    f"{spec.name}: program {proc.argv[0]} not found; run `make setup` "
                    "(or `harness doctor` to see what is missing)"
                ) from None
            popens.append(popen)
            self.registry.add(
                ProcessRecord(
                    component=spec.name,
                    process=proc.name,
                    pid=popen.pid,
                    create_time=psutil.Process(popen.pid).create_time(),
                )
            )

    def wait(self, name: str) -> float:
        """Wait until the launched component is ready; return the seconds it took."""
        spec = self._running[name].spec
        return wait_ready(
            name,
            spec.ready,
            timeout_s=spec.ready_timeout_s,
            alive=lambda: self.is_running(name),
            log=self.log_path(name),
            exit_code=lambda: self._exit_code(name),
        )

    def _exit_code(self, name: str) -> int | None:
        """The exit code of the component's first process that ended (None: none has)."""
        running = self._running.get(name)
        codes = [p.poll() for p in running.popens] if running else []
        return next((code for code in codes if code is not None), None)

    def _signal(self, name: str, sig: signal.Signals) -> None:
        running = self._running.get(name)
        if running is None:
            raise StackError(f"{name} is not running")
        for popen in running.popens:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, sig)

    def _forget(self, name: str) -> None:
        running = self._running.pop(name, None)
        if running is None:
            return
        for popen in running.popens:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=5)
        self.registry.remove(name)

    def stop(self, name: str) -> None:
        running = self._running.get(name)
        if running is None:
            return
        if running.paused:
            self._signal(name, signal.SIGCONT)
        elif self.stop_state(name) is not None:
            # stopped from outside (a hung part): it would never act on SIGTERM, and
            # SIGCONT lets a signal-stopped one take the SIGKILL at once
            self._signal(name, signal.SIGKILL)
            self._signal(name, signal.SIGCONT)
            self._forget(name)
            return
        self._signal(name, signal.SIGTERM)
        deadline = time.monotonic() + running.spec.stop_grace_s
        for popen in running.popens:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        self._forget(name)

    def kill(self, name: str) -> None:
        self._signal(name, signal.SIGKILL)
        self._forget(name)

    def pause(self, name: str) -> None:
        self._signal(name, signal.SIGSTOP)
        self._running[name].paused = True

    def resume(self, name: str) -> None:
        self._signal(name, signal.SIGCONT)
        self._running[name].paused = False

    def restart(self, name: str) -> float:
        """Start a stopped, killed or crashed component again from its spec; wait until ready."""
        spec = self._specs.get(name)
        if spec is None:
            raise StackError(f"{name} was never started here; nothing to restart")
        self._forget(name)
        return self.start(spec)

    def spec(self, name: str) -> ComponentSpec | None:
        """The spec a component was started with (also after it was killed)."""
        return self._specs.get(name)

    def is_paused(self, name: str) -> bool:
        running = self._running.get(name)
        return running is not None and running.paused

    def stop_state(self, name: str) -> str | None:
        """A component process in state T, or in a frozen cgroup (process_state)."""
        return process_state.first_stop(self.pids(name))

    def is_running(self, name: str) -> bool:
        running = self._running.get(name)
        return running is not None and all(p.poll() is None for p in running.popens)

    def exited(self) -> list[str]:
        """Components with a process that exited on its own (crashed or was killed outside)."""
        return [n for n, r in self._running.items() if any(p.poll() is not None for p in r.popens)]

    def components(self) -> list[str]:
        return list(self._running)

    def pids(self, name: str) -> list[int]:
        """PIDs of a component's processes (each leads its own process group)."""
        running = self._running.get(name)
        return [p.pid for p in running.popens] if running else []

    def memory_usage_bytes(self, name: str) -> int | None:
        return self.cgroups.memory_usage_bytes(name)

    def limits_enforcement(self) -> tuple[bool, str]:
        return self.cgroups.limits_enforcement()

    def limits_in_force(self, name: str) -> InForce | None:
        return self.cgroups.limits_in_force(name)

    def run_inside(self, name: str, argv: list[str]) -> CgroupHelper:
        """A helper process joining the component's cgroups (its CPU quota, its memory limit)."""
        return run_in_cgroups(self.stack_id, name, argv)

    def claim(self, owner: dict[str, object]) -> None:
        """Mark this harness process as the owner of the stack's work dir."""
        self.registry.claim(owner)

    def close(self) -> None:
        # Reverse start order: the load balancer goes before the apps, the apps
        # before the database, so nothing logs spurious errors about its upstreams.
        for name in reversed(list(self._running)):
            try:
                self.stop(name)
            except Exception:
                self._forget(name)
        self.cgroups.cleanup()
        self._spawner.shutdown(wait=False)
        watchdog.release("stack", self.workdir)
