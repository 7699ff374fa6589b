"""Tests for the packaged AWS Load Balancer Controller IAM policy (v3.5.0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policies.aws_load_balancer_controller import (
    LOAD_BALANCER_CONTROLLER_POLICY_VERSION,
    load_balancer_controller_policy,
)

PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

UPSTREAM_DIR = (
    Path(__file__).resolve().parents[3]
    / "shared/reference"
    / f"aws-load-balancer-controller-{LOAD_BALANCER_CONTROLLER_POLICY_VERSION}"
)
UPSTREAM_FILES = {
    "aws": "iam_policy.json",
    "aws-us-gov": "iam_policy_us-gov.json",
    "aws-cn": "iam_policy_cn.json",
}

# IAM quota: a customer managed policy may hold at most 6,144 characters.
MANAGED_POLICY_MAX_CHARS = 6144

EXPECTED_STATEMENT_COUNT = 16
EXPECTED_ARN_COUNT = 13

EXPECTED_ACTIONS = [
    "acm:DescribeCertificate",
    "acm:ListCertificates",
    "cognito-idp:DescribeUserPoolClient",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteTags",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCoipPools",
    "ec2:DescribeInstances",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeIpamPools",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeVpcs",
    "ec2:GetCoipPoolUsage",
    "ec2:GetSecurityGroupsForVpc",
    "ec2:RevokeSecurityGroupIngress",
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:DeleteRule",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:ModifyCapacityReservation",
    "elasticloadbalancing:ModifyIpPools",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:RemoveTags",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetRulePriorities",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:SetWebAcl",
    "iam:CreateServiceLinkedRole",
    "iam:GetServerCertificate",
    "iam:ListServerCertificates",
    "shield:CreateProtection",
    "shield:DeleteProtection",
    "shield:DescribeProtection",
    "shield:GetSubscriptionState",
    "waf-regional:AssociateWebACL",
    "waf-regional:DisassociateWebACL",
    "waf-regional:GetWebACL",
    "waf-regional:GetWebACLForResource",
    "wafv2:AssociateWebACL",
    "wafv2:DisassociateWebACL",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _canonical_statements(document: dict[str, Any]) -> list[str]:
    """Statements as canonical JSON (sorted keys, sorted action/resource lists).

    Returned as a sorted list, so the comparison ignores statement order (which
    IAM does not care about) but still notices duplicated or missing statements.
    """
    canonical = []
    for statement in document["Statement"]:
        normalised = dict(statement)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in normalised:
                normalised[key] = sorted(_as_list(normalised[key]))
        canonical.append(json.dumps(normalised, sort_keys=True))
    return sorted(canonical)


def _strings(value: Any) -> list[str]:
    """Every string (keys and values) anywhere in a JSON-like structure."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    return []


def _upstream(partition: str) -> dict[str, Any]:
    if not UPSTREAM_DIR.is_dir():
        pytest.skip(
            f"upstream reference policies not found at {UPSTREAM_DIR} "
            "(only present when ../shared sits beside the clone, as in CI)"
        )
    document: dict[str, Any] = json.loads(
        (UPSTREAM_DIR / UPSTREAM_FILES[partition]).read_text(encoding="utf-8")
    )
    return document


@pytest.mark.parametrize("partition", PARTITIONS)
def test_matches_upstream_statements(partition: str) -> None:
    document = load_balancer_controller_policy(partition)
    upstream = _upstream(partition)
    assert document["Version"] == upstream["Version"]
    assert _canonical_statements(document) == _canonical_statements(upstream)


def test_commercial_partition_matches_upstream_exactly() -> None:
    # The data file keeps the aws file's statement and action order.
    assert load_balancer_controller_policy("aws") == _upstream("aws")


@pytest.mark.parametrize("partition", PARTITIONS)
def test_document_shape(partition: str) -> None:
    document = load_balancer_controller_policy(partition)
    assert type(document) is dict
    assert set(document) == {"Version", "Statement"}
    assert document["Version"] == "2012-10-17"
    assert len(document["Statement"]) == EXPECTED_STATEMENT_COUNT
    assert all(s["Effect"] == "Allow" for s in document["Statement"])


@pytest.mark.parametrize("partition", PARTITIONS)
def test_action_set(partition: str) -> None:
    document = load_balancer_controller_policy(partition)
    actions = {a for s in document["Statement"] for a in _as_list(s["Action"])}
    assert sorted(actions) == EXPECTED_ACTIONS


@pytest.mark.parametrize("partition", PARTITIONS)
def test_arns_use_requested_partition(partition: str) -> None:
    document = load_balancer_controller_policy(partition)
    strings = _strings(document)
    arns = [s for s in strings if s.startswith("arn:")]
    assert len(arns) == EXPECTED_ARN_COUNT
    assert all(arn.startswith(f"arn:{partition}:") for arn in arns), arns
    # No ARN hides inside a longer string (e.g. a condition value).
    assert sum(s.count("arn:") for s in strings) == EXPECTED_ARN_COUNT


@pytest.mark.parametrize("partition", PARTITIONS)
def test_no_placeholder_remains(partition: str) -> None:
    text = json.dumps(load_balancer_controller_policy(partition))
    assert "${" not in text
    assert "Partition" not in text


@pytest.mark.parametrize("partition", ["", "AWS", "aws-iso", "aws-iso-b", "gov", "aws "])
def test_unknown_partition_raises(partition: str) -> None:
    with pytest.raises(ValueError, match="partition"):
        load_balancer_controller_policy(partition)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_minified_size_within_managed_policy_quota(partition: str) -> None:
    minified = json.dumps(load_balancer_controller_policy(partition), separators=(",", ":"))
    assert len(minified) <= MANAGED_POLICY_MAX_CHARS


def test_returns_independent_copies() -> None:
    first = load_balancer_controller_policy("aws")
    first["Statement"].clear()
    first["Version"] = "changed"
    second = load_balancer_controller_policy("aws")
    assert second["Version"] == "2012-10-17"
    assert len(second["Statement"]) == EXPECTED_STATEMENT_COUNT
