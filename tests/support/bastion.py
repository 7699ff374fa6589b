"""The bastion alone, under the mock engine: the key, bucket and repositories it is scoped to,
then the `Bastion` (and, on request, the deployment's parameters), as its tests build it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pulumi

from components.bastion import Bastion, BastionArgs
from components.deployment_parameters import DeploymentParameters, DeploymentParametersArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from naming import Names
from offline_preview.engine import RecordedResource, Recording
from tests.support.harness import (
    ACCOUNT_ID,
    REGIONS,
    TAGS,
    StackRun,
    build_key_and_bucket,
    environment,
    record_stack,
)
from tests.support.policies import policy

PREFIX = "poolside-acme"
SUBNET = "subnet-0000000000000000a"
CLUSTER_SECURITY_GROUP = "sg-0c1u5t3r0000000aa"
VPC = "vpc-0123456789abcdef0"
# The spec's six bastion policies (the default one in two parts) and the Session Manager one.
PURPOSES = (
    "ecr-access",
    "cognito-management",
    "ssm-parameters",
    "acm-read",
    "terraform-state",
    "default",
    "default-iam-read",
    "session-manager",
)

# The bastion's AMI by default: AWS's public parameter of the latest Amazon Linux 2023 (x86_64).
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
TABLE = "aws:dynamodb/table:Table"
PARAMETER = "aws:ssm/parameter:Parameter"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


def build(
    partition: str,
    *,
    prefix: str = PREFIX,
    deployment_name: str = "acme",
    cluster_name: pulumi.Input[str] = PREFIX,
    bucket_name: str | None = None,
    parameters: dict[str, str] | None = None,
    **bastion: Any,
) -> None:
    """The key, bucket and repositories the bastion is scoped to, then the bastion itself."""
    env = environment(partition)
    tags = {**TAGS, "poolside:deployment": deployment_name}
    key, bucket = build_key_and_bucket(
        env, prefix=prefix, bucket_name=bucket_name or f"{prefix}-{ACCOUNT_ID}", tags=tags
    )
    repositories = EcrRepositories(
        "ecr",
        EcrRepositoriesArgs(
            env=env,
            namespace=f"poolside-{deployment_name}",
            repositories=["api"],
            kms_key_arn=key.arn,
            image_tag_mutability="IMMUTABLE",
            scan_on_push=True,
            untagged_image_expiration_days=14,
            tags=tags,
        ),
    )
    args = BastionArgs(
        env=env,
        names=Names(prefix, deployment_name),
        key=key,
        bucket=bucket,
        repositories=repositories,
        cluster_name=cluster_name,
        cluster_security_group_id=CLUSTER_SECURITY_GROUP,
        subnet_id=SUBNET,
        vpc_id=VPC,
        iam_role_arns=other_iam(partition, prefix)["roles"],
        iam_policy_arns=other_iam(partition, prefix)["policies"],
        oidc_provider_arn=other_iam(partition, prefix)["oidc"][0],
        tags=tags,
    )
    host = Bastion("bastion", replace(args, **bastion))
    pulumi.export("roleArn", host.role_arn)
    pulumi.export("instanceProfileName", host.instance_profile_name)
    pulumi.export("instanceProfileArn", host.instance_profile_arn)
    pulumi.export("instanceId", host.instance_id)
    pulumi.export("startSessionCommand", host.start_session_command)
    pulumi.export("lockTableName", host.lock_table_name)
    pulumi.export("lockTableArn", host.lock_table_arn)
    pulumi.export("securityGroupId", host.security_group_id)
    pulumi.export("keyArn", key.arn)
    if parameters is not None:
        published = DeploymentParameters(
            "parameters",
            DeploymentParametersArgs(deployment_name=deployment_name, values=parameters, tags=tags),
        )
        pulumi.export("parameterPath", published.path)
        pulumi.export("parameterArns", published.arns)


def record(partition: str = "aws", **kwargs: Any) -> StackRun:
    """The run of `build` (once per session for the same arguments), with its invokes."""
    return record_stack(
        partition=partition,
        program=lambda: build(partition, **kwargs),
        key=f"bastion {json.dumps(kwargs, sort_keys=True)}",
    )


def run(partition: str = "aws", **kwargs: Any) -> Recording:
    """The recording of `build` (once per session for the same arguments)."""
    return record(partition, **kwargs).recording


def documents(recording: Recording) -> dict[str, dict[str, Any]]:
    """Every bastion policy document by its name."""
    return {p.inputs["name"]: policy(p) for p in recording.by_type(POLICY)}


def children_of(recording: Recording, component: RecordedResource) -> list[RecordedResource]:
    return [r for r in recording.resources if r.parent == component.urn]


def other_iam(partition: str, prefix: str = PREFIX) -> dict[str, list[str]]:
    """What the program passes the bastion of its other IAM (test values, not the defaults)."""
    iam = f"arn:{partition}:iam::{ACCOUNT_ID}"
    return {
        "roles": [f"{iam}:role/{prefix}-eks-pod-role", f"{iam}:role/{prefix}-eks-node-role"],
        "policies": [f"{iam}:policy/{prefix}-pod-s3-access"],
        "oidc": [f"{iam}:oidc-provider/oidc.eks.{REGIONS[partition]}.example/id/ABC123"],
    }
