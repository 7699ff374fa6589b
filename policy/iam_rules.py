"""IAM: what identity policies grant, whom roles trust, which AWS-managed policies are attached,
and IAM's size quotas; one module each, in the order their rules run:

- `iam_grant_rules.py`: identity policies (customer-managed, inline, a role's `inlinePolicies`)
  allow no wildcard actions, and `Resource: "*"` only where an action takes no resource ARN;
- `iam_trust_rules.py`: IRSA trust conditions, no wildcard principal, principals of the stack's
  own account;
- `iam_managed_rules.py`: AWS-managed policies only as `iam_allowlist.py` lists them;
- `iam_quota_rules.py`: IAM's size and count quotas (`iam_limits.py`).

What they share (the IAM resource types, reading a document's statements) is `iam_documents.py`.
"""

from __future__ import annotations

from policy import iam_grant_rules, iam_managed_rules, iam_quota_rules, iam_trust_rules
from policy.model import Rule

RULES: tuple[Rule, ...] = (
    *iam_grant_rules.RULES,
    *iam_trust_rules.RULES,
    *iam_managed_rules.RULES,
    *iam_quota_rules.RULES,
)
