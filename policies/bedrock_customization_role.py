"""Bedrock customization service role: the role Amazon Bedrock assumes to run a customization job.

The pod role starts model customization jobs (its Bedrock Customization Job Policy) and passes this
role to Bedrock with `iam:PassRole`; Bedrock then assumes it to read the training data from the
deployment's bucket and write the job's output back there. Nothing else: the role neither invokes
models nor touches any other bucket or key.

Source: the spec's "Bedrock Customization Job Policy" (`iam:PassRole - Allows passing the
customization job role`), and the Amazon Bedrock User Guide, "Create a service role for model
customization" (docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html):
trust `bedrock.amazonaws.com` with `aws:SourceAccount` and an `aws:SourceArn` pattern of the
account's `model-customization-job/*` (confused-deputy prevention); S3 list/get on the training
data and get/put on the output location; the key's use when the data is KMS-encrypted. Its trust
policy is `policies.trust.bedrock_customization_trust`.
"""

from __future__ import annotations

from typing import Protocol

import pulumi

from naming import Policy
from policies.documents import Document, Statement, document
from policies.spec import PolicyOrigin

ORIGINS: dict[str, PolicyOrigin] = {
    Policy.BEDROCK_CUSTOMIZATION_DATA_ACCESS: PolicyOrigin(
        "Bedrock Customization Data Access (not in the specification)",
        in_spec=False,
        source=(
            "the role the spec's Bedrock Customization Job Policy passes (\"iam:PassRole - "
            'Allows passing the customization job role"), as the Amazon Bedrock User Guide '
            'gives it: "Create a service role for model customization"'
        ),
        omitted_when="`bedrock.enabled` is false",
    ),
}


class ReadWriteBucket(Protocol):
    """A bucket that grants list, get and put, and the use of its key (`Bucket`,
    `ExistingBucket`)."""

    def grant_read_write(
        self, sid_prefix: str, *, key_sid: str | None = ...
    ) -> list[Statement]: ...


class EncryptionKey(Protocol):
    """A key that grants its use for envelope encryption (`KmsKey`, `ExistingKey`)."""

    @property
    def arn(self) -> pulumi.Input[str]: ...

    def grant_encrypt_decrypt(self, sid: str) -> list[Statement]: ...


class KeyedBucket(Protocol):
    """A bucket whose own key, when it is not the deployment's, is granted beside it
    (`Bucket`: never; `ExistingBucket`: its `kms_key_arn`)."""

    def grant_key_beside(
        self, deployment_key_arn: pulumi.Input[str], sid: str = ...
    ) -> list[Statement]: ...


def bedrock_customization_service_policy(bucket: ReadWriteBucket) -> Document:
    """Read training data from and write output to the deployment's bucket, with its key.

    `s3:ListBucket` on the bucket; `s3:GetObject`, `s3:PutObject` on its objects; `kms:Decrypt`,
    `kms:GenerateDataKey*` on the deployment's key, because every object in the bucket is
    encrypted with it (the bucket's grant includes its key's). Nothing else.
    """
    return document(bucket.grant_read_write("CustomizationData", key_sid="CustomizationDataKey"))
