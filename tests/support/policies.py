"""IAM policy documents in tests: reading them off a recording, writing expected statements,
matching ARNs as IAM does, and IAM's quotas (written out here, independently of the program)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tests.support.harness import ACCOUNT_ID

if TYPE_CHECKING:
    from offline_preview.engine import RecordedResource

# "IAM and AWS STS quotas" (IAM User Guide): characters, whitespace not counted.
MANAGED_POLICY_MAX = 6_144
TRUST_POLICY_MAX = 2_048
POLICIES_PER_ROLE_MAX = 10


def document(*statements: Any) -> dict[str, Any]:
    """A policy document of these statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def irsa_trust(partition: str, issuer: str, subjects: list[str]) -> dict[str, Any]:
    """The trust an IRSA role must have, written out: the cluster's OIDC provider in this account,
    the STS audience, and the service accounts' subjects (a string for one, else a list)."""
    return document(
        {
            "Sid": "ServiceAccountsOfThisCluster",
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:aud": "sts.amazonaws.com",
                    f"{issuer}:sub": subjects[0] if len(subjects) == 1 else subjects,
                }
            },
        }
    )


def iam_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` exactly one, the rest literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def minified(text: str) -> int:
    """The size IAM counts of a JSON document: its length without whitespace between tokens."""
    return len(json.dumps(json.loads(text), separators=(",", ":")))


def policy(resource: RecordedResource, key: str = "policy") -> dict[str, Any]:
    """A JSON policy input of a recorded resource, parsed."""
    parsed: dict[str, Any] = json.loads(resource.inputs[key])
    return parsed


def statements_by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A document's statements by Sid, each without its Sid."""
    return {s["Sid"]: {k: v for k, v in s.items() if k != "Sid"} for s in document["Statement"]}


def allow(actions: list[str], resources: list[str] | str, **condition: Any) -> dict[str, Any]:
    """An Allow statement (no Sid), with a Condition when operators are given."""
    result: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        result["Condition"] = condition
    return result


def deny(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}
