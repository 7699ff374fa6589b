"""The cluster's sections: the EKS cluster (created or existing), its node groups and its
managed add-ons."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from aws_environment import is_arm64_instance_type
from stack_config.base import Section, defaults, section_model
from stack_config.errors import CrossFieldError
from stack_config.values import (
    DEFAULT_KUBERNETES_VERSION,
    KUBERNETES_VERSIONS,
    AddonVersion,
    Cidr,
    ClusterName,
    InstanceType,
    KubernetesName,
    KubernetesVersion,
    LabelKey,
    Labels,
    LabelValue,
    OidcProviderArn,
    SubnetId,
    VpcId,
    between,
)


class TaintConfig(Section):
    key: LabelKey = Field(description="Taint key.")
    value: LabelValue = Field("", description="Taint value.")
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = Field(
        description="`NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`."
    )


class NodeGroupConfig(Section):
    name: KubernetesName = Field(description="Node group name (suffix of `<deploymentPrefix>-`).")
    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["m6i.xlarge"], min_length=1, description="EC2 instance types."
    )
    min_size: Annotated[int, between(0, 450, "nodes")] = Field(1, description="Minimum nodes.")
    desired_size: Annotated[int, between(0, 450, "nodes")] = Field(
        2, description="Desired nodes at creation."
    )
    max_size: Annotated[int, between(1, 450, "nodes")] = Field(3, description="Maximum nodes.")
    disk_size_gib: Annotated[int, between(20, 16384, "GiB")] = Field(
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
    kubernetes_version: KubernetesVersion = Field(
        DEFAULT_KUBERNETES_VERSION,
        description=(
            f"Kubernetes version of a created cluster, quoted: {', '.join(KUBERNETES_VERSIONS)}."
        ),
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


class AddonConfig(Section):
    enabled: bool = Field(True, description="Manage this add-on.")
    version: AddonVersion | None = Field(
        None,
        description=(
            "Pinned add-on version, such as `v1.19.0-eksbuild.1`. Default: the newest for the "
            "cluster's Kubernetes version, looked up at every run."
        ),
    )


class OptionalAddonConfig(AddonConfig):
    enabled: bool = Field(False, description="Manage this add-on (off unless asked).")


class AddonsConfig(Section):
    vpc_cni: AddonConfig = Field(
        default_factory=defaults(AddonConfig),
        description=(
            "`vpc-cni`, with its IRSA role `<deploymentPrefix>-eks-vpc-cni-role`; before the "
            "node groups."
        ),
    )
    kube_proxy: AddonConfig = Field(
        default_factory=defaults(AddonConfig),
        description="`kube-proxy`; before the node groups.",
    )
    coredns: AddonConfig = Field(
        default_factory=defaults(AddonConfig),
        description="`coredns`; after the node groups.",
    )
    ebs_csi_driver: AddonConfig = Field(
        default_factory=defaults(AddonConfig),
        description=(
            "`aws-ebs-csi-driver`, with its IRSA role `<deploymentPrefix>-eks-ebs-csi-role`; "
            "after the node groups."
        ),
    )
    metrics_server: OptionalAddonConfig = Field(
        default_factory=defaults(OptionalAddonConfig),
        description="`metrics-server`; after the node groups.",
    )
    snapshot_controller: OptionalAddonConfig = Field(
        default_factory=defaults(OptionalAddonConfig),
        description="`snapshot-controller` (CSI volume snapshots); after the node groups.",
    )
    manage_on_existing_cluster: bool = Field(
        False,
        description=(
            "With `cluster.existingClusterName`, manage the enabled add-ons on that cluster. "
            "Default: an existing cluster's add-ons stay its owner's."
        ),
    )

    @property
    def settings(self) -> dict[str, AddonConfig]:
        """Each add-on's settings by its config key (`vpcCni`, ...), in the order above."""
        return {
            to_camel(name): getattr(self, name)
            for name, field in AddonsConfig.model_fields.items()
            if section_model(field.annotation) is not None
        }
