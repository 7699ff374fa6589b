"""Shared test harness: run the program or one component under the recording mock engine."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

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


def secret_value(value: Any) -> Any:
    """The value of a secret as the engine receives it (`{<sig>: <secret sig>, "value": ...}`);
    fails for a value that is not marked secret."""
    assert isinstance(value, dict), f"not a secret: {value!r}"
    assert value.get(rpc._special_sig_key) == rpc._special_secret_sig, f"not a secret: {value!r}"
    return value["value"]


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


@dataclass(frozen=True)
class StackRun:
    """One run of a program under the mocks: what it registered and the invokes it made."""

    recording: Recording
    calls: tuple[tuple[str, dict[str, Any]], ...]
    """(token, args) of every invoke (`aws.ssm.get_parameter`, ...), in the order made."""


# Runs by (config, partition, the mocks' cluster overrides, program key), for the session: the
# program is deterministic (the offline preview's plans are the same byte for byte every run), so
# an identical run is recorded once. Each caller gets its own copy of the recording.
_RUNS: dict[str, StackRun] = {}


def record_stack(
    poolside: Mapping[str, Any] | None = None,
    *,
    partition: str = "aws",
    cluster_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    absent: Collection[str] = (),
    lookup_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    program: Callable[[], None] | None = None,
    key: str | None = None,
) -> StackRun:
    """Run the whole program (or `program`) with deployment `acme` plus `poolside` keys.

    `cluster_overrides`: what `eks.get_cluster` reports differently for a named existing cluster.
    `absent`: existing keys (ARNs) and buckets (names) the look-ups report missing;
    `lookup_overrides`: what they report differently for one (`PoolsideMocks`).
    A whole-program run is recorded once per session; a `program` run only when its `key` names
    what it builds (the same key must mean the same program). A run that raises is not kept."""
    env = environment(partition)
    keys: dict[str, Any] = {"deploymentName": "acme", "cluster": CLUSTER}
    if partition == "aws-cn":
        keys["bedrock"] = {"enabled": False}  # Bedrock is not offered in China
    keys.update(poolside or {})
    config = engine_config(keys, env.region)
    overrides = {name: dict(state) for name, state in (cluster_overrides or {}).items()}
    lookups = {name: dict(state) for name, state in (lookup_overrides or {}).items()}
    cache_key = None
    if program is None or key is not None:
        cache_key = json.dumps(
            [config, partition, overrides, sorted(absent), lookups, key], sort_keys=True
        )
        if cache_key in _RUNS:
            return copy.deepcopy(_RUNS[cache_key])
    mocks = PoolsideMocks(env, cluster_overrides=overrides, absent=absent, lookup_overrides=lookups)
    if program is None:
        recording = run_program(config, mocks, stack="test")
    else:
        recording = run_program(config, mocks, stack="test", program=program)
    run = StackRun(recording, tuple((call.token, dict(call.args)) for call in mocks.calls))
    if cache_key is not None:
        _RUNS[cache_key] = copy.deepcopy(run)
    return run


def run_stack(
    poolside: Mapping[str, Any] | None = None,
    *,
    partition: str = "aws",
    cluster_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    program: Callable[[], None] | None = None,
    key: str | None = None,
) -> Recording:
    """The recording of `record_stack` (the same arguments)."""
    return record_stack(
        poolside,
        partition=partition,
        cluster_overrides=cluster_overrides,
        program=program,
        key=key,
    ).recording
