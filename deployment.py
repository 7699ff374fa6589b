"""How the components of one Poolside deployment are wired together, layer by layer.

`__main__.py` calls these in dependency order and exports the outputs; each function takes the
parsed config and what earlier layers built, and builds one layer. No policy text lives here:
which policies a role gets is decided here, what they grant is in `policies/`. The roles layer
is `workload_roles.py` (its `build_workload_roles` is re-exported here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from aws_environment import AwsEnvironment
from components.bastion import Bastion, BastionArgs
from components.bucket import Bucket, BucketArgs, ExistingBucket
from components.cluster_addons import (
    SELF_MANAGED_BY_EKS,
    AddonSpec,
    ClusterAddons,
    ClusterAddonsArgs,
)
from components.deployment_parameters import DeploymentParameters, DeploymentParametersArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from components.eks_cluster import (
    EksCluster,
    EksClusterArgs,
    ExistingCluster,
)
from components.iam_role import IamRole
from components.kms_key import ExistingKey, KmsKey, KmsKeyArgs
from components.node_groups import NodeGroups, NodeGroupsArgs, NodeGroupSpec, Taint
from components.oidc_provider import OidcProvider, OidcProviderArgs
from components.service_accounts import ServiceAccounts, ServiceAccountsArgs
from naming import Role
from stack_config import ClusterConfig, StackConfig
from workload_roles import WorkloadRoles, enabled_addons, managed_addons
from workload_roles import build_workload_roles as build_workload_roles

# Kubernetes' own namespaces always exist; any other Poolside namespace is created with its
# service accounts.
KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public")


@dataclass(frozen=True)
class Data:
    key: KmsKey | ExistingKey
    """The deployment's key: created, or the customer's (`kms.existingKeyArn`)."""
    bucket: Bucket | ExistingBucket
    """The data bucket: created, or the customer's (`bucket.existingBucketName`)."""
    repositories: EcrRepositories
    models: Bucket | ExistingBucket | None = None
    """The model checkpoints bucket the inference role reads (`inference.enabled`)."""


@dataclass(frozen=True)
class Cluster:
    cluster: EksCluster
    oidc: OidcProvider


def build_data(config: StackConfig, env: AwsEnvironment) -> Data:
    """The KMS key, and the bucket and repositories it encrypts; an existing key or bucket named
    in config is granted on, and nothing of its kind is created."""
    tags, names = config.resource_tags, config.names
    key = build_key(config, env)
    bucket: Bucket | ExistingBucket
    if config.bucket.existing_bucket_name is not None:
        bucket = ExistingBucket(
            env.partition, config.bucket.existing_bucket_name, config.data_bucket_key_arn
        )
    else:
        bucket = Bucket(
            "data",
            BucketArgs(
                bucket_name=config.data_bucket_name(env.account_id),
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


def build_key(config: StackConfig, env: AwsEnvironment) -> KmsKey | ExistingKey:
    """The deployment's key: the customer's, when named, else a created one."""
    if config.kms.existing_key_arn is not None:
        return ExistingKey(config.kms.existing_key_arn)
    return KmsKey(
        "kms",
        KmsKeyArgs(
            env=env,
            alias=config.kms.alias or config.names.kms_alias,
            deletion_window_in_days=config.kms.deletion_window_in_days,
            description=f"Poolside deployment {config.deployment_name}: data, images and secrets",
            tags=config.resource_tags,
            retain_on_delete=config.kms.retain_on_delete,
        ),
    )


def build_models_bucket(
    config: StackConfig, env: AwsEnvironment, key: KmsKey | ExistingKey
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
    return models.bucket_name


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
            bootstrap_self_managed_addons=eks_installs_its_own_addons(config),
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


def eks_installs_its_own_addons(config: StackConfig) -> bool:
    """Whether a created cluster lets EKS install its self-managed `vpc-cni`, `kube-proxy` and
    `coredns`: only when the config leaves one of them out of the program's add-ons, so that the
    cluster still gets a pod network, Service routing and DNS. Otherwise the program's add-ons
    are the only copies, and nothing runs that the plan does not show."""
    return not set(SELF_MANAGED_BY_EKS) <= set(enabled_addons(config))


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
