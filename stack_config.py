"""The typed stack configuration, parsed once from the `poolside` config namespace.

One `Pulumi.<customer>.yaml` per deployment holds these keys. Every problem in it is reported at
once, one line per problem naming the full key (`poolside:kms.deletionWindowInDays: ...`), before a
single resource is registered. The field descriptions below are the single source of the config
reference in the README (`python -m stack_config --markdown` prints it; a test keeps them equal).
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from aws_environment import is_arm64_instance_type
from naming import (
    DEPLOYMENT_TAG,
    EKS_NODE_GROUP_NAME_MAX,
    IAM_ROLE_NAME_MAX,
    MAX_PREFIX_LENGTH,
    Names,
    default_prefix,
)

NAMESPACE = "poolside"

# Names, and the limits they set (the longest role name caps the prefix), come from `naming`.
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
_ECR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


class CrossFieldError(ValueError):
    """Raised by a model validator to report problems on named keys of that model."""

    def __init__(self, problems: Sequence[tuple[str | tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))
        self.problems = problems


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration; `str()` is one line per problem, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Value rules. Each raises ValueError with what is allowed; the formatter adds the key and value.


def _dns_label(value: str) -> str:
    if not (3 <= len(value) <= 32 and _DNS_LABEL.match(value)):
        raise ValueError("must be a lowercase DNS label of 3-32 characters")
    return value


def _prefix(value: str) -> str:
    if not (3 <= len(value) <= MAX_PREFIX_LENGTH and _DNS_LABEL.match(value)):
        raise ValueError(
            f"must be 3-{MAX_PREFIX_LENGTH} lowercase letters, digits or hyphens, starting and "
            f"ending with a letter or digit (IAM role names cap at {IAM_ROLE_NAME_MAX} characters)"
        )
    return value


def _bucket_name(value: str) -> str:
    if not (3 <= len(value) <= 63 and _BUCKET_NAME.match(value)):
        raise ValueError(
            "must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in value or _IPV4.match(value) or value.startswith(("xn--", "sthree-")):
        raise ValueError("must be an S3 bucket name (no '..', no IP address, no reserved prefix)")
    if value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        raise ValueError("must be an S3 bucket name (the suffix is reserved by S3)")
    return value


def _kms_alias(value: str) -> str:
    if not _KMS_ALIAS.match(value) or value.startswith("alias/aws/") or len(value) > 256:
        raise ValueError(
            "must be 'alias/<name>' with letters, digits, '/', '_' or '-' "
            "(and not under the AWS-reserved 'alias/aws/')"
        )
    return value


def _ecr_repository(value: str) -> str:
    if not (1 <= len(value) <= 200 and _ECR_NAME.match(value)):
        raise ValueError(
            "must be an ECR repository name: lowercase letters and digits, "
            "separated by '.', '_', '-' or '/'"
        )
    return value


def _between(low: int, high: int, unit: str) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be {low}-{high} {unit}")
        return value

    return AfterValidator(check)


def _unique(values: list[str]) -> list[str]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"must not repeat names (repeated: {', '.join(duplicates)})")
    return values


def _tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses the AWS-reserved prefix 'aws:'")
        if key == DEPLOYMENT_TAG:
            raise ValueError(f"tag key {key!r} is set by the program to deploymentName")
        if len(value) > 256:
            raise ValueError(f"tag value of {key!r} must be at most 256 characters")
    if len(tags) > 40:
        raise ValueError("must have at most 40 tags (S3 and ECR allow 50 per resource in all)")
    return tags


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("must be a CIDR block such as 203.0.113.0/24") from None
    if network.prefixlen == 0:
        raise ValueError("must not open the API endpoint to the whole internet")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
KubernetesName = Annotated[
    str, _pattern(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "a Kubernetes name (lowercase DNS label)")
]
ServiceAccountName = Annotated[
    str,
    _pattern(
        r"[a-z0-9*]([a-z0-9.*-]{0,251}[a-z0-9*])?",
        "a Kubernetes service account name (a `*` allows a pattern)",
    ),
]
VpcId = Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id such as vpc-0123456789abcdef0")]
SubnetId = Annotated[
    str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id such as subnet-0123456789abcdef0")
]
AmiId = Annotated[str, _pattern(r"ami-[0-9a-f]{8,17}", "an AMI id such as ami-0123456789abcdef0")]
Cidr = Annotated[str, AfterValidator(_cidr)]
ClusterName = Annotated[
    str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", "an EKS cluster name (1-100 characters)")
]
OidcProviderArn = Annotated[
    str,
    _pattern(
        r"arn:aws(-us-gov|-cn)?:iam::\d{12}:oidc-provider/.+",
        "the ARN of an IAM OIDC provider (arn:<partition>:iam::<account>:oidc-provider/<issuer>)",
    ),
]
TableName = Annotated[
    str, _pattern(r"[A-Za-z0-9_.-]{3,255}", "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
]
InstanceType = Annotated[
    str, _pattern(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type such as m6i.large")
]
BedrockModelId = Annotated[
    str,
    _pattern(
        r"[a-z0-9-]+\.[A-Za-z0-9.:_-]+",
        "a Bedrock model id such as anthropic.claude-sonnet-4-20250514-v1:0",
    ),
]
AwsRegion = Annotated[
    str, _pattern(r"[a-z]{2}(-gov)?-[a-z]+-\d", "an AWS region such as us-east-1")
]


def _empty_is_unset(value: Any) -> Any:
    """Pulumi.yaml declares optional strings with default "": empty means "use the default"."""
    return None if value == "" else value


Prefix = Annotated[str, AfterValidator(_prefix)]
BucketName = Annotated[str, AfterValidator(_bucket_name)]
KmsAlias = Annotated[str, AfterValidator(_kms_alias)]
EcrRepositoryName = Annotated[str, AfterValidator(_ecr_repository)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


class KmsConfig(Section):
    deletion_window_in_days: Annotated[int, _between(7, 30, "days")] = Field(
        30,
        description="Days KMS waits before deleting the key once deletion is scheduled (7-30).",
    )
    alias: KmsAlias | None = Field(
        None, description="Alias of the key. Default: `alias/<deploymentPrefix>`."
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the key (and its alias) in AWS when the stack is destroyed.",
    )


class BucketConfig(Section):
    name: BucketName | None = Field(
        None,
        description="Explicit bucket name. Default: `<deploymentPrefix>-<accountId>`.",
    )
    noncurrent_version_expiration_days: Annotated[int, _between(1, 3650, "days")] = Field(
        90,
        description="Days after which noncurrent object versions are deleted (1-3650).",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the bucket and its settings in AWS when the stack is destroyed.",
    )


class EcrConfig(Section):
    repositories: Annotated[list[EcrRepositoryName], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Repositories to create, each named `poolside-<deploymentName>/<entry>`.",
    )
    image_tag_mutability: Literal["IMMUTABLE", "MUTABLE"] = Field(
        "IMMUTABLE", description="`IMMUTABLE` refuses to overwrite a pushed tag; or `MUTABLE`."
    )
    scan_on_push: bool = Field(True, description="Scan every pushed image for vulnerabilities.")
    untagged_image_expiration_days: Annotated[int, _between(1, 3650, "days")] = Field(
        14,
        description="Days after which untagged images are expired by the lifecycle policy.",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the repositories and their images when the stack is destroyed.",
    )


_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?" + _LABEL_NAME
)
_LABEL_VALUE = re.compile(f"({_LABEL_NAME})?")


def _label_key(value: str) -> str:
    prefix, _, _ = value.rpartition("/")
    if not _LABEL_KEY.fullmatch(value) or len(prefix) > 253:
        raise ValueError("must be a Kubernetes label key such as example.com/role")
    return value


def _labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        _label_key(key)
        if not _LABEL_VALUE.fullmatch(value):
            raise ValueError(f"label {key!r} must have a Kubernetes label value (got {value!r})")
    return labels


LabelKey = Annotated[str, AfterValidator(_label_key)]
Labels = Annotated[dict[str, str], AfterValidator(_labels)]


class TaintConfig(Section):
    key: LabelKey = Field(description="Taint key.")
    value: Annotated[str, _pattern(f"({_LABEL_NAME})?", "a Kubernetes label value")] = Field(
        "", description="Taint value."
    )
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = Field(
        description="`NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`."
    )


class NodeGroupConfig(Section):
    name: KubernetesName = Field(description="Node group name (suffix of `<deploymentPrefix>-`).")
    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["m6i.xlarge"], min_length=1, description="EC2 instance types."
    )
    min_size: Annotated[int, _between(0, 450, "nodes")] = Field(1, description="Minimum nodes.")
    desired_size: Annotated[int, _between(0, 450, "nodes")] = Field(
        2, description="Desired nodes at creation."
    )
    max_size: Annotated[int, _between(1, 450, "nodes")] = Field(3, description="Maximum nodes.")
    disk_size_gib: Annotated[int, _between(20, 16384, "GiB")] = Field(
        100, description="Root volume size in GiB."
    )
    gpu: bool = Field(
        False,
        description=(
            "GPU nodes: the NVIDIA AMI type (`AL2023_x86_64_NVIDIA`). Graviton instance types "
            "get `AL2023_ARM_64_STANDARD`."
        ),
    )
    labels: Labels = Field(default_factory=dict, description="Kubernetes node labels.")
    taints: list[TaintConfig] = Field(default_factory=list, description="Kubernetes taints.")

    @property
    def arm64(self) -> bool:
        """Graviton nodes (every instance type of a group has one architecture)."""
        return is_arm64_instance_type(self.instance_types[0])

    @model_validator(mode="after")
    def _consistent(self) -> NodeGroupConfig:
        problems: list[tuple[str, str]] = []
        if not self.min_size <= self.desired_size <= self.max_size:
            problems.append(
                (
                    "desiredSize",
                    f"must lie between minSize ({self.min_size}) and maxSize "
                    f"({self.max_size}) (got {self.desired_size})",
                )
            )
        architectures = {is_arm64_instance_type(t) for t in self.instance_types}
        if len(architectures) > 1:
            problems.append(
                ("instanceTypes", "mixes arm64 (Graviton) and x86_64 types; one AMI serves both")
            )
        elif self.gpu and self.arm64:
            problems.append(
                ("gpu", "GPU node groups use the x86_64 NVIDIA AMI: choose x86_64 GPU instances")
            )
        if problems:
            raise CrossFieldError(problems)
        return self


LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
DEFAULT_LOG_TYPES: tuple[LogType, ...] = ("api", "audit", "authenticator")


# Settings that shape a cluster this stack creates; set with an existing cluster, they would be
# silently ignored, so they are refused instead. (`privateSubnetIds` stays: the bastion's default.)
CREATED_CLUSTER_FIELDS = frozenset(
    {
        "kubernetes_version",
        "vpc_id",
        "public_subnet_ids",
        "endpoint_public_access",
        "public_access_cidrs",
        "authentication_mode",
        "enabled_log_types",
        "node_groups",
    }
)


class ClusterConfig(Section):
    existing_cluster_name: ClusterName | None = Field(
        None,
        description="Use this existing EKS cluster (looked up, not created). Default: create one.",
    )
    existing_oidc_provider_arn: OidcProviderArn | None = Field(
        None,
        description="Reuse this IAM OIDC provider of the existing cluster's issuer.",
    )
    kubernetes_version: Annotated[str, _pattern(r"1\.\d{2}", "a version such as 1.34")] = Field(
        "1.34", description="Kubernetes version of a created cluster."
    )
    vpc_id: VpcId | None = Field(None, description="VPC of a created cluster. Required to create.")
    private_subnet_ids: list[SubnetId] = Field(
        default_factory=list,
        description="Private subnets (two or more, in different AZs) for nodes and the bastion.",
    )
    public_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Public subnets for internet-facing load balancers."
    )
    endpoint_public_access: bool = Field(
        False, description="Expose the API endpoint publicly (needs `publicAccessCidrs`)."
    )
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list, description="CIDR allowlist of the public API endpoint."
    )
    authentication_mode: Literal["API", "API_AND_CONFIG_MAP"] = Field(
        "API", description="Access-entry authentication mode: `API` or `API_AND_CONFIG_MAP`."
    )
    enabled_log_types: list[LogType] = Field(
        default_factory=lambda: list(DEFAULT_LOG_TYPES),
        description="Control-plane log types sent to CloudWatch Logs.",
    )
    node_groups: list[NodeGroupConfig] = Field(
        default_factory=list, description="Managed node groups of a created cluster."
    )
    create_service_accounts: bool = Field(
        False,
        description="Create the annotated Kubernetes ServiceAccounts on the cluster.",
    )

    @model_validator(mode="after")
    def _mode_is_consistent(self) -> ClusterConfig:
        problems: list[tuple[str, str]] = []
        if self.existing_cluster_name is not None:
            for field_name in ClusterConfig.model_fields:
                if field_name in CREATED_CLUSTER_FIELDS & self.model_fields_set:
                    problems.append(
                        (
                            to_camel(field_name),
                            "only applies to a cluster this stack creates; remove it or "
                            "poolside:cluster.existingClusterName",
                        )
                    )
        else:
            if self.existing_oidc_provider_arn is not None:
                problems.append(
                    (
                        "existingOidcProviderArn",
                        "reuses the provider of an existing cluster; it needs "
                        "poolside:cluster.existingClusterName (a created cluster gets its own)",
                    )
                )
            if self.vpc_id is None:
                problems.append(("vpcId", "required to create a cluster"))
            if len(set(self.private_subnet_ids)) < 2:
                problems.append(
                    ("privateSubnetIds", "needs at least two different subnets to create a cluster")
                )
            if not self.node_groups:
                problems.append(
                    (
                        "nodeGroups",
                        "needs at least one node group to create a cluster (CoreDNS and the "
                        "Poolside pods need nodes)",
                    )
                )
        if self.endpoint_public_access and not self.public_access_cidrs:
            problems.append(
                (
                    "publicAccessCidrs",
                    "required when poolside:cluster.endpointPublicAccess is true",
                )
            )
        if self.public_access_cidrs and not self.endpoint_public_access:
            problems.append(
                (
                    "publicAccessCidrs",
                    "only applies when poolside:cluster.endpointPublicAccess is true",
                )
            )
        names = [group.name for group in self.node_groups]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append(("nodeGroups", f"repeats node group names: {', '.join(repeated)}"))
        if problems:
            raise CrossFieldError(problems)
        return self


class PodRoleConfig(Section):
    namespace: KubernetesName = Field(
        "poolside", description="Namespace of the Poolside service accounts."
    )
    service_accounts: Annotated[list[ServiceAccountName], AfterValidator(_unique)] = Field(
        default_factory=lambda: ["poolside"],
        min_length=1,
        description="Service accounts that assume the pod role (`*` makes a pattern).",
    )


class LoadBalancerControllerConfig(Section):
    enabled: bool = Field(True, description="Create the AWS Load Balancer Controller role.")
    namespace: KubernetesName = Field("kube-system", description="Namespace of the controller.")
    service_account: ServiceAccountName = Field(
        "aws-load-balancer-controller", description="Service account of the controller."
    )


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


class InferenceProfileConfig(Section):
    id: Annotated[
        str,
        _pattern(
            r"(us|eu|apac|us-gov|jp|au|ca|global)\.[a-z0-9-]+\.[A-Za-z0-9.:_-]+",
            "a system-defined inference profile id "
            "such as us.anthropic.claude-sonnet-4-20250514-v1:0",
        ),
    ] = Field(description="Inference profile id.")
    regions: Any = Field(
        None,
        description=(
            "Removed: the profile's model is now granted in every region the profile routes to, "
            "through the profile only. Delete this key."
        ),
    )

    @property
    def geography(self) -> str:
        """The profile's geography prefix (`us`, `eu`, ..., `global`)."""
        return self.id.split(".", 1)[0]

    @model_validator(mode="after")
    def _no_regions(self) -> InferenceProfileConfig:
        if "regions" in self.model_fields_set:
            raise CrossFieldError(
                [
                    (
                        "regions",
                        "is no longer used: the policy now grants the profile's model in every "
                        "region it routes to (AWS adds regions over time), only through the "
                        "profile; delete this key",
                    )
                ]
            )
        return self


