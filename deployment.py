"""How the components of one Poolside deployment are wired together, layer by layer.

`__main__.py` calls these in dependency order and exports the outputs; each function takes the
parsed config and what earlier layers built, and builds one layer. No policy text lives here:
which policies a role gets is decided here, what they grant is in `policies/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from aws_environment import AwsEnvironment
from components.bastion import Bastion, BastionArgs
from components.bucket import Bucket, BucketArgs, ExistingBucket
from components.cluster_addons import (
    COREDNS,
    EBS_CSI_DRIVER,
    EBS_CSI_POLICY,
    EBS_CSI_POLICY_PATH,
    EBS_CSI_SERVICE_ACCOUNT,
    KUBE_PROXY,
    METRICS_SERVER,
    SNAPSHOT_CONTROLLER,
    VPC_CNI,
    AddonSpec,
    ClusterAddons,
    ClusterAddonsArgs,
)
from components.deployment_parameters import DeploymentParameters, DeploymentParametersArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from components.eks_cluster import (
    VPC_CNI_POLICY,
    VPC_CNI_SERVICE_ACCOUNT,
    EksCluster,
    EksClusterArgs,
    ExistingCluster,
)
from components.iam_role import IamRole, IamRoleArgs
from components.kms_key import KmsKey, KmsKeyArgs
from components.node_groups import NodeGroups, NodeGroupsArgs, NodeGroupSpec, Taint
from components.oidc_provider import OidcProvider, OidcProviderArgs
from components.service_accounts import ServiceAccounts, ServiceAccountsArgs
from naming import Policy, Role
from policies import eks_pod_role
from policies.aws_load_balancer_controller import load_balancer_controller_policy
from policies.bedrock_customization_role import bedrock_customization_service_policy
from policies.documents import Document
from policies.ebs_csi_driver import ebs_csi_kms_policy
from policies.inference_role import inference_models_read_policy
from policies.trust import bedrock_customization_trust, irsa_trust
from stack_config import ClusterConfig, StackConfig

# Kubernetes' own namespaces always exist; any other Poolside namespace is created with its
# service accounts.
KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public")

# The IRSA roles were `IrsaRole` components before every role became an `IamRole` with an IRSA
# trust: this alias keeps them (and, through them, their children) on `pulumi up`.
FORMERLY_IRSA_ROLE = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="poolside:aws:IrsaRole")])


@dataclass(frozen=True)
class Data:
    key: KmsKey
    bucket: Bucket
    repositories: EcrRepositories
    models: Bucket | ExistingBucket | None = None
    """The model checkpoints bucket the inference role reads (`inference.enabled`)."""


@dataclass(frozen=True)
class Cluster:
    cluster: EksCluster
    oidc: OidcProvider


@dataclass(frozen=True)
class ServiceAccountRole:
    """An IRSA role and the service accounts (`"<namespace>:<name>"`) its trust names."""

    role: IamRole
    service_accounts: tuple[str, ...]


@dataclass(frozen=True)
class WorkloadRoles:
    pod: ServiceAccountRole
    customization: IamRole | None
    load_balancer_controller: ServiceAccountRole | None
    vpc_cni: ServiceAccountRole | None
    """The VPC CNI's role, when the program manages the `vpc-cni` add-on."""
    ebs_csi: ServiceAccountRole | None = None
    """The EBS CSI controller's role, when the program manages the `aws-ebs-csi-driver` add-on."""
    inference: ServiceAccountRole | None = None
    """The inference pods' role on the models bucket (`inference.enabled`)."""

    @property
    def annotated(self) -> list[ServiceAccountRole]:
        """The roles of the Poolside, inference and controller service accounts (the add-ons'
        roles are annotated by EKS itself)."""
        return [r for r in (self.pod, self.inference, self.load_balancer_controller) if r]

    @property
    def addon_roles(self) -> dict[str, ServiceAccountRole]:
        """The managed add-ons' IRSA roles by EKS add-on name."""
        roles = {VPC_CNI: self.vpc_cni, EBS_CSI_DRIVER: self.ebs_csi}
        return {name: role for name, role in roles.items() if role is not None}

    @property
    def all_roles(self) -> list[IamRole]:
        irsa = [
            r.role
            for r in (self.pod, self.load_balancer_controller, self.vpc_cni, self.ebs_csi)
            if r
        ]
        customization = [self.customization] if self.customization else []
        inference = [self.inference.role] if self.inference else []
        return [*irsa[:1], *customization, *irsa[1:], *inference]

    @property
    def role_arn_by_service_account(self) -> dict[str, pulumi.Output[str]]:
        """`"<namespace>:<name>"` -> the ARN of the IRSA role that service account assumes."""
        return {
            account: irsa.role.arn for irsa in self.annotated for account in irsa.service_accounts
        }


