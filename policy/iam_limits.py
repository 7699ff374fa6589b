"""IAM's size quotas, and how IAM measures a document against them.

"IAM and AWS STS quotas" (IAM User Guide): characters, whitespace not counted. The program
checks its config-grown documents against them before planning (`iam_quotas.py`); the pack
checks every planned document.
"""

from __future__ import annotations

import re

MANAGED_POLICY_MAX = 6144
"""Characters of one customer-managed policy."""
TRUST_POLICY_MAX = 2048
"""Characters of a role's trust policy (the default quota; it can be raised to 4,096)."""
ROLE_INLINE_POLICIES_MAX = 10240
"""Characters of all inline policies of one role, together."""
ROLE_MANAGED_POLICIES_MAX = 10
"""Managed policies attached to one role (the default quota; it can be raised to 20)."""


def iam_size(text: str) -> int:
    """A document's size as IAM counts it: characters, whitespace excluded."""
    return len(re.sub(r"\s", "", text))
