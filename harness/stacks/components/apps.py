"""The sample services: a PHP instance (nginx + php-fpm) or a Go task (one binary)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from harness.errors import StackError
from harness.model.app import ENV_REFERENCE
from harness.model.components import APP_TO_AWS, APP_TO_DB, APP_TO_READER
from harness.model.profile import BUCKET_ENV, READER_ENV, Profile
from harness.model.profile_file import stacks_root
from harness.runtime.base import ComponentSpec, Limits, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk
from harness.stacks.components import localstack, mariadb
from harness.stacks.templates import render


def env(profile: Profile, *, edges: Mapping[str, tuple[str, int]], queue_url: str
        ) -> dict[str, str]:
    """An app member's environment on every runtime (APP_NAME aside).

    `edges`: where the member reaches each of its edges (host, port): the writer endpoint
    (app->db), the reader endpoint (app->db-reader, when there is a reader) and AWS
    (app->aws); `queue_url` names the AWS edge too.
    """
    db_host, db_port = edges[APP_TO_DB]
    aws_host, aws_port = edges[APP_TO_AWS]
    app = profile.app
    values = {
        "DB_HOST": db_host, "DB_PORT": str(db_port), "DB_NAME": mariadb.DATABASE,
        "DB_USER": mariadb.APP_USER, "DB_PASSWORD": mariadb.APP_PASSWORD,
        "AWS_ENDPOINT_URL": f"http://{aws_host}:{aws_port}", "AWS_REGION": localstack.REGION,
        "AWS_ACCESS_KEY_ID": localstack.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": localstack.SECRET_ACCESS_KEY,
        "SQS_QUEUE_URL": queue_url,
        **app.client.env(),
        **(app.db_pool.env() if app.db_pool else {}),
    }
    if APP_TO_READER in edges:
        reader_host, reader_port = edges[APP_TO_READER]
        values |= {"DB_READER_HOST": reader_host, "DB_READER_PORT": str(reader_port)}
    if profile.aws.bucket:
        values["S3_BUCKET"] = profile.aws.bucket
    # what `${NAME}` in app.env is checked against when the profile is read
    assert tuple(values) == profile.harness_env()  # the declared list is this one
    # app.env where it always stood: after the typed settings, under the reader's and bucket's
    late = {k: values.pop(k) for k in (*READER_ENV, BUCKET_ENV) if k in values}
    return {**values, **app.env, **late}


def mapped(env: Mapping[str, str], profile: Profile) -> dict[str, str]:
    """`env` with every `${NAME}` in the profile's `app.env` values filled from it.

    A team's code reads its own names (`PAYMENTS_DB_HOST: ${DB_HOST}`); a name the
    harness does not set on this stack is an error naming the setting.
    """
    out = dict(env)
    for key, value in profile.app.env.items():
        def fill(match: re.Match[str], key: str = key) -> str:
            name = match.group(1)
            if name not in env:
                raise StackError(
                    f"profile {profile.name}: app.env.{key}: ${{{name}}} is not a variable "
                    f"the harness sets on this stack; it sets: {', '.join(sorted(env))}")
            return env[name]
        out[key] = ENV_REFERENCE.sub(fill, value)
    return out


def php_instance(
    name: str, *, profile: Profile, port: int, workdir: Path, log_dir: Path, env: dict[str, str],
    zone: str | None, php_fpm: str = "php-fpm8.2", nginx: str = "nginx",
) -> ComponentSpec:
    """One EC2-style instance: nginx in front of a php-fpm pool with fixed max_children."""
    workdir.mkdir(parents=True, exist_ok=True)
    # nginx and php-fpm write their own logs; one folder per instance keeps them apart
    log_dir = log_dir / name
    log_dir.mkdir(parents=True, exist_ok=True)
    php = profile.app.php
    assert php is not None  # a PHP app has its pool (Profile validates it)
    fpm_socket = workdir / "php-fpm.sock"
    variables = {
        "port": port,
        "run_dir": str(workdir),
        "log_dir": str(log_dir),
        "app_root": str(stacks_root() / "apps" / "php"),
        "fpm_socket": str(fpm_socket),
        "max_children": php.max_children.value,
        "nginx_workers": php.nginx_workers,
        "request_timeout_s": int(php.request_timeout_s),
        "app_name": name,
    }
    fpm_conf = workdir / "php-fpm.conf"
    fpm_conf.write_text(render(profile.name, "php-fpm.conf.j2", **variables))
    nginx_conf = workdir / "nginx.conf"
    nginx_conf.write_text(render(profile.name, "nginx.conf.j2", **variables))
    return ComponentSpec(
        name=name, kind="php", zone=zone,
        processes=(
            ProcessSpec(name="php-fpm", argv=(php_fpm, "-R", "-F", "-y", str(fpm_conf)), env=env),
            ProcessSpec(name="nginx", argv=(
                nginx, "-c", str(nginx_conf), "-p", str(workdir),
                "-e", str(log_dir / "nginx-error.log"),
            )),
        ),
        ready=ready_check(profile, port),
        ready_timeout_s=profile.app.start_timeout_s, stop_grace_s=5,
        # one cgroup for both processes: an instance's size covers nginx and php-fpm
        limits=limits_of(profile),
    )


def go_task(
    name: str, *, profile: Profile, port: int, binary: Path, env: dict[str, str],
    zone: str | None,
) -> ComponentSpec:
    """One ECS-style task: the Go binary with its own pool, limits and graceful shutdown."""
    return ComponentSpec(
        name=name, kind="go", zone=zone,
        processes=(ProcessSpec(
            name="shop", argv=(str(binary),), env={**env, "APP_LISTEN": f"{LOOPBACK}:{port}"},
        ),),
        ready=ready_check(profile, port),
        ready_timeout_s=profile.app.start_timeout_s,
        stop_grace_s=float(env.get("SHUTDOWN_GRACE_MS", "10000")) / 1000 + 1,
        limits=limits_of(profile),
    )


def ready_check(profile: Profile, port: int) -> HttpOk:
    """An instance's/task's readiness: its `app.health_path` answers 200."""
    return HttpOk(f"http://{LOOPBACK}:{port}{profile.app.health_path}")


def limits_of(profile: Profile) -> Limits:
    """The CPU and memory of one instance/task, as the profile sizes it."""
    size = profile.app.size
    return Limits(cpus=size.cpus.value, memory_mb=size.memory_mb.value)