def build_data(config: StackConfig, env: AwsEnvironment) -> Data:
    """The KMS key, and the bucket and repositories it encrypts."""
    tags, names = config.resource_tags, config.names
    key = KmsKey(
        "kms",
        KmsKeyArgs(
            env=env,
            alias=config.kms.alias or names.kms_alias,
            deletion_window_in_days=config.kms.deletion_window_in_days,
            description=f"Poolside deployment {config.deployment_name}: data, images and secrets",
            tags=tags,
            retain_on_delete=config.kms.retain_on_delete,
        ),
    )
    bucket = Bucket(
        "data",
        BucketArgs(
            bucket_name=config.bucket.name or names.bucket(env.account_id),
            kms_key_arn=key.arn,
            noncurrent_version_expiration_days=config.bucket.noncurrent_version_expiration_days,
            tags=tags,
            retain_on_delete=config.bucket.retain_on_delete,
        ),
    )
    repositories = EcrRepositories(
        "ecr",
        EcrRepositoriesArgs(
            env=env,
            namespace=names.ecr_namespace,
            repositories=list(config.ecr.repositories),
            kms_key_arn=key.arn,
            image_tag_mutability=config.ecr.image_tag_mutability,
            scan_on_push=config.ecr.scan_on_push,
            untagged_image_expiration_days=config.ecr.untagged_image_expiration_days,
            tags=tags,
            retain_on_delete=config.ecr.retain_on_delete,
        ),
    )
    return Data(
        key=key,
        bucket=bucket,
        repositories=repositories,
        models=build_models_bucket(config, env, key),
    )


def build_models_bucket(
    config: StackConfig, env: AwsEnvironment, key: KmsKey
) -> Bucket | ExistingBucket | None:
    """The model checkpoints bucket: the customer's, when named, else the deployment's own
    (the data bucket's settings: SSE-KMS with the deployment key, versioning, no public access,
    TLS only, owner-enforced, retained and protected)."""
    inference = config.inference
    if not inference.enabled:
        return None
    if inference.existing_bucket_name is not None:
        return ExistingBucket(
            env.partition, inference.existing_bucket_name, inference.existing_bucket_kms_key_arn
        )
    return Bucket(
        "models",
        BucketArgs(
            bucket_name=config.names.models_bucket(env.account_id),
            kms_key_arn=key.arn,
            noncurrent_version_expiration_days=config.bucket.noncurrent_version_expiration_days,
            tags=config.resource_tags,
            retain_on_delete=inference.retain_on_delete,
        ),
    )


def models_bucket_name(models: Bucket | ExistingBucket) -> pulumi.Input[str]:
    return models.bucket_name if isinstance(models, Bucket) else models.name


def build_cluster(
    config: StackConfig, env: AwsEnvironment, data: Data, existing: ExistingCluster | None
) -> Cluster:
    """The EKS cluster (created or existing) and its IAM OIDC provider (created or reused)."""
    tags, names, settings = config.resource_tags, config.names, config.cluster
    cluster = EksCluster(
        "cluster",
        EksClusterArgs(
            env=env,
            cluster_name=settings.existing_cluster_name or names.cluster,
            kms_key_arn=data.key.arn,
            cluster_role_name=names.role(Role.CLUSTER),
            node_role_name=names.role(Role.NODE),
            policy_name_prefix=names.prefix,
            existing=existing,
            kubernetes_version=settings.kubernetes_version,
            vpc_id=settings.vpc_id,
            private_subnet_ids=settings.private_subnet_ids,
            public_subnet_ids=settings.public_subnet_ids,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=settings.public_access_cidrs,
            authentication_mode=settings.authentication_mode,
            enabled_log_types=settings.enabled_log_types,
            tags=tags,
        ),
    )
    oidc = OidcProvider(
        "oidc",
        OidcProviderArgs(
            issuer_url=cluster.oidc_issuer_url,
            existing_provider_arn=settings.existing_oidc_provider_arn,
            tags=tags,
        ),
    )
    return Cluster(cluster=cluster, oidc=oidc)


