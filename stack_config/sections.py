"""The section models: one pydantic model per config section, and `StackConfig`, the whole.

Keys are camelCase, unknown keys are refused and models are frozen (`Section`). A model's own
cross-field rules raise `CrossFieldError`; the rules across sections are in `stack_config.rules`.
The field descriptions are the config reference (`stack_config.reference`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from aws_environment import is_arm64_instance_type
from naming import DEPLOYMENT_TAG, MAX_PREFIX_LENGTH, Names, default_prefix
from stack_config.errors import CrossFieldError, Problem
from stack_config.rules import bastion_subnet_id, cross_section_problems
from stack_config.values import (
    DEFAULT_KUBERNETES_VERSION,
    KUBERNETES_VERSIONS,
    AddonVersion,
    AmiId,
    BedrockModelId,
    BucketName,
    Cidr,
    ClusterName,
    DnsLabel,
    EcrRepositoryName,
    InstanceType,
    KmsAlias,
    KmsKeyArn,
    KubernetesName,
    KubernetesVersion,
    LabelKey,
    Labels,
    LabelValue,
    OidcProviderArn,
    Prefix,
    ServiceAccountName,
    ServiceAccountRef,
    SubnetId,
    TableName,
    Tags,
    VpcId,
    between,
    empty_is_unset,
    pattern,
    unique,
)


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


def switched_off_problems(section: Section, key: str) -> list[Problem]:
    """Settings of a section that is switched off: silently ignored, hence refused, one line
    per key, naming the section's `enabled` key."""
    if getattr(section, "enabled", True):
        return []
    enabled = f"poolside:{key}.enabled"
    return [
        (
            to_camel(name),
            f"only applies when {enabled} is true; remove it, or set {enabled} to true",
        )
        for name in type(section).model_fields
        if name != "enabled" and name in section.model_fields_set
    ]


