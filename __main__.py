"""Poolside on AWS: reads the stack config once, builds the components in dependency order."""

import json

import pulumi

from aws_environment import AwsEnvironment
from components.bastion import Bastion, BastionArgs
from components.bucket import Bucket, BucketArgs
from components.deployment_parameters import DeploymentParameters, DeploymentParametersArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from components.eks_cluster import EksCluster, EksClusterArgs, look_up_cluster
from components.iam_role import IamRole, IamRoleArgs
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.kms_key import KmsKey, KmsKeyArgs
from components.oidc_provider import OidcProvider, OidcProviderArgs
from components.service_accounts import ServiceAccounts, ServiceAccountsArgs
from policies import eks_pod_role
from policies.aws_load_balancer_controller import load_balancer_controller_policy
from policies.bedrock_customization_role import (
    bedrock_customization_service_policy,
    bedrock_customization_trust_policy,
)
from policies.documents import render
from stack_config import check_against_environment, load_stack_config

config = load_stack_config()  # raises before anything is registered when the config is invalid
env = AwsEnvironment.lookup()
existing_cluster = (
    look_up_cluster(config.cluster.existing_cluster_name)
    if config.cluster.existing_cluster_name is not None
    else None
)
check_against_environment(  # the rules that need the account or the existing cluster
    config,
    partition=env.partition,
    account_id=env.account_id,
    existing_issuer_url=existing_cluster.issuer_url if existing_cluster else None,
    existing_authentication_mode=existing_cluster.authentication_mode if existing_cluster else None,
)
tags = config.resource_tags

key = KmsKey(
    "kms",
    KmsKeyArgs(
        env=env,
        alias=config.kms.alias or f"alias/{config.prefix}",
        deletion_window_in_days=config.kms.deletion_window_in_days,
        description=f"Poolside deployment {config.deployment_name}: data, images and secrets",
        tags=tags,
        retain_on_delete=config.kms.retain_on_delete,
    ),
)

bucket = Bucket(
    "data",
    BucketArgs(
        bucket_name=config.bucket.name or f"{config.prefix}-{env.account_id}",
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
        namespace=config.ecr_namespace,
        repositories=list(config.ecr.repositories),
        kms_key_arn=key.arn,
        image_tag_mutability=config.ecr.image_tag_mutability,
        scan_on_push=config.ecr.scan_on_push,
        untagged_image_expiration_days=config.ecr.untagged_image_expiration_days,
        tags=tags,
        retain_on_delete=config.ecr.retain_on_delete,
    ),
)

cluster = EksCluster(
    "cluster",
    EksClusterArgs(
        env=env,
        cluster_name=config.cluster.existing_cluster_name or config.prefix,
        config=config.cluster,
        kms_key_arn=key.arn,
        role_name_prefix=config.prefix,
        existing=existing_cluster,
        tags=tags,
    ),
)

oidc = OidcProvider(
    "oidc",
    OidcProviderArgs(
        issuer_url=cluster.oidc_issuer_url,
        existing_provider_arn=config.cluster.existing_oidc_provider_arn,
        tags=tags,
    ),
)

# The Bedrock customization service role: what bedrock.amazonaws.com may do for a job the pod
# starts. It exists before the pod role because the pod's PassRole names it.
customization_role = None
if config.bedrock.enabled:
    customization_role = IamRole(
        "bedrock-customization",
        IamRoleArgs(
            role_name=f"{config.prefix}-bedrock-customization-role",
            trust_policy=render(bedrock_customization_trust_policy(env)),
            description="Assumed by Amazon Bedrock for this deployment's customization jobs",
            policy_name_prefix=config.prefix,
            policies={
                "bedrock-customization-data-access": bedrock_customization_service_policy(
                    bucket, key
                )
            },
            tags=tags,
        ),
    )

pod_policies = {
    "pod-s3-access": eks_pod_role.s3_access_policy(bucket),
    "pod-marketplace-metering": eks_pod_role.aws_marketplace_metering_policy(),
    "pod-kms-access": eks_pod_role.kms_access_policy(key),
}
if customization_role is not None:
    pod_policies |= {
        "pod-bedrock-read-only": eks_pod_role.bedrock_read_only_policy(env),
        "pod-bedrock-model-invocation": eks_pod_role.bedrock_model_invocation_policy(
            env, config.bedrock
        ),
        "pod-bedrock-customization-job": eks_pod_role.bedrock_customization_job_policy(
            env, customization_role.arn, config.bedrock
        ),
    }
pod_role = IrsaRole(
    "pod",
    IrsaRoleArgs(
        oidc=oidc,
        service_accounts=[
            f"{config.pod_role.namespace}:{sa}" for sa in config.pod_role.service_accounts
        ],
        role_name=f"{config.prefix}-eks-pod-role",
        description="Poolside application pods (IRSA)",
        policy_name_prefix=config.prefix,
        policies=pod_policies,
        tags=tags,
    ),
)

