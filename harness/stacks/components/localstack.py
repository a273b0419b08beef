"""LocalStack as the stack's AWS (SQS, S3), run without Docker from its own virtualenv."""

from __future__ import annotations

from pathlib import Path

import boto3

from harness.errors import StackError
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def spec(*, port: int, python: Path, workdir: Path, services: list[str]) -> ComponentSpec:
    """LocalStack on one gateway port, nothing persisted, no DNS server, no downloads."""
    env = {
        "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
        "LOCALSTACK_HOST": f"{LOOPBACK}:{port}",
        "SERVICES": ",".join(services),
        "EAGER_SERVICE_LOADING": "1",
        "DNS_ADDRESS": "0",
        "PERSISTENCE": "0",
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_VOLUME_DIR": str(workdir / "volume"),
        "FILESYSTEM_ROOT": str(workdir / "fs"),
        "TMPDIR": str(workdir / "tmp"),
        "SQS_ENDPOINT_STRATEGY": "path",
    }
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    return ComponentSpec(
        name="aws", kind="localstack",
        processes=(ProcessSpec(
            name="localstack", argv=(str(python), "-m", "localstack.runtime.main"), env=env,
            cwd=workdir,
        ),),
        ready=HttpOk(f"http://{LOOPBACK}:{port}/_localstack/health", contains='"sqs": "running"'),
        ready_timeout_s=60,
        # LocalStack ignores SIGTERM for a while (1-1.6 s measured at each teardown, the
        # longest stop of a stack); nothing of it needs a clean stop: its state is discarded
        stop_grace_s=0.2,
    )


def client(service: str, endpoint: str) -> object:
    """A boto3 client of this stack's LocalStack.

    Plain boto3, not localstack-client: that one only builds the URL we already have, lets
    a user's $AWS_ENDPOINT_URL override it (pointing the invariant checks at another
    LocalStack) and turns TLS verification off.
    """
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def create_resources(endpoint: str, *, queue: str, bucket: str | None) -> str:
    """Create the orders queue (and the receipts bucket); return the queue URL."""
    try:
        sqs = client("sqs", endpoint)
        url = str(sqs.create_queue(QueueName=queue)["QueueUrl"])  # type: ignore[attr-defined]
        if bucket:
            client("s3", endpoint).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    except Exception as exc:
        raise StackError(f"could not create queue/bucket on LocalStack {endpoint}: {exc}") from None
    return url