def _unique_profiles(profiles: list[InferenceProfileConfig]) -> list[InferenceProfileConfig]:
    ids = [profile.id for profile in profiles]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"must not repeat a profile id (repeated: {', '.join(repeated)})")
    return profiles


class BedrockConfig(Section):
    enabled: bool = Field(
        True,
        description="Grant Bedrock use (policies 4-6) and create the customization role.",
    )
    models: Annotated[list[BedrockModelId], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Foundation model ids the pod may invoke. Empty: every foundation model.",
    )
    inference_profiles: Annotated[
        list[InferenceProfileConfig], AfterValidator(_unique_profiles)
    ] = Field(
        default_factory=list, description="Cross-region inference profiles the pod may invoke."
    )
    customization_base_models: Annotated[list[BedrockModelId], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Foundation models customization jobs may start from. Empty: any.",
    )


class BastionConfig(Section):
    enabled: bool = Field(True, description="Create the bastion role, profile and instance.")
    instance_type: InstanceType = Field("t3.medium", description="Bastion instance type.")
    subnet_id: SubnetId | None = Field(
        None, description="Bastion subnet. Default: the first of `cluster.privateSubnetIds`."
    )
    ami_id: AmiId | None = Field(
        None,
        description="Bastion AMI. Default: the latest Amazon Linux 2023 (public SSM parameter).",
    )
    install_tools: bool = Field(
        True, description="User data installs kubectl and helm on first boot."
    )
    existing_lock_table_name: TableName | None = Field(
        None,
        description="Use this state-lock table instead of creating `<prefix>-terraform-locks`.",
    )
    root_volume_size_gib: Annotated[int, _between(8, 1024, "GiB")] = Field(
        30, description="Root volume size in GiB (encrypted with the deployment's key)."
    )


