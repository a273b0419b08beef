"""LocalStack as the stack's AWS (SQS, S3), run without Docker from its own virtualenv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import StackError
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk

REGION = "us-east-1"
#: LocalStack accepts any key pair; a secret of our own is one a test can find if it leaks
ACCESS_KEY_ID = "test"
SECRET_ACCESS_KEY = "harness-localstack-secret-key"
CREDENTIALS = {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY}
#: put on LocalStack's PYTHONPATH: its twisted gateway binds 0.0.0.0 unless patched (see there)
SITE_DIR = Path(__file__).resolve().parent / "localstack_site"


def spec(*, port: int, python: Path, workdir: Path, services: list[str]) -> ComponentSpec:
    """LocalStack on one gateway port on 127.0.0.1, nothing persisted, no DNS server, no
    downloads."""
    env = {
        "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
        "LOCALSTACK_HOST": f"{LOOPBACK}:{port}",
        "SERVICES": ",".join(services),
        "EAGER_SERVICE_LOADING": "1",
        "DNS_ADDRESS": "0",
        "PERSISTENCE": "0",
        "DISABLE_EVENTS": "1",
        # no call to api.localstack.cloud for a TLS certificate: the stack speaks plain HTTP
        # on loopback, and a rehearsal makes no network call beyond the machine
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "LOCALSTACK_VOLUME_DIR": str(workdir / "volume"),
        "FILESYSTEM_ROOT": str(workdir / "fs"),
        "TMPDIR": str(workdir / "tmp"),
        "SQS_ENDPOINT_STRATEGY": "path",
        "PYTHONPATH": str(SITE_DIR),
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


def client(service: str, endpoint: str) -> Any:
    """A boto3 client of this stack's LocalStack.

    Plain boto3, not localstack-client: that one only builds the URL we already have, lets
    a user's $AWS_ENDPOINT_URL override it (pointing the invariant checks at another
    LocalStack) and turns TLS verification off.
    """
    import boto3  # boto3 takes ~0.3 s to import; only a stack's set-up and read-back need it

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def create_resources(endpoint: str, *, queue: str, bucket: str | None) -> str:
    """Create the orders queue (and the receipts bucket); return the queue URL."""
    try:
        sqs = client("sqs", endpoint)
        url = str(sqs.create_queue(QueueName=queue)["QueueUrl"])
        if bucket:
            client("s3", endpoint).create_bucket(Bucket=bucket)
    except Exception as exc:
        raise StackError(f"could not create queue/bucket on LocalStack {endpoint}: {exc}") from None
    return url
