"""The deployment's customer-managed KMS key and its alias."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import pulumi
import pulumi_aws as aws

from aws_environment import AwsEnvironment
from components.replacement import data, delete_first
from policies.documents import POLICY_VERSION, Statement, statement

# Envelope encryption as S3 (SSE-KMS) and the application use it: Decrypt to read,
# GenerateDataKey to write (S3 asks for a data key per object), GenerateDataKeyWithoutPlaintext for
# clients that store an encrypted data key to decrypt later. kms:Encrypt is never called directly.
# Reading an SSE-KMS object needs only Decrypt.
KEY_DECRYPT_ACTIONS = ("kms:Decrypt",)
KEY_ENCRYPT_DECRYPT_ACTIONS = (
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
)


@dataclass(frozen=True)
class KmsKeyArgs:
    env: AwsEnvironment
    alias: str
    deletion_window_in_days: int
    description: str
    tags: dict[str, str]
    retain_on_delete: bool = True


def account_statement(env: AwsEnvironment) -> Statement:
    """The account root administers the key, so IAM policies grant its use (AWS's default key
    policy statement).

    Without it only the key policy itself could grant access; with it, each role's IAM policy
    (the pod role's KMS Access Policy, say) decides who may use the key.
    """
    return {
        "Sid": "EnableIamPoliciesForThisAccount",
        "Effect": "Allow",
        "Principal": {"AWS": env.account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }


def key_policy(env: AwsEnvironment) -> str:
    """The created key's policy: the account statement alone."""
    return json.dumps(
        {"Version": POLICY_VERSION, "Statement": [account_statement(env)]},
        separators=(",", ":"),
    )


# What an AWS service does with the key for the principal that creates an encrypted resource
# (ECR a repository, EKS a cluster's secrets, DynamoDB a table, EC2 an instance's volume): a
# grant for itself, data keys, and the key's description. The action set of AWS's own service
# keys' policies (`aws/ebs`, `aws/dynamodb`: "Allow access through <service> for all principals
# in the account that are authorized to use <service>").
SERVICE_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:DescribeKey",
)
# The resources whose service uses the key when they are created, by type token, and the
# service's `kms:ViaService` prefix. The S3 bucket's encryption settings and the SSM parameters
# that name the key call no KMS API (S3 uses the key for each request's own caller, a role
# below); an IAM policy is a role's grant.
KEY_SERVICES = {
    "aws:ecr/repository:Repository": "ecr",
    "eks:index:Cluster": "eks",
    "aws:dynamodb/table:Table": "dynamodb",
    "aws:ec2/instance:Instance": "ec2",
}
KEY_NAMING_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:ssm/parameter:Parameter",
    "aws:iam/policy:Policy",
)


class RoleGrant(NamedTuple):
    """One statement of a role's IAM policies that names the key."""

    label: str
    """The role, as a statement id may name it (`PodRole`)."""
    role_arn: str
    statement: Statement


def existing_key_statements(
    env: AwsEnvironment, grants: Sequence[RoleGrant], services: Sequence[str]
) -> list[Statement]:
    """What an existing key's policy must allow for this deployment, when it does not already
    let the account's IAM policies grant every use (`account_statement`, the created key's).

    The same delegation as the account statement, narrowed: for each role's IAM statement on
    the key (`grants`), that role only (`aws:PrincipalArn`), those actions and conditions; and
    for the principals that create the deployment's encrypted resources, those `services` only
    (`kms:ViaService`). The principal is the account, so a role still needs its IAM policy: the
    key policy admits what the program's policies grant, nothing more. An IAM Deny holds
    whatever a key policy allows, so none is repeated here.
    """
    statements: list[Statement] = [
        {
            "Sid": f"{grant.label}{grant.statement['Sid']}",
            "Effect": "Allow",
            "Principal": {"AWS": env.account_root_arn},
            "Action": grant.statement["Action"],
            "Resource": "*",
            "Condition": {
                **grant.statement.get("Condition", {}),
                "ArnEquals": {"aws:PrincipalArn": grant.role_arn},
            },
        }
        for grant in sorted(grants, key=lambda g: (g.label, g.statement["Sid"]))
        if grant.statement.get("Effect") == "Allow"
    ]
    if services:
        via = sorted(f"{service}.{env.region}.{env.dns_suffix}" for service in set(services))
        statements.append(
            {
                "Sid": "CreateEncryptedResourcesThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": env.account_root_arn},
                "Action": list(SERVICE_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": via}},
            }
        )
    return statements


class KmsKey(pulumi.ComponentResource):
    """A customer-managed symmetric key with rotation on, and its alias."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:KmsKey", name, None, opts)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_in_days,
            policy=key_policy(args.env),
            tags=args.tags,
            opts=data(self, retain=args.retain_on_delete),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions.merge(
                delete_first(self),
                pulumi.ResourceOptions(retain_on_delete=args.retain_on_delete),
            ),
        )

        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = self.alias.name
        self.register_outputs({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias_name})

    def grant_encrypt_decrypt(self, sid: str = "UseDeploymentKey") -> list[Statement]:
        """Use of this key for envelope encryption, on this key's ARN only."""
        return [statement(sid, KEY_ENCRYPT_DECRYPT_ACTIONS, [self.arn])]


@dataclass(frozen=True)
class KeyFacts:
    """What `kms:DescribeKey` reports of an existing key, as the program checks it."""

    arn: str
    key_state: str
    """`Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, ..."""
    key_usage: str
    key_spec: str
    key_manager: str
    """`CUSTOMER` or `AWS` (an AWS managed key, such as `aws/s3`)."""


def look_up_key(arn: str) -> KeyFacts:
    """DescribeKey (`aws.kms.get_key`); the invoke raises when the key does not exist or the
    caller may not describe it."""
    found = aws.kms.get_key(key_id=arn)
    return KeyFacts(
        arn=found.arn,
        key_state=found.key_state,
        key_usage=found.key_usage,
        key_spec=found.key_spec,
        key_manager=found.key_manager,
    )


@dataclass(frozen=True)
class ExistingKey:
    """A customer's key (`kms.existingKeyArn`), looked up but not managed: grants by ARN.

    Nothing is created for it, so it has no alias of the program's; its key policy is the
    customer's (`existing_key_statements` says what it must allow)."""

    arn: str
    alias_name: None = None

    def grant_encrypt_decrypt(self, sid: str = "UseDeploymentKey") -> list[Statement]:
        """Use of this key for envelope encryption, on this key's ARN only."""
        return [statement(sid, KEY_ENCRYPT_DECRYPT_ACTIONS, [self.arn])]