class StackConfig(Section):
    deployment_name: DnsLabel = Field(
        description="Name of this deployment: a lowercase DNS label of 3-32 characters. Required.",
    )
    deployment_prefix: Annotated[Prefix | None, BeforeValidator(_empty_is_unset)] = Field(
        None,
        description=(
            "Prefix of every IAM role and policy name. Default: `poolside-<deploymentName>`. "
            f"At most {MAX_PREFIX_LENGTH} characters."
        ),
    )
    tags: Tags = Field(
        default_factory=dict,
        description=f"Tags for every taggable resource, merged with `{DEPLOYMENT_TAG}`.",
    )
    kms: KmsConfig = Field(
        default_factory=lambda: KmsConfig.model_validate({}),
        description="The deployment's KMS key.",
    )
    bucket: BucketConfig = Field(
        default_factory=lambda: BucketConfig.model_validate({}),
        description="The Poolside S3 bucket.",
    )
    ecr: EcrConfig = Field(
        default_factory=lambda: EcrConfig.model_validate({}), description="The ECR repositories."
    )
    cluster: ClusterConfig = Field(description="The EKS cluster: created, or an existing one.")
    pod_role: PodRoleConfig = Field(
        default_factory=lambda: PodRoleConfig.model_validate({}),
        description="The Poolside pod role (IRSA) and its service accounts.",
    )
    load_balancer_controller: LoadBalancerControllerConfig = Field(
        default_factory=lambda: LoadBalancerControllerConfig.model_validate({}),
        description="The AWS Load Balancer Controller role (IRSA).",
    )
    bedrock: BedrockConfig = Field(
        default_factory=lambda: BedrockConfig.model_validate({}),
        description="Amazon Bedrock use by the pods.",
    )
    bastion: BastionConfig = Field(
        default_factory=lambda: BastionConfig.model_validate({}),
        description="The bastion host (SSM Session Manager only).",
    )

    @model_validator(mode="after")
    def _sections_agree(self) -> StackConfig:
        problems = cross_section_problems(
            deployment_name=self.deployment_name,
            deployment_prefix=self.deployment_prefix,
            cluster=self.cluster,
            bastion=self.bastion,
        )
        if problems:
            raise CrossFieldError(problems)
        return self

    @property
    def bastion_subnet_id(self) -> str | None:
        """The bastion's subnet: the configured one, else the cluster's first private subnet."""
        return bastion_subnet_id(self.bastion, self.cluster)

    @property
    def prefix(self) -> str:
        """The resolved deployment prefix of IAM role and policy names."""
        return self.deployment_prefix or default_prefix(self.deployment_name)

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags for every taggable resource: the user's plus the deployment tag."""
        return {**self.tags, DEPLOYMENT_TAG: self.deployment_name}

    @property
    def names(self) -> Names:
        """The physical names of this deployment's resources (`naming.Names`)."""
        return Names(self.prefix, self.deployment_name)


