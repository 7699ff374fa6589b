"""Shared test harness: run the program or one component under the recording mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aws_environment import DNS_SUFFIXES, AwsEnvironment
from components.bucket import Bucket, BucketArgs
from components.kms_key import KmsKey, KmsKeyArgs
from offline_preview.engine import Recording, run_program
from offline_preview.mocks import PoolsideMocks
from offline_preview.stack_file import project_defaults

# The project's root: the program, its stack files and the README.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

ACCOUNT_ID = "123456789012"
REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
PARTITIONS = tuple(REGIONS)
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"

# The merged tags of deployment `acme` with a user tag, as components receive them.
TAGS = {"owner": "platform", "poolside:deployment": "acme"}
# A key ARN per partition, for components that take the deployment's key as an input.
KEY_ARN = {
    p: f"arn:{p}:kms:{REGIONS[p]}:{ACCOUNT_ID}:key/00000000-0000-4000-8000-000000000000"
    for p in PARTITIONS
}


# A created cluster in a VPC with three private subnets: the smallest valid `poolside:cluster`.
CLUSTER: dict[str, Any] = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": [
        "subnet-0000000000000000a",
        "subnet-0000000000000000b",
        "subnet-0000000000000000c",
    ],
    "nodeGroups": [{"name": "system"}],
}


def environment(partition: str = "aws") -> AwsEnvironment:
    return AwsEnvironment(partition, REGIONS[partition], ACCOUNT_ID, DNS_SUFFIXES[partition])


def build_key_and_bucket(
    env: AwsEnvironment, *, prefix: str, bucket_name: str, tags: dict[str, str]
) -> tuple[KmsKey, Bucket]:
    """The deployment's key and the bucket it encrypts, as components under test depend on them."""
    key = KmsKey(
        "kms",
        KmsKeyArgs(
            env=env,
            alias=f"alias/{prefix}",
            deletion_window_in_days=30,
            description="test key",
            tags=tags,
        ),
    )
    bucket = Bucket(
        "data",
        BucketArgs(
            bucket_name=bucket_name,
            kms_key_arn=key.arn,
            noncurrent_version_expiration_days=90,
            tags=tags,
        ),
    )
    return key, bucket


def engine_config(poolside: Mapping[str, Any], region: str) -> dict[str, str]:
    """Project defaults, then the given `poolside:` keys, as the engine would pass them."""
    config: dict[str, Any] = {**project_defaults(), "aws:region": region}
    config.update({f"poolside:{key}": value for key, value in poolside.items()})
    return {
        key: (
            json.dumps(v)
            if isinstance(v, dict | list)
            else str(v).lower()
            if isinstance(v, bool)
            else str(v)
        )
        for key, v in config.items()
    }


def run_stack(
    poolside: Mapping[str, Any] | None = None,
    *,
    partition: str = "aws",
    program: Callable[[], None] | None = None,
    mocks: PoolsideMocks | None = None,
) -> Recording:
    """Run the whole program (or `program`) with deployment `acme` plus `poolside` keys."""
    env = environment(partition)
    keys: dict[str, Any] = {"deploymentName": "acme", "cluster": CLUSTER}
    if partition == "aws-cn":
        keys["bedrock"] = {"enabled": False}  # Bedrock is not offered in China
    keys.update(poolside or {})
    config = engine_config(keys, env.region)
    mocks = mocks or PoolsideMocks(env)
    if program is None:
        return run_program(config, mocks, stack="test")
    return run_program(config, mocks, stack="test", program=program)