def irsa_role(
    name: str,
    config: StackConfig,
    oidc: OidcProvider,
    *,
    service_accounts: list[str],
    role: Role,
    description: str,
    policies: dict[str, Document] | None = None,
    managed_policy_arns: list[str] | None = None,
) -> ServiceAccountRole:
    """A role that the given service accounts of this cluster assume (IRSA)."""
    iam_role = IamRole(
        name,
        IamRoleArgs(
            role_name=config.names.role(role),
            trust_policy=irsa_trust(oidc.arn, oidc.issuer, service_accounts),
            description=description,
            policy_name_prefix=config.prefix,
            policies=policies or {},
            managed_policy_arns=managed_policy_arns or [],
            tags=config.resource_tags,
        ),
        opts=FORMERLY_IRSA_ROLE,
    )
    return ServiceAccountRole(iam_role, tuple(service_accounts))


def pod_policies(
    config: StackConfig, env: AwsEnvironment, data: Data, customization: IamRole | None
) -> dict[str, Document]:
    """The spec's EKS Pod Role policies, by purpose (Bedrock's only with `bedrock.enabled`)."""
    policies = {Policy.POD_S3_ACCESS.value: eks_pod_role.s3_access_policy(data.bucket)}
    if eks_pod_role.marketplace_offered(env.partition):
        policies[Policy.POD_MARKETPLACE_METERING] = eks_pod_role.aws_marketplace_metering_policy()
    policies[Policy.POD_KMS_ACCESS] = eks_pod_role.kms_access_policy(data.key)
    if customization is None:
        return policies
    bedrock = config.bedrock
    policies[Policy.POD_BEDROCK_READ_ONLY] = eks_pod_role.bedrock_read_only_policy(env)
    policies[Policy.POD_BEDROCK_MODEL_INVOCATION] = eks_pod_role.bedrock_model_invocation_policy(
        env,
        models=bedrock.models,
        inference_profiles=[p.id for p in bedrock.inference_profiles],
    )
    policies[Policy.POD_BEDROCK_CUSTOMIZATION_JOB] = eks_pod_role.bedrock_customization_job_policy(
        env, customization.arn, base_models=bedrock.customization_base_models
    )
    return policies


def build_workload_roles(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster
) -> WorkloadRoles:
    """The spec's EKS Pod Role, the role it passes to Bedrock, the controller's role, and the
    roles of the managed `vpc-cni` and `aws-ebs-csi-driver` add-ons."""
    oidc = cluster.oidc
    # What bedrock.amazonaws.com may do for a job the pod starts. It exists before the pod role
    # because the pod's PassRole names it.
    customization = None
    if config.bedrock.enabled:
        customization = IamRole(
            "bedrock-customization",
            IamRoleArgs(
                role_name=config.names.role(Role.BEDROCK_CUSTOMIZATION),
                trust_policy=bedrock_customization_trust(env),
                description="Assumed by Amazon Bedrock for this deployment's customization jobs",
                policy_name_prefix=config.prefix,
                policies={
                    Policy.BEDROCK_CUSTOMIZATION_DATA_ACCESS: bedrock_customization_service_policy(
                        data.bucket
                    )
                },
                tags=config.resource_tags,
            ),
        )
    pod = irsa_role(
        "pod",
        config,
        oidc,
        service_accounts=config.pod_role.subjects,
        role=Role.POD,
        description="Poolside application pods (IRSA)",
        policies=pod_policies(config, env, data, customization),
    )
    controller = None
    lbc = config.load_balancer_controller
    if lbc.enabled:
        controller = irsa_role(
            "aws-load-balancer-controller",
            config,
            oidc,
            service_accounts=[f"{lbc.namespace}:{lbc.service_account}"],
            role=Role.LOAD_BALANCER_CONTROLLER,
            description="AWS Load Balancer Controller (IRSA)",
            policies={
                Policy.LOAD_BALANCER_CONTROLLER: load_balancer_controller_policy(env.partition)
            },
        )
    vpc_cni, ebs_csi = addon_roles(config, env, data, cluster)
    return WorkloadRoles(
        pod=pod,
        customization=customization,
        load_balancer_controller=controller,
        vpc_cni=vpc_cni,
        ebs_csi=ebs_csi,
        inference=inference_role(config, data, oidc),
    )


def inference_role(
    config: StackConfig, data: Data, oidc: OidcProvider
) -> ServiceAccountRole | None:
    """The inference pods' role: read the model checkpoints, nothing else."""
    if data.models is None:
        return None
    inference = config.inference
    return irsa_role(
        "inference",
        config,
        oidc,
        service_accounts=[f"{inference.namespace}:{inference.service_account}"],
        role=Role.INFERENCE,
        description="Poolside inference pods: read the model checkpoints (IRSA)",
        policies={Policy.INFERENCE_MODELS_READ: inference_models_read_policy(data.models)},
    )


