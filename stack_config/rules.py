"""The rules across sections: each reads more than one section, so no single model can hold it.

`StackConfig` runs them once its sections are valid; when some are not, `stack_config.parsing`
runs them over the valid ones, so that every problem is reported at once. The sections are passed
in (None: invalid), hence the models are imported here for their types only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic.alias_generators import to_camel

from aws_environment import is_arm64_instance_type
from naming import EKS_NODE_GROUP_NAME_MAX, MAX_PREFIX_LENGTH, Names, default_prefix
from stack_config.errors import Problem

if TYPE_CHECKING:
    from stack_config.cluster import AddonsConfig, ClusterConfig
    from stack_config.sections import BastionConfig, BucketConfig, InferenceConfig


def bastion_subnet_id(bastion: BastionConfig, cluster: ClusterConfig) -> str | None:
    """The bastion's subnet: the configured one, else the cluster's first private subnet."""
    if bastion.subnet_id is not None:
        return bastion.subnet_id
    return cluster.private_subnet_ids[0] if cluster.private_subnet_ids else None


def cross_section_problems(
    *,
    deployment_name: str | None,
    deployment_prefix: str | None,
    cluster: ClusterConfig | None,
    bastion: BastionConfig | None,
    addons: AddonsConfig | None = None,
    bucket: BucketConfig | None = None,
    inference: InferenceConfig | None = None,
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
    if cluster is not None and addons is not None:
        problems += _addon_problems(cluster, addons)
    if bucket is not None and inference is not None:
        problems += _bucket_lifecycle_problems(bucket, inference)
    return problems


def _bucket_lifecycle_problems(bucket: BucketConfig, inference: InferenceConfig) -> list[Problem]:
    """`bucket.noncurrentVersionExpirationDays` sets the lifecycle of the buckets the stack
    creates: with an existing data bucket and no models bucket to create, it sets nothing."""
    creates_models_bucket = inference.enabled and inference.existing_bucket_name is None
    if (
        bucket.existing_bucket_name is None
        or creates_models_bucket
        or "noncurrent_version_expiration_days" not in bucket.model_fields_set
    ):
        return []
    return [
        (
            "bucket.noncurrentVersionExpirationDays",
            "only applies to the buckets this stack creates, and with "
            "poolside:bucket.existingBucketName it creates none (the models bucket is "
            "switched off or existing); remove it",
        )
    ]


def _addon_problems(cluster: ClusterConfig, addons: AddonsConfig) -> list[Problem]:
    """Add-on settings the program would silently ignore: those of an existing cluster whose
    add-ons it does not manage, and `manageOnExistingCluster` on a cluster it creates."""
    if cluster.existing_cluster_name is None:
        if addons.manage_on_existing_cluster:
            return [
                (
                    "addons.manageOnExistingCluster",
                    "only applies to an existing cluster (poolside:cluster.existingClusterName); "
                    "the program always manages the enabled add-ons of a cluster it creates",
                )
            ]
        return []
    if addons.manage_on_existing_cluster:
        return []
    given = {to_camel(name) for name in addons.model_fields_set}
    return [
        (
            ("addons", key),
            "the program manages no add-on of an existing cluster unless "
            "poolside:addons.manageOnExistingCluster is true: set it, or remove this key",
        )
        for key in addons.settings
        if key in given
    ]


def reachability_warnings(cluster: ClusterConfig, bastion: BastionConfig) -> list[str]:
    """Not errors, but said: how a created cluster with a private endpoint and no bastion will be
    reached (the program logs them as warnings; the offline preview prints them on stderr)."""
    if bastion.enabled or cluster.existing_cluster_name is not None:
        return []
    if cluster.endpoint_public_access:
        return []
    return [
        "poolside:bastion.enabled: false while the cluster's API endpoint is private "
        "(poolside:cluster.endpointPublicAccess is false): kubectl and helm will reach the "
        "cluster only from inside its VPC (a VPN, Direct Connect, a peered network or an instance "
        "in its subnets); keep the bastion, or open the endpoint to "
        "poolside:cluster.publicAccessCidrs"
    ]
