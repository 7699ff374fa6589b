"""The section models: one pydantic model per config section, and `StackConfig`, the whole.

The cluster's sections (cluster, node groups, add-ons) are in `stack_config.cluster`; the base of
every section in `stack_config.base`.

Keys are camelCase, unknown keys are refused and models are frozen (`Section`). A model's own
cross-field rules raise `CrossFieldError`; the rules across sections are in `stack_config.rules`.
The field descriptions are the config reference (`stack_config.reference`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, InitErrorDetails

from naming import DEPLOYMENT_TAG, MAX_PREFIX_LENGTH, Names, default_prefix
from stack_config.base import Section, SectionT, defaults, switched_off_problems
from stack_config.cluster import AddonsConfig, ClusterConfig
from stack_config.errors import CrossFieldError, Problem
from stack_config.rules import bastion_subnet_id, cross_section_problems
from stack_config.values import (
    AmiId,
    BedrockModelId,
    BucketName,
    DnsLabel,
    EcrRepositoryName,
    InstanceType,
    KmsAlias,
    KmsKeyArn,
    KubernetesName,
    Prefix,
    ServiceAccountName,
    ServiceAccountRef,
    SubnetId,
    TableName,
    Tags,
    between,
    empty_is_unset,
    pattern,
    unique,
)


def _created_only(
    data: Any,
    handler: ModelWrapValidatorHandler[SectionT],
    model: type[SectionT],
    *,
    key: str,
    existing: str,
    settings: tuple[str, ...],
    what: str,
) -> SectionT:
    """Validate a section whose `existing` field names a resource the stack does not create:
    the settings of `what` the stack creates would be silently ignored beside it, hence refused,
    one line per setting naming that field. Checked on the input as given, so the line is there
    even when the existing value itself is malformed, and it replaces a given setting's own
    format error (the fix is to remove the setting, not to correct it)."""
    given = data if isinstance(data, Mapping) else {}
    named = given.get(to_camel(existing)) not in (None, "")
    present = [to_camel(name) for name in settings if named and to_camel(name) in given]
    try:
        section = handler(data)
        errors: list[ErrorDetails] = []
    except ValidationError as error:
        if not present:
            raise
        errors = error.errors()
    if not present:
        return section
    existing_key = f"poolside:{key}.{to_camel(existing)}"
    problems: list[Problem] = [
        (alias, f"only applies to {what} this stack creates; remove it or {existing_key}")
        for alias in present
    ]
    details = [
        InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
        for e in errors
        if not (e["loc"] and e["loc"][0] in present)
    ]
    details.append(
        InitErrorDetails(
            type="value_error", loc=(), input=data, ctx={"error": CrossFieldError(problems)}
        )
    )
    raise ValidationError.from_exception_data(model.__name__, details)


class KmsConfig(Section):
    existing_key_arn: KmsKeyArn | None = Field(
        None,
        description=(
            "ARN of an existing customer managed key (in the stack's region; a key ARN, not an "
            "alias) to use instead of creating one: every grant, the created buckets' SSE-KMS, "
            "the repositories, the cluster's secrets and the bastion's volume use it. Its key "
            "policy must admit the deployment (the offline preview prints the statements; "
            "docs/existing-resources.md). Default: none (a key is created)."
        ),
    )
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

    @model_validator(mode="wrap")
    @classmethod
    def _settings_fit_the_key(
        cls, data: Any, handler: ModelWrapValidatorHandler[KmsConfig]
    ) -> KmsConfig:
        return _created_only(
            data,
            handler,
            cls,
            key="kms",
            existing="existing_key_arn",
            settings=("deletion_window_in_days", "alias", "retain_on_delete"),
            what="the key",
        )


class BucketConfig(Section):
    existing_bucket_name: BucketName | None = Field(
        None,
        description=(
            "Name of an existing bucket (in the stack's region) to use instead of creating one: "
            "the roles are granted on it, and none of its settings (encryption, versioning, "
            "bucket policy, lifecycle) is changed. Default: none (a bucket is created)."
        ),
    )
    existing_bucket_kms_key_arn: KmsKeyArn | None = Field(
        None,
        description=(
            "The KMS key the existing bucket's objects are encrypted with (the grants' "
            "`kms:Decrypt` and `kms:GenerateDataKey*` name it). Default: `kms.existingKeyArn` "
            "when set, else none (SSE-S3)."
        ),
    )
    name: BucketName | None = Field(
        None,
        description="Explicit bucket name. Default: `<deploymentPrefix>-<accountId>`.",
    )
    noncurrent_version_expiration_days: Annotated[int, between(1, 3650, "days")] = Field(
        90,
        description=(
            "Days after which noncurrent object versions are deleted (1-3650), in the buckets "
            "this stack creates (the data bucket and the models bucket)."
        ),
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the bucket and its settings in AWS when the stack is destroyed.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _settings_fit_the_bucket(
        cls, data: Any, handler: ModelWrapValidatorHandler[BucketConfig]
    ) -> BucketConfig:
        return _created_only(
            data,
            handler,
            cls,
            key="bucket",
            existing="existing_bucket_name",
            settings=("name", "retain_on_delete"),
            what="the bucket",
        )

    @model_validator(mode="after")
    def _bucket_key_needs_the_bucket(self) -> BucketConfig:
        if self.existing_bucket_kms_key_arn is not None and self.existing_bucket_name is None:
            raise CrossFieldError(
                [
                    (
                        "existingBucketKmsKeyArn",
                        "only applies with poolside:bucket.existingBucketName (the created "
                        "bucket uses the deployment's key)",
                    )
                ]
            )
        return self


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
        default_factory=defaults(KmsConfig),
        description="The deployment's KMS key: created, or an existing one.",
    )
    bucket: BucketConfig = Field(
        default_factory=defaults(BucketConfig),
        description="The Poolside S3 bucket: created, or an existing one.",
    )
    ecr: EcrConfig = Field(default_factory=defaults(EcrConfig), description="The ECR repositories.")
    cluster: ClusterConfig = Field(description="The EKS cluster: created, or an existing one.")
    addons: AddonsConfig = Field(
        default_factory=defaults(AddonsConfig),
        description="The cluster's EKS managed add-ons: which the program manages, and versions.",
    )
    pod_role: PodRoleConfig = Field(
        default_factory=defaults(PodRoleConfig),
        description="The Poolside pod role (IRSA) and its service accounts.",
    )
    load_balancer_controller: LoadBalancerControllerConfig = Field(
        default_factory=defaults(LoadBalancerControllerConfig),
        description="The AWS Load Balancer Controller role (IRSA).",
    )
    inference: InferenceConfig = Field(
        default_factory=defaults(InferenceConfig),
        description="The inference role (IRSA) and the model checkpoints bucket it reads.",
    )
    bedrock: BedrockConfig = Field(
        default_factory=defaults(BedrockConfig),
        description="Amazon Bedrock use by the pods.",
    )
    bastion: BastionConfig = Field(
        default_factory=defaults(BastionConfig),
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
            bucket=self.bucket,
            inference=self.inference,
        )
        if problems:
            raise CrossFieldError(problems)
        return self

    def data_bucket_name(self, account_id: str) -> str:
        """The data bucket: the existing one, else the configured or default name."""
        bucket = self.bucket
        return bucket.existing_bucket_name or bucket.name or self.names.bucket(account_id)

    @property
    def data_bucket_key_arn(self) -> str | None:
        """The key an existing data bucket's objects are encrypted with, as its grants name it:
        `bucket.existingBucketKmsKeyArn`, else `kms.existingKeyArn` (a customer who brings both
        usually encrypts the one with the other), else None (SSE-S3). None for a created
        bucket, which is always encrypted with the deployment's key."""
        if self.bucket.existing_bucket_name is None:
            return None
        return self.bucket.existing_bucket_kms_key_arn or self.kms.existing_key_arn

    @property
    def data_key_arns(self) -> dict[tuple[str, str], str]:
        """The existing keys of the deployment's data, by config key: the deployment's and the
        data bucket's own. Both must be in the stack's partition and region, and are looked up."""
        keys = {
            ("kms", "existingKeyArn"): self.kms.existing_key_arn,
            ("bucket", "existingBucketKmsKeyArn"): self.bucket.existing_bucket_kms_key_arn,
        }
        return {loc: arn for loc, arn in keys.items() if arn is not None}

    @property
    def existing_key_arns(self) -> dict[tuple[str, str], str]:
        """Each existing key the deployment's roles are granted, by its config key: the data
        keys, and the models bucket's (with `inference.enabled`)."""
        models_key = self.inference.existing_bucket_kms_key_arn if self.inference.enabled else None
        models = {("inference", "existingBucketKmsKeyArn"): models_key} if models_key else {}
        return {**self.data_key_arns, **models}

    @property
    def existing_bucket_names(self) -> dict[tuple[str, str], str]:
        """Each existing bucket the deployment's roles are granted, by its config key: the data
        bucket, and the models bucket (with `inference.enabled`)."""
        buckets = {
            ("bucket", "existingBucketName"): self.bucket.existing_bucket_name,
            ("inference", "existingBucketName"): (
                self.inference.existing_bucket_name if self.inference.enabled else None
            ),
        }
        return {loc: name for loc, name in buckets.items() if name is not None}

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