def managed_addons(config: StackConfig, cluster: EksCluster) -> dict[str, str | None]:
    """EKS add-on name -> pinned version (None: resolved), for each add-on the program manages:
    the enabled ones of a created cluster; of an existing one, only with
    `addons.manageOnExistingCluster`."""
    addons = config.addons
    if not cluster.created and not addons.manage_on_existing_cluster:
        return {}
    settings = {
        VPC_CNI: addons.vpc_cni,
        KUBE_PROXY: addons.kube_proxy,
        COREDNS: addons.coredns,
        EBS_CSI_DRIVER: addons.ebs_csi_driver,
        METRICS_SERVER: addons.metrics_server,
        SNAPSHOT_CONTROLLER: addons.snapshot_controller,
    }
    return {name: s.version for name, s in settings.items() if s.enabled}


def addon_roles(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster
) -> tuple[ServiceAccountRole | None, ServiceAccountRole | None]:
    """The IRSA roles of the `vpc-cni` and `aws-ebs-csi-driver` add-ons, for those managed."""
    managed = managed_addons(config, cluster.cluster)
    vpc_cni = ebs_csi = None
    if VPC_CNI in managed:
        vpc_cni = irsa_role(
            "vpc-cni",
            config,
            cluster.oidc,
            service_accounts=[VPC_CNI_SERVICE_ACCOUNT],
            role=Role.VPC_CNI,
            description="Amazon VPC CNI (aws-node) of the Poolside cluster (IRSA)",
            managed_policy_arns=[env.aws_managed_policy_arn(VPC_CNI_POLICY)],
        )
    if EBS_CSI_DRIVER in managed:
        ebs_csi = irsa_role(
            "ebs-csi",
            config,
            cluster.oidc,
            service_accounts=[EBS_CSI_SERVICE_ACCOUNT],
            role=Role.EBS_CSI,
            description="Amazon EBS CSI driver controller of the Poolside cluster (IRSA)",
            policies={Policy.EBS_CSI_KMS: ebs_csi_kms_policy(data.key.arn)},
            managed_policy_arns=[
                env.aws_managed_policy_arn(EBS_CSI_POLICY, path=EBS_CSI_POLICY_PATH)
            ],
        )
    return vpc_cni, ebs_csi


def node_group_specs(config: StackConfig) -> list[NodeGroupSpec]:
    """The config's node groups as the plain values `NodeGroups` takes."""
    settings: ClusterConfig = config.cluster
    return [
        NodeGroupSpec(
            name=group.name,
            node_group_name=config.names.node_group(group.name),
            instance_types=list(group.instance_types),
            min_size=group.min_size,
            desired_size=group.desired_size,
            max_size=group.max_size,
            disk_size_gib=group.disk_size_gib,
            gpu=group.gpu,
            labels=dict(group.labels),
            taints=[Taint(t.key, t.value, t.effect) for t in group.taints],
        )
        for group in settings.node_groups
    ]


def addon_specs(config: StackConfig, cluster: EksCluster, roles: WorkloadRoles) -> list[AddonSpec]:
    """The managed add-ons as the plain values the components take, with their IRSA roles."""
    specs = []
    for name, version in managed_addons(config, cluster).items():
        role = roles.addon_roles.get(name)
        specs.append(
            AddonSpec(
                name=name,
                version=version,
                service_account_role_arn=role.role.arn if role else None,
                role_component=role.role if role else None,
            )
        )
    return specs


def build_nodes(
    config: StackConfig, cluster: Cluster, roles: WorkloadRoles
) -> NodeGroups | ClusterAddons | None:
    """A created cluster's add-ons and node groups, in order (the CNI and kube-proxy, the nodes,
    then the rest); an existing cluster's add-ons only with `addons.manageOnExistingCluster`
    (its nodes are its owner's)."""
    eks_cluster = cluster.cluster
    addons = addon_specs(config, eks_cluster, roles)
    if eks_cluster.cluster is None:
        if not addons:
            return None
        return ClusterAddons(
            "cluster",
            ClusterAddonsArgs(
                cluster_name=eks_cluster.name,
                kubernetes_version=eks_cluster.kubernetes_version,
                addons=addons,
                tags=config.resource_tags,
            ),
        )
    return NodeGroups(
        "cluster",
        NodeGroupsArgs(
            cluster=eks_cluster.cluster,
            cluster_name=eks_cluster.name,
            node_role=eks_cluster.node_role.role,
            node_role_component=eks_cluster.node_role,
            subnet_ids=config.cluster.private_subnet_ids,
            groups=node_group_specs(config),
            kubernetes_version=eks_cluster.kubernetes_version,
            addons=addons,
            tags=config.resource_tags,
            previous_parent=eks_cluster,
        ),
    )