def bastion_subnet_id(bastion: BastionConfig, cluster: ClusterConfig) -> str | None:
    """The bastion's subnet: the configured one, else the cluster's first private subnet."""
    if bastion.subnet_id is not None:
        return bastion.subnet_id
    return cluster.private_subnet_ids[0] if cluster.private_subnet_ids else None


Problem = tuple[str | tuple[str | int, ...], str]


def cross_section_problems(
    *,
    deployment_name: str | None,
    deployment_prefix: str | None,
    cluster: ClusterConfig | None,
    bastion: BastionConfig | None,
) -> list[Problem]:
    """The rules across sections. Each takes part only when every section it reads is valid
    (None: invalid), so they also run, as far as they can, beside other sections' errors."""
    problems: list[Problem] = []
    prefix = deployment_prefix or (
        default_prefix(deployment_name) if deployment_name is not None else None
    )
    if deployment_prefix is None and prefix is not None and len(prefix) > MAX_PREFIX_LENGTH:
        problems.append(
            (
                "deploymentName",
                f"the default deploymentPrefix {prefix!r} is {len(prefix)} "
                f"characters, more than the {MAX_PREFIX_LENGTH} IAM role names leave room "
                "for: shorten the name or set poolside:deploymentPrefix",
            )
        )
    if (
        bastion is not None
        and cluster is not None
        and bastion.enabled
        and bastion_subnet_id(bastion, cluster) is None
    ):
        problems.append(
            (
                "bastion.subnetId",
                "required when poolside:cluster.privateSubnetIds is empty "
                "(an existing cluster): name the bastion's private subnet",
            )
        )
    if cluster is not None and prefix is not None:
        for index, group in enumerate(cluster.node_groups):
            node_group_name = Names(prefix, deployment_name or "").node_group(group.name)
            if len(node_group_name) > EKS_NODE_GROUP_NAME_MAX:
                problems.append(
                    (
                        ("cluster", "nodeGroups", index, "name"),
                        f"makes the node group name {node_group_name!r} "
                        f"{len(node_group_name)} characters; EKS allows "
                        f"{EKS_NODE_GROUP_NAME_MAX}",
                    )
                )
    if (
        bastion is not None
        and bastion.enabled
        and is_arm64_instance_type(bastion.instance_type)
        and (bastion.ami_id is None or bastion.install_tools)
    ):
        problems.append(
            (
                "bastion.instanceType",
                f"{bastion.instance_type!r} is arm64 (Graviton), but the default AMI and the "
                "tools of poolside:bastion.installTools are x86_64: choose an x86_64 type, or "
                "set poolside:bastion.amiId to an arm64 AMI and poolside:bastion.installTools "
                "to false",
            )
        )
    return problems


