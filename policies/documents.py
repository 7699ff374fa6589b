"""IAM policy documents as code: statements are plain dicts whose values may be Pulumi Outputs.

A grant (`bucket.grant_read_write()`) returns statements; a policy function named after its spec
heading composes them into a document; `render()` turns a document into the JSON string a
resource receives, resolving any Output inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

POLICY_VERSION = "2012-10-17"

Statement = dict[str, Any]
Document = dict[str, Any]


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]] | str,
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    """One statement. `resources` is a list of ARNs (Outputs allowed) or the string `*`.

    `principal` is only for resource policies (bucket and trust policies); identity policies
    have none.
    """
    if not actions:
        raise ValueError(f"statement {sid!r} has no actions")
    if not resources:
        raise ValueError(f"statement {sid!r} has no resources")
    result: Statement = {"Sid": sid, "Effect": effect}
    if principal is not None:
        result["Principal"] = principal
    result |= {
        "Action": list(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if condition:
        result["Condition"] = {op: dict(values) for op, values in condition.items()}
    return result


def trust_statement(
    principal: Mapping[str, Any],
    action: str | list[str],
    *,
    sid: str | None = None,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    """A trust-policy statement: who may assume the role. It names a principal and no resource,
    which `statement()` (for identity and bucket policies) refuses."""
    result: Statement = {} if sid is None else {"Sid": sid}
    result |= {"Effect": "Allow", "Principal": dict(principal), "Action": action}
    if condition:
        result["Condition"] = {op: dict(values) for op, values in condition.items()}
    return result


def document(statements: Sequence[Statement]) -> Document:
    """A policy document from statements; Sids must be unique within it."""
    sids = [s["Sid"] for s in statements if "Sid" in s]
    repeated = sorted({s for s in sids if sids.count(s) > 1})
    if repeated:
        raise ValueError(f"repeated statement ids: {', '.join(repeated)}")
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def render(doc: pulumi.Input[Document]) -> pulumi.Output[str]:
    """The document as the compact JSON string IAM stores (Outputs inside are resolved). A
    document that is itself an Output (an IRSA trust, keyed by the issuer) is rendered alike."""
    return pulumi.Output.from_input(doc).apply(
        lambda resolved: pulumi.Output.json_dumps(resolved, separators=(",", ":"))
    )
