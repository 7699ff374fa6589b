"""The rules that need the stack's environment, and the regions an inference profile serves.

`check_against_environment` runs after the look-ups (partition, region, account and, for an
existing cluster, what AWS reports of it) and before any resource is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from stack_config.errors import StackConfigError
from stack_config.parsing import key_path, shown
from stack_config.sections import BedrockConfig, StackConfig
from stack_config.values import kms_key_arn_parts

# Where a system-defined (cross-Region) inference profile can be called from: its geography
# prefix -> the stack regions it serves. An entry ending in "-" is a region prefix, any other a
# region. Source: the source regions of the geographic and global profiles on Amazon Bedrock's
# model cards ("Supported Regions and models for inference profiles" now points to them), read
# 2026-11-30: Claude Sonnet 4.5, Claude Sonnet 4 and Claude Opus 4.7. AWS adds source regions
# within a geography over time, hence prefixes; AWS warns that profiles and destinations differ by
# source region, so this refuses only what cannot exist (an `eu.` profile in `us-west-2`).
# `us-gov.` and `ca.` profiles appear in the AWS CDK's `CrossRegionInferenceProfileRegion` and in
# published code rather than on a model card.
PROFILE_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-", "us-west-", "ca-"),
    "us-gov": ("us-gov-",),
    "ca": ("ca-",),
    "eu": ("eu-", "il-central-1"),
    "apac": ("ap-",),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4", "ap-southeast-6"),
    "global": ("af-", "ap-", "ca-", "eu-", "il-", "me-", "mx-", "sa-", "us-east-", "us-west-"),
}


def profile_serves_region(geography: str, region: str) -> bool:
    """Whether a `<geography>.` inference profile can be called from `region`."""
    return any(
        region.startswith(entry) if entry.endswith("-") else region == entry
        for entry in PROFILE_SOURCE_REGIONS.get(geography, ())
    )


def profile_geographies_of(region: str) -> str:
    """The geography prefixes whose profiles `region` can call, for a message."""
    served = [g for g in PROFILE_SOURCE_REGIONS if profile_serves_region(g, region)]
    return ", ".join(f"{g}." for g in served) or "none"


_OIDC_PROVIDER_ARN = re.compile(
    r"arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):oidc-provider/(?P<issuer>.+)"
)


def check_against_environment(
    config: StackConfig,
    *,
    partition: str,
    region: str,
    account_id: str,
    existing_issuer_url: str | None = None,
    existing_authentication_mode: str | None = None,
    more_problems: Sequence[str] = (),
) -> None:
    """The rules that need the account and, for an existing cluster, what AWS reports of it.

    Run after the look-ups and before any resource is registered; raises StackConfigError with
    these problems and `more_problems` (the IAM quota checks, `policies.quotas`), all at once.
    """
    problems: list[str] = []
    cluster = config.cluster
    arn = cluster.existing_oidc_provider_arn
    if arn is not None:
        key = key_path(("cluster", "existingOidcProviderArn"))
        parts = _OIDC_PROVIDER_ARN.fullmatch(arn)
        assert parts is not None  # the field's own rule already matched it
        if parts["partition"] != partition or parts["account"] != account_id:
            problems.append(
                f"{key}: must be a provider of this account and partition "
                f"(arn:{partition}:iam::{account_id}:oidc-provider/...) (got {shown(arn)})"
            )
        elif existing_issuer_url is not None:
            issuer = existing_issuer_url.removeprefix("https://")
            if parts["issuer"] != issuer:
                problems.append(
                    f"{key}: names the provider of {parts['issuer']!r}, but cluster "
                    f"{cluster.existing_cluster_name!r} issues tokens as {issuer!r}"
                )
    if existing_authentication_mode == "CONFIG_MAP" and config.bastion.enabled:
        problems.append(
            f"{key_path(('cluster', 'existingClusterName'))}: cluster "
            f"{cluster.existing_cluster_name!r} authenticates with the aws-auth ConfigMap only; "
            "the bastion's access entry needs authentication mode API or API_AND_CONFIG_MAP "
            "(switch the cluster's mode, or set poolside:bastion.enabled to false)"
        )
    problems += bedrock_problems(config.bedrock, partition=partition, region=region)
    problems += inference_problems(config, partition=partition, account_id=account_id)
    problems += existing_key_problems(config, partition=partition, region=region)
    problems += more_problems
    if problems:
        raise StackConfigError(problems)


def bedrock_problems(bedrock: BedrockConfig, *, partition: str, region: str) -> list[str]:
    """Bedrock in the stack's partition and region: not offered in aws-cn, and each inference
    profile one this region can call."""
    problems: list[str] = []
    if partition == "aws-cn" and bedrock.enabled:
        problems.append(
            f"{key_path(('bedrock', 'enabled'))}: Amazon Bedrock is not offered in the aws-cn "
            "partition: set it to false"
        )
    profiles = bedrock.inference_profiles if bedrock.enabled else []
    for index, profile in enumerate(profiles):
        if not profile_serves_region(profile.geography, region):
            problems.append(
                f"{key_path(('bedrock', 'inferenceProfiles', index, 'id'))}: a "
                f"{profile.geography!r} profile cannot be called from the stack's region "
                f"{region} (its ARN would not exist there); use the profile of this region's "
                f"geography ({profile_geographies_of(region)}) (got {shown(profile.id)})"
            )
    return problems


def region_problems_beside(raw: Mapping[str, Any], *, partition: str, region: str) -> list[str]:
    """When other keys are invalid, the partition and region rules over a valid `bedrock`
    section (keys without the `poolside:` prefix, engine-style values), so that they are
    reported beside the other problems."""
    value = raw.get("bedrock", "{}")
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except json.JSONDecodeError:
            return []
    try:
        bedrock = BedrockConfig.model_validate(value)
    except ValidationError:
        return []
    return bedrock_problems(bedrock, partition=partition, region=region)


def inference_problems(config: StackConfig, *, partition: str, account_id: str) -> list[str]:
    """The inference role reads its models bucket only: never the deployment's data bucket, and
    with a key of the stack's partition (another partition's ARN would never match)."""
    inference = config.inference
    if not inference.enabled or inference.existing_bucket_name is None:
        return []
    problems: list[str] = []
    data_bucket = config.data_bucket_name(account_id)
    if inference.existing_bucket_name == data_bucket:
        problems.append(
            f"{key_path(('inference', 'existingBucketName'))}: is the deployment's data bucket; "
            "the inference role reads model checkpoints only: name the models bucket "
            f"(got {shown(inference.existing_bucket_name)})"
        )
    key = inference.existing_bucket_kms_key_arn
    if key is not None and key.split(":")[1] != partition:
        problems.append(
            f"{key_path(('inference', 'existingBucketKmsKeyArn'))}: must be a key of the "
            f"stack's partition {partition} (got {shown(key)})"
        )
    return problems


def existing_key_problems(config: StackConfig, *, partition: str, region: str) -> list[str]:
    """An existing key must be of the stack's partition and region: S3, EBS, ECR, EKS and
    DynamoDB encrypt only with a key of their own region (a multi-Region key is named by its
    replica's ARN in the stack's region)."""
    problems: list[str] = []
    for loc, arn in config.data_key_arns.items():
        parts = kms_key_arn_parts(arn)
        if parts["partition"] != partition:
            problems.append(
                f"{key_path(loc)}: must be a key of the stack's partition {partition} "
                f"(got {shown(arn)})"
            )
        elif parts["region"] != region:
            problems.append(
                f"{key_path(loc)}: must be a key in the stack's region {region}: S3, EBS, ECR, "
                "EKS and DynamoDB use a key of their own region only (for a multi-Region key, "
                f"its replica's ARN in {region}) (got {shown(arn)})"
            )
    return problems