def _valid_or_none(annotation: Any, value: Any) -> Any:
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return None


def _cross_section_lines_beside(raw: Mapping[str, Any]) -> list[str]:
    """When some sections are invalid, the cross-section rules over the valid ones."""
    if not isinstance(raw, Mapping):
        return []
    fields = StackConfig.model_fields
    sections: dict[str, Any] = {}
    for name in ("deployment_name", "deployment_prefix", "cluster", "bastion"):
        field = fields[name]
        alias = field.alias or name
        if alias in raw:
            value = raw[alias]
        elif field.is_required():
            sections[name] = None
            continue
        else:
            value = field.get_default(call_default_factory=True)
        annotation = (
            Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        )
        sections[name] = _valid_or_none(annotation, value)
    if raw.get("deploymentPrefix") not in (None, "") and sections["deployment_prefix"] is None:
        return []  # an invalid explicit prefix: no rule may assume the default one
    return [
        f"{key_path(key if isinstance(key, tuple) else tuple(key.split('.')))}: {message}"
        for key, message in cross_section_problems(**sections)
    ]


# ---------------------------------------------------------------------------------------------
# Parsing and error formatting


def key_path(loc: Iterable[str | int]) -> str:
    path = NAMESPACE + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif first:
            path += part
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
        first = False
    return path


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a section field, or of the items of a list-of-sections field."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue  # an index into a list of sections: same model as the list's items
        fields = {f.alias: f for f in model.model_fields.values()}
        field = fields.get(part)
        nested = _section_model(field.annotation) if field else None
        if nested is None:
            return None
        model = nested
    return model


