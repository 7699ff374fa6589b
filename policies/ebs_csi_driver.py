"""EBS CSI driver: its use of the deployment key for encrypted volumes.

The driver's IRSA role (`<deploymentPrefix>-eks-ebs-csi-role`) holds AWS's managed
`AmazonEBSCSIDriverPolicy` (`arn:<partition>:iam::aws:policy/service-role/...`) for the EC2 side:
create, attach, detach, snapshot and delete volumes. That policy grants no KMS action, so a
StorageClass whose volumes are encrypted with the deployment's customer-managed key (`kmsKeyId`)
needs this policy too, or the driver cannot create or attach those volumes.

Source: Amazon EKS User Guide, "Create an Amazon EBS CSI driver IAM role"
(https://docs.aws.amazon.com/eks/latest/userguide/csi-iam-role.html), the step for "a custom KMS
key for encryption on your Amazon EBS volumes" (`kms-key-for-encryption-on-ebs.json`): two
statements on the key's ARN, reproduced here. (The driver's own install guide suggests
`kms:CreateGrant` on `*` without a condition; the EKS guide's form is the narrower one.)

* `kms:CreateGrant`, `kms:ListGrants`, `kms:RevokeGrant` only with
  `Bool kms:GrantIsForAWSResource = true`: EC2 attaches an encrypted volume to an instance by a
  KMS grant it creates on the caller's behalf; the condition allows grants only when an AWS
  service (EC2/EBS) creates them for its resource, never a grant the driver's credentials could
  hand to an arbitrary principal (AWS KMS Developer Guide, `kms:GrantIsForAWSResource`).
* `kms:Encrypt`, `kms:Decrypt`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:DescribeKey`:
  EBS generates and decrypts the volume's data key, and re-encrypts it when a snapshot or a
  volume is copied under the key.

Both statements name the deployment key only, so the role cannot use another key of the account.
"""

from __future__ import annotations

import pulumi

from naming import Policy
from policies.documents import Document, document, statement
from policies.spec import Change, Departure, PolicyOrigin

ORIGINS: dict[str, PolicyOrigin] = {
    Policy.EBS_CSI_KMS: PolicyOrigin(
        "EBS CSI Driver Key Use (not in the specification)",
        in_spec=False,
        source=(
            'Amazon EKS User Guide, "Create an Amazon EBS CSI driver IAM role", the step for a '
            "custom KMS key (`kms-key-for-encryption-on-ebs.json`)"
        ),
        departures=(
            Departure(
                Change.TIGHTER,
                "`kms:CreateGrant` only with `kms:GrantIsForAWSResource`, on the deployment's key",
                "the driver's install guide grants `kms:CreateGrant` on `*` unconditioned; EBS "
                "needs grants only for its own volumes",
            ),
        ),
        omitted_when="`addons.ebsCsiDriver.enabled` is false",
    ),
}

# Grants EC2 creates on the driver's behalf to attach encrypted volumes.
KMS_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
# The volume's data key: generated, decrypted, re-encrypted for copies, the key described.
KMS_VOLUME_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


def ebs_csi_kms_policy(key_arn: pulumi.Input[str]) -> Document:
    """What the EBS CSI driver needs of the deployment key to create and attach volumes
    encrypted with it: grants for AWS resources only, and the data-key actions, on that key."""
    return document(
        [
            statement(
                "GrantsForEncryptedVolumes",
                KMS_GRANT_ACTIONS,
                [key_arn],
                condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            statement("DataKeysOfEncryptedVolumes", KMS_VOLUME_KEY_ACTIONS, [key_arn]),
        ]
    )