class KmsConfig(Section):
    deletion_window_in_days: Annotated[int, between(7, 30, "days")] = Field(
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
    noncurrent_version_expiration_days: Annotated[int, between(1, 3650, "days")] = Field(
        90,
        description="Days after which noncurrent object versions are deleted (1-3650).",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the bucket and its settings in AWS when the stack is destroyed.",
    )


class EcrConfig(Section):
    repositories: Annotated[list[EcrRepositoryName], AfterValidator(unique)] = Field(
        default_factory=list,
        description="Repositories to create, each named `poolside-<deploymentName>/<entry>`.",
    )
    image_tag_mutability: Literal["IMMUTABLE", "MUTABLE"] = Field(
        "IMMUTABLE", description="`IMMUTABLE` refuses to overwrite a pushed tag; or `MUTABLE`."
    )
    scan_on_push: bool = Field(True, description="Scan every pushed image for vulnerabilities.")
    untagged_image_expiration_days: Annotated[int, between(1, 3650, "days")] = Field(
        14,
        description="Days after which untagged images are expired by the lifecycle policy.",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the repositories and their images when the stack is destroyed.",
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
        default_factory=lambda: AddonConfig.model_validate({}),
        description=(
            "`vpc-cni`, with its IRSA role `<deploymentPrefix>-eks-vpc-cni-role`; before the "
            "node groups."
        ),
    )
    kube_proxy: AddonConfig = Field(
        default_factory=lambda: AddonConfig.model_validate({}),
        description="`kube-proxy`; before the node groups.",
    )
    coredns: AddonConfig = Field(
        default_factory=lambda: AddonConfig.model_validate({}),
        description="`coredns`; after the node groups.",
    )
    ebs_csi_driver: AddonConfig = Field(
        default_factory=lambda: AddonConfig.model_validate({}),
        description=(
            "`aws-ebs-csi-driver`, with its IRSA role `<deploymentPrefix>-eks-ebs-csi-role`; "
            "after the node groups."
        ),
    )
    metrics_server: OptionalAddonConfig = Field(
        default_factory=lambda: OptionalAddonConfig.model_validate({}),
        description="`metrics-server`; after the node groups.",
    )
    snapshot_controller: OptionalAddonConfig = Field(
        default_factory=lambda: OptionalAddonConfig.model_validate({}),
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


class PodRoleConfig(Section):
    namespace: KubernetesName = Field(
        "poolside", description="Namespace of the Poolside service accounts given by name alone."
    )
    service_accounts: Annotated[list[ServiceAccountRef], AfterValidator(unique)] = Field(
        default_factory=lambda: ["core-api-sa"],
        min_length=1,
        description=(
            "Service accounts that assume the pod role: `name` (in `namespace`) or "
            "`namespace:name`; `*` in a name makes a pattern. Default: the core API's."
        ),
    )

    @property
    def subjects(self) -> list[str]:
        """Each service account as `<namespace>:<name>`."""
        return [sa if ":" in sa else f"{self.namespace}:{sa}" for sa in self.service_accounts]


class InferenceConfig(Section):
    enabled: bool = Field(
        True,
        description=(
            "Create the inference role (IRSA) and, unless one is named, the models bucket it "
            "reads model checkpoints from."
        ),
    )
    namespace: KubernetesName = Field(
        "poolside-models", description="Namespace of the inference pods."
    )
    service_account: ServiceAccountName = Field(
        "inference", description="Service account of the inference pods."
    )
    existing_bucket_name: BucketName | None = Field(
        None,
        description=(
            "Read checkpoints from this existing bucket instead of creating "
            "`<deploymentPrefix>-models-<accountId>`."
        ),
    )
    existing_bucket_kms_key_arn: KmsKeyArn | None = Field(
        None,
        description=(
            "The KMS key the existing bucket's objects are encrypted with (`kms:Decrypt` on "
            "it). Default: none (SSE-S3)."
        ),
    )
    retain_on_delete: bool = Field(
        True, description="Keep the created models bucket when the stack is destroyed."
    )

    @model_validator(mode="after")
    def _settings_fit_the_bucket(self) -> InferenceConfig:
        problems: list[Problem] = []
        if self.existing_bucket_kms_key_arn is not None and self.existing_bucket_name is None:
            problems.append(
                (
                    "existingBucketKmsKeyArn",
                    "only applies with poolside:inference.existingBucketName (the created "
                    "bucket uses the deployment's key)",
                )
            )
        if self.existing_bucket_name is not None and "retain_on_delete" in self.model_fields_set:
            problems.append(
                (
                    "retainOnDelete",
                    "only applies to the models bucket this stack creates; remove it or "
                    "poolside:inference.existingBucketName",
                )
            )
        if problems:
            raise CrossFieldError(problems)
        return self


class LoadBalancerControllerConfig(Section):
    enabled: bool = Field(True, description="Create the AWS Load Balancer Controller role.")
    namespace: KubernetesName = Field("kube-system", description="Namespace of the controller.")
    service_account: ServiceAccountName = Field(
        "aws-load-balancer-controller", description="Service account of the controller."
    )


class InferenceProfileConfig(Section):
    id: Annotated[
        str,
        pattern(
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
    models: Annotated[list[BedrockModelId], AfterValidator(unique)] = Field(
        default_factory=list,
        description="Foundation model ids the pod may invoke. Empty: every foundation model.",
    )
    inference_profiles: Annotated[
        list[InferenceProfileConfig], AfterValidator(_unique_profiles)
    ] = Field(
        default_factory=list, description="Cross-region inference profiles the pod may invoke."
    )
    customization_base_models: Annotated[list[BedrockModelId], AfterValidator(unique)] = Field(
        default_factory=list,
        description="Foundation models customization jobs may start from. Empty: any.",
    )

    @model_validator(mode="after")
    def _nothing_set_while_off(self) -> BedrockConfig:
        problems = switched_off_problems(self, "bedrock")
        if problems:
            raise CrossFieldError(problems)
        return self


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
    root_volume_size_gib: Annotated[int, between(8, 1024, "GiB")] = Field(
        30, description="Root volume size in GiB (encrypted with the deployment's key)."
    )

    @model_validator(mode="after")
    def _nothing_set_while_off(self) -> BastionConfig:
        problems = switched_off_problems(self, "bastion")
        if problems:
            raise CrossFieldError(problems)
        return self


class StackConfig(Section):
    deployment_name: DnsLabel = Field(
        description="Name of this deployment: a lowercase DNS label of 3-32 characters. Required.",
    )
    deployment_prefix: Annotated[Prefix | None, BeforeValidator(empty_is_unset)] = Field(
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
    addons: AddonsConfig = Field(
        default_factory=lambda: AddonsConfig.model_validate({}),
        description="The cluster's EKS managed add-ons: which the program manages, and versions.",
    )
    pod_role: PodRoleConfig = Field(
        default_factory=lambda: PodRoleConfig.model_validate({}),
        description="The Poolside pod role (IRSA) and its service accounts.",
    )
    load_balancer_controller: LoadBalancerControllerConfig = Field(
        default_factory=lambda: LoadBalancerControllerConfig.model_validate({}),
        description="The AWS Load Balancer Controller role (IRSA).",
    )
    inference: InferenceConfig = Field(
        default_factory=lambda: InferenceConfig.model_validate({}),
        description="The inference role (IRSA) and the model checkpoints bucket it reads.",
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
            addons=self.addons,
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


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a section field, or of the items of a list-of-sections field."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None