def _did_you_mean(loc: tuple[str | int, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    known = [f.alias for f in model.model_fields.values() if f.alias]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if str(loc[-1]).lower() in lowered:
            close = [lowered[str(loc[-1]).lower()]]
    return f"; did you mean {key_path((*loc[:-1], close[0]))}?" if close else ""


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)


def format_errors(error: ValidationError) -> list[str]:
    """One line per problem: `poolside:<key>: <what is allowed> (got <value>)`."""
    lines: list[str] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CrossFieldError):
            lines.extend(
                f"{key_path((*loc, *(key if isinstance(key, tuple) else key.split('.'))))}: {msg}"
                for key, msg in cause.problems
            )
            continue
        kind = err["type"]
        if kind == "missing":
            lines.append(f"{key_path(loc)}: required")
            continue
        if kind == "extra_forbidden":
            lines.append(f"{key_path(loc)}: unknown key{_did_you_mean(loc)}")
            continue
        message = err["msg"]
        message = message.removeprefix("Value error, ")
        message = re.sub(r"^Input should be ", "must be ", message)
        message = message.replace("Input should be", "must be")
        lines.append(f"{key_path(loc)}: {message} (got {_shown(err['input'])})")
    return lines


def _decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Values arrive as strings, objects and lists as JSON text, as the engine sends them.

    Text that is not valid JSON is left as it is: the model then reports it as the wrong type,
    naming its key.
    """
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        decoded[key] = value
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            with contextlib.suppress(json.JSONDecodeError):
                decoded[key] = json.loads(value)
    return decoded


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate the namespace's keys (without the `poolside:` prefix); raise StackConfigError.

    Pydantic runs a model's cross-field rules only once its fields are valid, so with an error
    anywhere the cross-section rules would wait for the next run; they are run here over the
    sections that are valid, so that every problem is reported at once.
    """
    decoded = _decode(raw)
    try:
        return StackConfig.model_validate(decoded)
    except ValidationError as error:
        lines = format_errors(error)
        lines += [line for line in _cross_section_lines_beside(decoded) if line not in lines]
        raise StackConfigError(lines) from None


