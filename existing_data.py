"""The existing key and bucket named in config, looked up before anything is created.

A key or bucket that does not exist, that the deployer may not describe, or that cannot serve
the deployment (a disabled or asymmetric key, an AWS managed key, a bucket in another region) is
a config problem: one line naming its key, reported with the other checks of the environment
(`check_against_environment`'s `more_problems`) before a single resource is registered. Under
the offline preview the mocks answer the look-ups (`offline_preview.mocks.PoolsideMocks`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from aws_environment import AwsEnvironment
from components.bucket import BucketFacts, look_up_bucket
from components.kms_key import KeyFacts, look_up_key
from stack_config import StackConfig, key_path
from stack_config.parsing import shown
from stack_config.values import kms_key_arn_parts

FactsT = TypeVar("FactsT")

# S3, EBS, ECR, EKS and DynamoDB encrypt with a symmetric encryption key only.
KEY_SPEC, KEY_USAGE = "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"


def failure_reason(error: Exception) -> str:
    """A failed invoke's reason on one line, without the engine's `invoke of <token> failed:`."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    text = re.sub(r"^invoke of \S+ failed: ", "", text)
    return text.removesuffix(" ()")


def _looked_up(look_up: Callable[[str], FactsT], value: str, key: str, needs: str) -> FactsT | str:
    """The facts, or the config problem of a look-up that failed."""
    try:
        return look_up(value)
    except Exception as error:  # the engine raises a plain Exception for a failed invoke
        return (
            f"{key}: not found, or the deployer may not {needs}: {failure_reason(error)} "
            f"(got {shown(value)})"
        )


def key_problems(facts: KeyFacts, key: str) -> list[str]:
    """What makes a key that exists unusable for the deployment."""
    got = f"(got {shown(facts.arn)})"
    if facts.key_manager != "CUSTOMER":
        return [
            f"{key}: is an AWS managed key: its key policy cannot be changed and only its own "
            f"service may use it; name a customer managed key {got}"
        ]
    if facts.key_spec != KEY_SPEC or facts.key_usage != KEY_USAGE:
        return [
            f"{key}: has key spec {facts.key_spec} and usage {facts.key_usage}; S3, EBS, ECR, "
            f"EKS and DynamoDB encrypt with a symmetric encryption key only ({KEY_SPEC}, "
            f"{KEY_USAGE}) {got}"
        ]
    if facts.key_state != "Enabled":
        return [f"{key}: is {facts.key_state}; the deployment needs an enabled key {got}"]
    return []


def bucket_problems(facts: BucketFacts, key: str, region: str) -> list[str]:
    """What makes a bucket that exists unusable for the deployment."""
    if facts.region == region:
        return []
    return [
        f"{key}: is in {facts.region}, not in the stack's region {region}: the deployment's "
        f"key and endpoints are regional (got {shown(facts.name)})"
    ]


def existing_data_problems(config: StackConfig, env: AwsEnvironment) -> list[str]:
    """Look up the existing key and bucket (and the bucket's own key); one line per problem.

    A key of another partition or region is not looked up: `check_against_environment` refuses
    its ARN already."""
    problems: list[str] = []
    for loc, arn in config.data_key_arns.items():
        parts = kms_key_arn_parts(arn)
        if (parts["partition"], parts["region"]) != (env.partition, env.region):
            continue
        key = key_path(loc)
        found = _looked_up(look_up_key, arn, key, "describe it (kms:DescribeKey)")
        problems += [found] if isinstance(found, str) else key_problems(found, key)
    name = config.bucket.existing_bucket_name
    if name is not None:
        key = key_path(("bucket", "existingBucketName"))
        bucket = _looked_up(look_up_bucket, name, key, "list it (s3:ListBucket)")
        problems += (
            [bucket] if isinstance(bucket, str) else bucket_problems(bucket, key, env.region)
        )
    return problems
