"""The IRSA trust document: exact conditions, refused service accounts, and its size."""

from __future__ import annotations

import json

import pytest

from policies.trust import irsa_trust, irsa_trust_document


def test_pattern_service_account_uses_string_like_for_sub_only() -> None:
    document = irsa_trust_document(
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X",
        "oidc.eks.us-east-1.amazonaws.com/id/X",
        ["poolside:poolside-*"],
    )
    assert document["Statement"][0]["Condition"] == {
        "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/X:aud": "sts.amazonaws.com"},
        "StringLike": {
            "oidc.eks.us-east-1.amazonaws.com/id/X:sub": "system:serviceaccount:poolside:poolside-*"
        },
    }


@pytest.mark.parametrize("account", ["poolside", ":name", "ns:"])
def test_malformed_service_accounts_are_refused(account: str) -> None:
    with pytest.raises(ValueError, match="must be '<namespace>:<name>'"):
        irsa_trust_document("arn", "issuer", [account])
    with pytest.raises(ValueError, match="must be '<namespace>:<name>'"):
        irsa_trust("arn", "issuer", [account])  # refused before the provider is known


def test_trust_policy_size_stays_within_the_quota_for_many_service_accounts() -> None:
    issuer = "oidc.eks.us-gov-west-1.amazonaws.com/id/" + "A" * 32
    accounts = [f"poolside:service-account-{i:02d}" for i in range(20)]
    document = irsa_trust_document(
        f"arn:aws-us-gov:iam::123456789012:oidc-provider/{issuer}", issuer, accounts
    )
    assert len(json.dumps(document, separators=(",", ":"))) <= 2048
