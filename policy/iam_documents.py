"""What the IAM rules share: the IAM resource types they judge, and how a policy document's
elements and statements are read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
)
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each statement with where it is: `Statement[2] (Sid)`."""
    if not isinstance(document, Mapping):
        return
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if isinstance(statement, Mapping):
            sid = statement.get("Sid")
            yield f"Statement[{index}]" + (f" ({sid})" if sid else ""), statement
