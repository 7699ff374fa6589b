"""What `pulumi up` hands to the next step: the commands to reach the cluster and the Helm values.

`__main__.py` exports these; `docs/operations.md` walks from them to a working install. Values are
`pulumi.Output`s where the cloud decides them (ARNs, names), so `pulumi stack output <name> --json`
prints them ready for `helm install -f`.

The nodes' launch template sets the instance metadata hop limit to 1 (`NodeGroups`): no pod can
read the node's region, VPC or role from IMDS. Everything a chart would otherwise discover there
is in its values, and every AWS credential comes from a service account's IRSA role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from aws_environment import AwsEnvironment
from components.service_accounts import ROLE_ARN_ANNOTATION
from deployment import Cluster, Data, models_bucket_name
from stack_config import StackConfig
from workload_roles import ServiceAccountRole, WorkloadRoles


def update_kubeconfig_command(cluster_name: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """The AWS CLI command that writes the cluster's kubeconfig (run it on the bastion: the API
    endpoint is private unless `cluster.endpointPublicAccess` opens it)."""
    return pulumi.Output.from_input(cluster_name).apply(
        lambda name: f"aws eks update-kubeconfig --name {name} --region {region}"
    )


def service_account_values(
    account: str, role_arn: pulumi.Input[str], *, create: bool
) -> dict[str, object]:
    """One service account as charts take it (`create`, `name`, `annotations`), with its
    namespace: `account` is `"<namespace>:<name>"`."""
    namespace, _, name = account.partition(":")
    return {
        "namespace": namespace,
        "name": name,
        "create": create,
        "annotations": {ROLE_ARN_ANNOTATION: role_arn},
    }


def service_account_pattern_values(account: str, role_arn: pulumi.Input[str]) -> dict[str, object]:
    """A `*` pattern of the role's trust: every service account it matches must carry the
    annotation; it names no single account a chart could create."""
    namespace, _, pattern = account.partition(":")
    return {
        "namespace": namespace,
        "namePattern": pattern,
        "annotations": {ROLE_ARN_ANNOTATION: role_arn},
    }


def role_values(role: ServiceAccountRole, *, create: bool) -> dict[str, object]:
    """An IRSA role's ARN and the service accounts its trust names, exact names then patterns."""
    names: Sequence[str] = [a for a in role.service_accounts if "*" not in a]
    patterns: Sequence[str] = [a for a in role.service_accounts if "*" in a]
    values: dict[str, object] = {
        "roleArn": role.role.arn,
        "serviceAccounts": [service_account_values(a, role.role.arn, create=create) for a in names],
    }
    if patterns:
        values["serviceAccountPatterns"] = [
            service_account_pattern_values(a, role.role.arn) for a in patterns
        ]
    return values


def charts_create_service_accounts(config: StackConfig) -> bool:
    """A chart creates its service accounts unless the stack has (`cluster.createServiceAccounts`):
    Helm refuses to take over an object another owner created."""
    return not config.cluster.create_service_accounts


def load_balancer_controller_helm_values(
    config: StackConfig, env: AwsEnvironment, cluster: Cluster, roles: WorkloadRoles
) -> dict[str, object]:
    """The `aws-load-balancer-controller` chart's values this deployment decides.

    The controller cannot discover its region and VPC from IMDS (hop limit 1): they are passed
    explicitly, with the service account its role trusts."""
    controller = roles.load_balancer_controller
    assert controller is not None
    lbc = config.load_balancer_controller
    return {
        "clusterName": cluster.cluster.name,
        "region": env.region,
        "vpcId": cluster.cluster.vpc_id,
        "serviceAccount": {
            "create": charts_create_service_accounts(config),
            "name": lbc.service_account,
            "annotations": {ROLE_ARN_ANNOTATION: controller.role.arn},
        },
    }


def poolside_helm_values(
    config: StackConfig,
    env: AwsEnvironment,
    data: Data,
    roles: WorkloadRoles,
    *,
    parameter_path: str,
) -> dict[str, object]:
    """The deployment's facts the Poolside charts need, in one document.

    Poolside publishes no schema for its charts' values here: the keys name what they hold, in
    the stack outputs' own words, and `docs/operations.md` maps them onto the chart."""
    create = charts_create_service_accounts(config)
    values: dict[str, object] = {
        "region": env.region,
        "parameterPath": parameter_path,
        "bucketName": data.bucket.bucket_name,
        "kmsKeyArn": data.key.arn,
        "ecrRepositoryUrls": data.repositories.urls,
        "podRole": role_values(roles.pod, create=create),
    }
    if data.models is not None and roles.inference is not None:
        [account] = roles.inference.service_accounts
        values["inference"] = {
            "roleArn": roles.inference.role.arn,
            "modelsBucketName": models_bucket_name(data.models),
            "serviceAccount": service_account_values(
                account, roles.inference.role.arn, create=create
            ),
        }
    if roles.customization is not None:
        # The role the core API passes to Bedrock for a customization job (`iam:PassRole`).
        values["bedrock"] = {"customizationRoleArn": roles.customization.arn}
    return values


def service_account_annotations(
    role_arn_by_service_account: Mapping[str, pulumi.Output[str]],
) -> dict[str, pulumi.Output[str]]:
    """`"<namespace>:<name>"` -> the annotation line its ServiceAccount carries."""
    return {
        account: arn.apply(lambda value: f"{ROLE_ARN_ANNOTATION}: {value}")
        for account, arn in role_arn_by_service_account.items()
    }