irsa_roles = [pod_role]
lbc = config.load_balancer_controller
if lbc.enabled:
    irsa_roles.append(
        IrsaRole(
            "aws-load-balancer-controller",
            IrsaRoleArgs(
                oidc=oidc,
                service_accounts=[f"{lbc.namespace}:{lbc.service_account}"],
                role_name=f"{config.prefix}-aws-load-balancer-controller",
                description="AWS Load Balancer Controller (IRSA)",
                policy_name_prefix=config.prefix,
                policies={
                    "aws-load-balancer-controller": load_balancer_controller_policy(env.partition)
                },
                tags=tags,
            ),
        )
    )

annotations = {
    account: role.arn.apply(lambda arn: f"eks.amazonaws.com/role-arn: {arn}")
    for role in irsa_roles
    for account in role.service_accounts
}
if config.cluster.create_service_accounts:
    ServiceAccounts(
        "service-accounts",
        ServiceAccountsArgs(
            kubeconfig=cluster.kubeconfig,
            roles={account: role.arn for role in irsa_roles for account in role.service_accounts},
            # Kubernetes' own namespaces always exist; a fresh Poolside one is created.
            create_namespaces=[config.pod_role.namespace]
            if config.pod_role.namespace not in ("default", "kube-system", "kube-public")
            else [],
        ),
    )

# The deployment's facts in SSM Parameter Store under /poolside/deployment/<deploymentName>/, for
# the bastion's tooling and the Helm values, so nobody copies ARNs by hand.
parameter_values: dict[str, pulumi.Input[str]] = {
    "region": env.region,
    "cluster-name": cluster.name,
    "oidc-provider-arn": oidc.arn,
    "pod-role-arn": pod_role.arn,
    "bucket-name": bucket.bucket_name,
    "kms-key-arn": key.arn,
    "ecr-repository-urls": repositories.urls.apply(lambda urls: json.dumps(urls, sort_keys=True)),
}
if customization_role is not None:
    parameter_values["customization-role-arn"] = customization_role.arn
if lbc.enabled:
    parameter_values["load-balancer-controller-role-arn"] = irsa_roles[1].arn
parameters = DeploymentParameters(
    "parameters",
    DeploymentParametersArgs(
        deployment_name=config.deployment_name, values=parameter_values, tags=tags
    ),
)

# The bastion: reached through SSM Session Manager only, cluster admin through an access entry.
bastion = None
if config.bastion.enabled:
    bastion_subnet_id = config.bastion_subnet_id
    assert bastion_subnet_id is not None  # the config refuses an enabled bastion without one
    bastion = Bastion(
        "bastion",
        BastionArgs(
            env=env,
            prefix=config.prefix,
            deployment_name=config.deployment_name,
            key=key,
            bucket=bucket,
            repositories=repositories,
            cluster_name=cluster.name,
            cluster_security_group_id=cluster.security_group_id,
            subnet_id=bastion_subnet_id,
            # None for an existing cluster: the bastion looks the VPC up from its subnet.
            vpc_id=config.cluster.vpc_id,
            instance_type=config.bastion.instance_type,
            ami_id=config.bastion.ami_id,
            install_tools=config.bastion.install_tools,
            root_volume_size_gib=config.bastion.root_volume_size_gib,
            existing_lock_table_name=config.bastion.existing_lock_table_name,
            bedrock=config.bedrock.enabled,
            tags=tags,
        ),
    )

pulumi.export("accountId", env.account_id)
pulumi.export("region", env.region)
pulumi.export("partition", env.partition)
pulumi.export("bucketName", bucket.bucket_name)
pulumi.export("bucketArn", bucket.arn)
pulumi.export("kmsKeyArn", key.arn)
pulumi.export("kmsKeyAlias", key.alias_name)
pulumi.export("ecrRepositoryNames", repositories.names)
pulumi.export("ecrRepositoryArns", repositories.arns)
pulumi.export("ecrRepositoryUrls", repositories.urls)
pulumi.export("clusterName", cluster.name)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("oidcProviderArn", oidc.arn)
pulumi.export("oidcIssuerUrl", oidc.issuer_url)
pulumi.export("podRoleArn", pod_role.arn)
if customization_role is not None:
    pulumi.export("bedrockCustomizationRoleArn", customization_role.arn)
if lbc.enabled:
    pulumi.export("loadBalancerControllerRoleArn", irsa_roles[1].arn)
pulumi.export("serviceAccountAnnotations", annotations)
pulumi.export("parameterPath", parameters.path)
if bastion is not None:
    pulumi.export("bastionRoleArn", bastion.role_arn)
    pulumi.export("bastionInstanceProfileName", bastion.instance_profile_name)
    pulumi.export("bastionInstanceProfileArn", bastion.instance_profile_arn)
    pulumi.export("bastionInstanceId", bastion.instance_id)
    pulumi.export("bastionStartSessionCommand", bastion.start_session_command)
    pulumi.export("bastionSecurityGroupId", bastion.security_group_id)
    pulumi.export("lockTableName", bastion.lock_table_name)
    pulumi.export("permissionsBoundaryArn", bastion.permissions_boundary_arn)
