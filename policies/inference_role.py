"""Inference role: what Poolside's inference pods (`poolside-models/inference`) may do.

Not in the specification's older IAM page; Poolside's current EKS documentation ("IAM": the
inference IRSA role, "Read access to the model checkpoints S3 bucket") and its reference
architecture (a `<deployment>-models` bucket the inference role reads) describe it. The model
servers download their checkpoints from S3 when they start: list the bucket, get its objects,
and decrypt them with the bucket's key. Nothing on the data bucket, no writes.
"""

from __future__ import annotations

from typing import Protocol

from naming import Policy
from policies.documents import Document, Statement, document
from policies.spec import PolicyOrigin

ORIGINS: dict[str, PolicyOrigin] = {
    Policy.INFERENCE_MODELS_READ: PolicyOrigin(
        "Inference Models Read (not in the specification)",
        in_spec=False,
        source=(
            'Poolside\'s EKS documentation, "IAM": the inference IRSA role has read access to '
            "the model checkpoints S3 bucket"
        ),
        omitted_when="`inference.enabled` is false",
    ),
}


class ReadableBucket(Protocol):
    """A bucket that grants list and get, and `kms:Decrypt` on its key (`Bucket`,
    `ExistingBucket`)."""

    def grant_read(self, sid_prefix: str) -> list[Statement]: ...


def inference_models_read_policy(models: ReadableBucket) -> Document:
    """`s3:ListBucket` on the models bucket, `s3:GetObject` on its objects, `kms:Decrypt` on
    its key (when its objects are SSE-KMS)."""
    return document(models.grant_read("ModelCheckpoints"))