def namespace_config(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Every key the engine passed for `namespace`, so that unknown keys can be refused.

    `pulumi.Config` can only read keys it is asked for; to refuse a typo we need them all. The
    Python SDK keeps them in `pulumi.runtime.config.CONFIG` (set by the mock engine and by
    automation) and the language host passes them in `PULUMI_CONFIG`; both are read here.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    prefix = namespace + ":"
    return {k[len(prefix) :]: v for k, v in merged.items() if k.startswith(prefix)}


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
                f"(arn:{partition}:iam::{account_id}:oidc-provider/...) (got {_shown(arn)})"
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
    if partition == "aws-cn" and config.bedrock.enabled:
        problems.append(
            f"{key_path(('bedrock', 'enabled'))}: Amazon Bedrock is not offered in the aws-cn "
            "partition: set it to false"
        )
    profiles = config.bedrock.inference_profiles if config.bedrock.enabled else []
    for index, profile in enumerate(profiles):
        if not profile_serves_region(profile.geography, region):
            problems.append(
                f"{key_path(('bedrock', 'inferenceProfiles', index, 'id'))}: a "
                f"{profile.geography!r} profile cannot be called from the stack's region "
                f"{region} (its ARN would not exist there); use the profile of this region's "
                f"geography ({profile_geographies_of(region)}) (got {_shown(profile.id)})"
            )
    problems += more_problems
    if problems:
        raise StackConfigError(problems)


def load_stack_config() -> StackConfig:
    """Read and validate the stack's `poolside:*` keys once; raise StackConfigError if invalid."""
    return parse_stack_config(namespace_config())


# ---------------------------------------------------------------------------------------------
# The config reference, generated from the field descriptions (README and Pulumi.yaml use it).


def _type_name(annotation: Any) -> str:
    if annotation is Any:  # a removed key, kept only to refuse it with a clear line
        return "(removed)"
    text = str(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    if _section_model(annotation) is not None:
        return "list of objects"
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "bool": "boolean", "dict": "map"}.get(
            annotation.__name__, annotation.__name__
        )
    if "list" in text:
        return "list of strings"
    if "dict" in text:
        return "map of strings"
    if "Literal" in text:
        return "string"
    if "int" in text:
        return "integer"
    if "bool" in text:
        return "boolean"
    return "string"


def _default_text(field: Any) -> str:
    if field.is_required():
        return "(required)"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        return f"`{json.dumps(value)}`"
    if field.default is None:
        return "see description"
    return f"`{json.dumps(field.default)}`"


def reference_rows(
    model: type[BaseModel] = StackConfig, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every key, sections expanded."""
    rows: list[tuple[str, str, str, str]] = []
    for field in model.model_fields.values():
        key = f"{prefix}{field.alias}"
        annotation = field.annotation
        rows.append(
            (
                f"{NAMESPACE}:{key}",
                _type_name(annotation),
                _default_text(field),
                field.description or "",
            )
        )
        nested = _section_model(annotation)
        if nested is not None:
            separator = "." if nested is annotation else "[]."
            rows.extend(reference_rows(nested, prefix=f"{key}{separator}"))
    return rows


def reference_markdown() -> str:
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    lines += [f"| `{k}` | {t} | {d} | {desc} |" for k, t, d, desc in reference_rows()]
    return "\n".join(lines)


README_MARKERS = ("<!-- config-reference:start -->", "<!-- config-reference:end -->")


def write_reference(readme: str) -> None:
    """Replace the README's config reference (between its markers) with the generated one."""
    with open(readme, encoding="utf-8") as handle:
        text = handle.read()
    start, end = README_MARKERS
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    with open(readme, "w", encoding="utf-8") as handle:
        handle.write(f"{before}{start}\n{reference_markdown()}\n{end}{after}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        print(reference_markdown())
    elif sys.argv[1:2] == ["--write-readme"] and len(sys.argv) == 3:
        write_reference(sys.argv[2])
    else:
        print(
            "usage: python -m stack_config --markdown | --write-readme README.md", file=sys.stderr
        )
        sys.exit(os.EX_USAGE)
