"""The deployment's customer-managed KMS key and its alias."""

from __future__ import annotations

import json
from dataclasses import dataclass

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


def key_policy(env: AwsEnvironment) -> str:
    """The default key policy: the account root administers the key, so IAM policies grant use.

    Without this statement only the key policy itself could grant access; with it, each role's
    IAM policy (the pod role's KMS Access Policy, say) decides who may use the key.
    """
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "EnableIamPoliciesForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"AWS": env.account_root_arn},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        separators=(",", ":"),
    )


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
