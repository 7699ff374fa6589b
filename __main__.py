"""Poolside on AWS: reads the stack config once, builds the layers in dependency order, exports."""

import pulumi

import deployment
import stack_outputs
from aws_environment import AwsEnvironment
from components.eks_cluster import look_up_cluster
from existing_data import existing_data_problems
from iam_quotas import quota_problems
from stack_config import check_against_environment, load_stack_config, reachability_warnings

config = load_stack_config()  # raises before anything is registered when the config is invalid
for warning in reachability_warnings(config.cluster, config.bastion):
    pulumi.log.warn(warning)
env = AwsEnvironment.lookup()
existing = (
    look_up_cluster(config.cluster.existing_cluster_name)
    if config.cluster.existing_cluster_name is not None
    else None
)
check_against_environment(  # the rules that need the account or the existing cluster
    config,
    partition=env.partition,
    region=env.region,
    account_id=env.account_id,
    existing_issuer_url=existing.issuer_url if existing else None,
    existing_authentication_mode=existing.authentication_mode if existing else None,
    more_problems=[
        # documents that grow with config, rendered and measured against IAM's quotas
        *quota_problems(config, env, existing_issuer_url=existing.issuer_url if existing else None),
        *existing_data_problems(config, env),  # the existing key and bucket, looked up
    ],
)

data = deployment.build_data(config, env)
cluster = deployment.build_cluster(config, env, data, existing)
roles = deployment.build_workload_roles(config, env, data, cluster)
deployment.build_nodes(config, cluster, roles)
deployment.build_service_accounts(config, cluster.cluster, roles)
parameters = deployment.build_parameters(config, env, data, cluster, roles)
bastion = deployment.build_bastion(config, env, data, cluster, roles)

pulumi.export("accountId", env.account_id)
pulumi.export("region", env.region)
pulumi.export("partition", env.partition)
pulumi.export("bucketName", data.bucket.bucket_name)
pulumi.export("bucketArn", data.bucket.arn)
pulumi.export("kmsKeyArn", data.key.arn)
if data.key.alias_name is not None:  # an existing key has no alias of the program's
    pulumi.export("kmsKeyAlias", data.key.alias_name)
pulumi.export("ecrRepositoryNames", data.repositories.names)
pulumi.export("ecrRepositoryArns", data.repositories.arns)
pulumi.export("ecrRepositoryUrls", data.repositories.urls)
pulumi.export("clusterName", cluster.cluster.name)
pulumi.export("clusterEndpoint", cluster.cluster.endpoint)
pulumi.export("vpcId", cluster.cluster.vpc_id)
pulumi.export("clusterSecurityGroupId", cluster.cluster.security_group_id)
pulumi.export("kubeconfig", cluster.cluster.kubeconfig)
pulumi.export(
    "kubeconfigCommand", stack_outputs.update_kubeconfig_command(cluster.cluster.name, env.region)
)
pulumi.export("oidcProviderArn", cluster.oidc.arn)
pulumi.export("oidcIssuerUrl", cluster.oidc.issuer_url)
pulumi.export("podRoleArn", roles.pod.role.arn)
if data.models is not None and roles.inference is not None:
    pulumi.export("modelsBucketName", deployment.models_bucket_name(data.models))
    pulumi.export("inferenceRoleArn", roles.inference.role.arn)
if roles.customization is not None:
    pulumi.export("bedrockCustomizationRoleArn", roles.customization.arn)
if roles.load_balancer_controller is not None:
    pulumi.export("loadBalancerControllerRoleArn", roles.load_balancer_controller.role.arn)
    pulumi.export(
        "loadBalancerControllerHelmValues",
        stack_outputs.load_balancer_controller_helm_values(config, env, cluster, roles),
    )
if roles.vpc_cni is not None:
    pulumi.export("vpcCniRoleArn", roles.vpc_cni.role.arn)
if roles.ebs_csi is not None:
    pulumi.export("ebsCsiDriverRoleArn", roles.ebs_csi.role.arn)
pulumi.export(
    "serviceAccountAnnotations",
    stack_outputs.service_account_annotations(roles.role_arn_by_service_account),
)
pulumi.export("parameterPath", parameters.path)
pulumi.export(
    "poolsideHelmValues",
    stack_outputs.poolside_helm_values(config, env, data, roles, parameter_path=parameters.path),
)
if bastion is not None:
    pulumi.export("bastionRoleArn", bastion.role_arn)
    pulumi.export("bastionInstanceProfileName", bastion.instance_profile_name)
    pulumi.export("bastionInstanceProfileArn", bastion.instance_profile_arn)
    pulumi.export("bastionInstanceId", bastion.instance_id)
    pulumi.export("bastionStartSessionCommand", bastion.start_session_command)
    pulumi.export("bastionSecurityGroupId", bastion.security_group_id)
    pulumi.export("lockTableName", bastion.lock_table_name)
