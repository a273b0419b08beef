"""Is this machine ready to run the stacks? Each check names the command that fixes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.errors import EnvironmentProblem
from harness.model.profile_file import available_profiles, load_profile
from harness.runtime import cgroups
from harness.settings import Settings

APT = "sudo apt-get install -y"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    #: which architectures need it; empty = every one
    needed_by: tuple[str, ...] = ()
    #: a failed optional check is a warning, not a blocker
    optional: bool = False


def _program(settings: Settings, name: str, package: str, needed_by: tuple[str, ...]) -> Check:
    path = settings.tool(name)
    found = Path(path).exists() or shutil.which(path) is not None
    return Check(name, found, path if found else "not found", f"{APT} {package}", needed_by)


def _php_module(settings: Settings, module: str, package: str) -> Check:
    fpm = settings.tool("php-fpm8.2")
    try:
        out = subprocess.run(
            [fpm, "-m"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    ok = module.lower() in out.lower().split()
    detail = "loaded" if ok else "missing"
    return Check(f"php {module}", ok, detail, f"{APT} {package}", ("legacy",))


def checks(settings: Settings) -> list[Check]:
    """Every check, in the order a person would fix them."""
    # which architectures need the Go service and the proxy: their profiles say
    profiles = {name: load_profile(name) for name in available_profiles()}
    found: list[Check] = [
        Check(
            "python", sys.version_info >= (3, 11), sys.version.split()[0],
            "install Python 3.11 or newer",
        ),
        _program(settings, "mariadbd", "mariadb-server", ()),
        _program(settings, "mariadb-install-db", "mariadb-server", ()),
        _program(settings, "haproxy", "haproxy", ()),
        _program(settings, "nginx", "nginx-light", ("legacy",)),
        _program(settings, "php-fpm8.2", "php8.2-fpm", ("legacy",)),
        _php_module(settings, "pdo_mysql", "php8.2-mysql"),
        _php_module(settings, "apcu", "php8.2-apcu"),
        Check(
            "AsyncAws SQS", Path("/usr/share/php/AsyncAws/Sqs").is_dir(),
            "/usr/share/php/AsyncAws/Sqs", f"{APT} php-async-aws-sqs", ("legacy",),
        ),
    ]
    toxi = settings.tool("toxiproxy-server")
    found.append(Check(
        "toxiproxy-server", Path(toxi).exists() or shutil.which(toxi) is not None, toxi,
        "make setup",
    ))
    ls = settings.localstack_python
    found.append(Check(
        "LocalStack", ls.exists(), str(ls) if ls.exists() else "no virtualenv", "make setup",
    ))
    go = settings.go_app_binary
    go_archs = tuple(n for n, p in profiles.items() if p.app.kind == "go")
    found.append(Check(
        "Go sample service", go.exists(), str(go) if go.exists() else "not built",
        "make setup", go_archs,
    ))
    proxy = settings.rdsproxy_binary
    found.append(Check(
        "RDS Proxy stand-in", proxy.exists(), str(proxy) if proxy.exists() else "not built",
        "make setup", tuple(n for n, p in profiles.items() if p.proxy is not None),
    ))
    limits_ok, limits_how = cgroups.probe()
    found.append(Check(
        "CPU/memory limits (cgroups)", limits_ok, limits_how,
        "run as root on a machine with cgroup v1 cpu+memory, or cgroup v2 with cpu and memory "
        "delegatable; else `harness run --ci` needs --allow-unlimited", optional=True,
    ))
    found.append(Check(
        "root", os.geteuid() == 0, f"uid {os.geteuid()}",
        "MariaDB and php-fpm are started with --user=root / -R; run as root", optional=True,
    ))
    return found


def require(settings: Settings, arch: str) -> None:
    """Raise one clear error naming what `arch` needs and the command that installs it."""
    missing = [
        c for c in checks(settings)
        if not c.ok and not c.optional and (not c.needed_by or arch in c.needed_by)
    ]
    if missing:
        names = ", ".join(c.name for c in missing)
        fix = merged_fix(missing)
        also = "" if fix == "make setup" else " (or `make setup`)"
        raise EnvironmentProblem(f"{arch} stack needs {names}: run `{fix}`{also}")


def merged_fix(missing: list[Check]) -> str:
    """One command line for several fixes: all Debian packages in a single apt-get."""
    packages = [c.fix.removeprefix(APT).strip() for c in missing if c.fix.startswith(APT)]
    others = [c.fix for c in missing if not c.fix.startswith(APT)]
    fixes = ([f"{APT} {' '.join(dict.fromkeys(packages))}"] if packages else []) + others
    return " && ".join(dict.fromkeys(fixes))
