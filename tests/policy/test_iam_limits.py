"""IAM's quotas as the pack (and `iam_quotas.py`, which imports them) hold them, against the
tests' own copy of the IAM User Guide's numbers ("IAM and AWS STS quotas")."""

from __future__ import annotations

from policy import iam_limits
from tests.support.policies import MANAGED_POLICY_MAX, POLICIES_PER_ROLE_MAX, TRUST_POLICY_MAX


def test_the_quotas_are_iams() -> None:
    assert iam_limits.MANAGED_POLICY_MAX == MANAGED_POLICY_MAX
    assert iam_limits.TRUST_POLICY_MAX == TRUST_POLICY_MAX
    assert iam_limits.ROLE_MANAGED_POLICIES_MAX == POLICIES_PER_ROLE_MAX
    assert iam_limits.ROLE_INLINE_POLICIES_MAX == 10_240


def test_whitespace_is_not_counted() -> None:
    assert iam_limits.iam_size('{\n  "Version": "2012-10-17",\t"Statement": []\n}') == len(
        '{"Version":"2012-10-17","Statement":[]}'
    )