def load_balancer_controller_helm_values(
    config: StackConfig, env: AwsEnvironment, cluster: Cluster, roles: WorkloadRoles
) -> dict[str, object]:
    """The `aws-load-balancer-controller` chart's values this deployment decides.

    Node metadata is out of a pod's reach (hop limit 1, see `NodeGroups`), so the controller
    cannot discover its region and VPC from IMDS: they are passed explicitly."""
    controller = roles.load_balancer_controller
    assert controller is not None
    lbc = config.load_balancer_controller
    return {
        "clusterName": cluster.cluster.name,
        "region": env.region,
        "vpcId": cluster.cluster.vpc_id,
        "serviceAccount": {
            "create": not config.cluster.create_service_accounts,
            "name": lbc.service_account,
            "annotations": {"eks.amazonaws.com/role-arn": controller.role.arn},
        },
    }


def build_service_accounts(config: StackConfig, cluster: EksCluster, roles: WorkloadRoles) -> None:
    """The annotated ServiceAccounts, when `cluster.createServiceAccounts` asks for them."""
    if not config.cluster.create_service_accounts:
        return
    accounts = roles.role_arn_by_service_account
    namespaces = sorted({account.partition(":")[0] for account in accounts})
    ServiceAccounts(
        "service-accounts",
        ServiceAccountsArgs(
            kubeconfig=cluster.kubeconfig,
            roles=accounts,
            create_namespaces=[ns for ns in namespaces if ns not in KUBERNETES_NAMESPACES],
        ),
    )


def build_parameters(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster, roles: WorkloadRoles
) -> DeploymentParameters:
    """The deployment's facts under /poolside/deployment/<deploymentName>/ in Parameter Store,
    for the bastion's tooling and the Helm values, so nobody copies ARNs by hand."""
    values: dict[str, pulumi.Input[str]] = {
        "region": env.region,
        "vpc-id": cluster.cluster.vpc_id,
        "cluster-name": cluster.cluster.name,
        "oidc-provider-arn": cluster.oidc.arn,
        "pod-role-arn": roles.pod.role.arn,
        "bucket-name": data.bucket.bucket_name,
        "kms-key-arn": data.key.arn,
        "ecr-repository-urls": data.repositories.urls.apply(
            lambda urls: json.dumps(urls, sort_keys=True)
        ),
    }
    if roles.customization is not None:
        values["customization-role-arn"] = roles.customization.arn
    if roles.load_balancer_controller is not None:
        values["load-balancer-controller-role-arn"] = roles.load_balancer_controller.role.arn
    if data.models is not None and roles.inference is not None:
        values["models-bucket-name"] = models_bucket_name(data.models)
        values["inference-role-arn"] = roles.inference.role.arn
    return DeploymentParameters(
        "parameters",
        DeploymentParametersArgs(
            deployment_name=config.deployment_name, values=values, tags=config.resource_tags
        ),
    )


def build_bastion(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster, roles: WorkloadRoles
) -> Bastion | None:
    """The bastion (SSM Session Manager only, cluster admin), unless `bastion.enabled` is off.

    It may read the deployment's IAM (exact ARNs): every role and customer-managed policy the
    program creates, and the cluster's OIDC provider."""
    if not config.bastion.enabled:
        return None
    iam_roles: list[IamRole] = list(roles.all_roles)
    if cluster.cluster.created:
        iam_roles += [cluster.cluster.cluster_role, cluster.cluster.node_role]
    subnet_id = config.bastion_subnet_id
    assert subnet_id is not None  # the config refuses an enabled bastion without one
    return Bastion(
        "bastion",
        BastionArgs(
            env=env,
            names=config.names,
            key=data.key,
            bucket=data.bucket,
            repositories=data.repositories,
            cluster_name=cluster.cluster.name,
            cluster_security_group_id=cluster.cluster.security_group_id,
            subnet_id=subnet_id,
            # None for an existing cluster: the bastion looks the VPC up from its subnet.
            vpc_id=config.cluster.vpc_id,
            instance_type=config.bastion.instance_type,
            ami_id=config.bastion.ami_id,
            install_tools=config.bastion.install_tools,
            root_volume_size_gib=config.bastion.root_volume_size_gib,
            existing_lock_table_name=config.bastion.existing_lock_table_name,
            iam_role_arns=[role.arn for role in iam_roles],
            iam_policy_arns=[arn for role in iam_roles for arn in role.policy_arns.values()],
            oidc_provider_arn=cluster.oidc.arn,
            tags=config.resource_tags,
        ),
    )
