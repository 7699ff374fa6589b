"""Tests for the offline IAM lint in tests/support/iam_lint.py."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from policy.iam_actions import service_actions as _service_actions
from policy.iam_actions import service_prefixes as _service_prefixes
from tests.support.iam_lint import (
    actions_requiring_star,
    arn_matches_format,
    lint_policy,
    resolve_action,
)
from tests.support.policies import document

ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OBJECT_FORMAT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
TARGET_GROUP_FORMAT = (
    "arn:${Partition}:elasticloadbalancing:${Region}:${Account}:"
    "targetgroup/${TargetGroupName}/${TargetGroupId}"
)


def _allow(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _lint(
    *statements: Mapping[str, Any],
    partition: str = "aws",
    region: str = "us-east-1",
    allow: Mapping[str, str] | None = None,
) -> list[str]:
    return lint_policy(
        document(*statements),
        partition=partition,
        region=region,
        account_id=ACCOUNT,
        star_allowlist=allow or {},
    )


def _one_problem(problems: list[str], *needles: str) -> str:
    assert len(problems) == 1, problems
    for needle in needles:
        assert needle in problems[0], problems[0]
    return problems[0]


# --------------------------------------------------------------------------- #
# Good policies
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("partition", "region", "statement"),
    [
        ("aws", "us-east-1", _allow("s3:ListBucket", "arn:aws:s3:::bucket")),
        ("aws", "us-east-1", _allow("s3:GetObject", "arn:aws:s3:::bucket/*")),
        ("aws", "us-east-1", _allow("aws-marketplace:MeterUsage", "*")),
        ("aws", "us-east-1", _allow("ecr:GetAuthorizationToken", "*")),
        (
            "aws-us-gov",
            "us-gov-west-1",
            _allow(
                "kms:Decrypt",
                f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/{KEY_ID}",
            ),
        ),
        (
            "aws",
            "us-east-1",
            _allow(
                ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                "arn:aws:bedrock:us-east-1::foundation-model/*",
            ),
        ),
        (
            "aws",
            "us-east-1",
            _allow(
                "elasticloadbalancing:ModifyTargetGroup",
                "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
            ),
        ),
        (
            "aws-cn",
            "cn-north-1",
            _allow(
                ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/app",
            ),
        ),
        # Case-insensitive action names, as IAM treats them.
        ("aws", "us-east-1", _allow("S3:getobject", "arn:aws:s3:::bucket/key")),
        # A policy variable stands for unknown text.
        (
            "aws",
            "us-east-1",
            _allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}/*"),
        ),
        # A trailing '*' may run across colons (IAM Resource element docs).
        ("aws", "us-east-1", _allow("s3:GetObject", "arn:aws:s3:*")),
        (
            "aws",
            "us-east-1",
            _allow(
                "logs:PutLogEvents",
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app:*",
            ),
        ),
        # AWS-owned resources use the account "aws".
        (
            "aws",
            "us-east-1",
            _allow(
                "iam:GetPolicy",
                "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            ),
        ),
        (
            "aws",
            "us-east-1",
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/app",
                "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            },
        ),
        # Wildcard action: the resource fits some of the expanded actions.
        ("aws", "us-east-1", _allow("s3:Get*", "arn:aws:s3:::bucket/*")),
        # Deny with NotAction / NotResource.
        (
            "aws",
            "us-east-1",
            {
                "Effect": "Deny",
                "NotAction": ["s3:Get*", "kms:Decrypt"],
                "NotResource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"],
            },
        ),
    ],
)
def test_accepts_good_statements(partition: str, region: str, statement: Mapping[str, Any]) -> None:
    assert _lint(statement, partition=partition, region=region) == []


def test_accepts_trust_policy_without_resource() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert _lint(statement) == []


def test_star_allowlist_permits_star() -> None:
    statement = _allow(["s3:GetObject", "ec2:Describe*"], "*")
    allow = {"s3:GetObject": "test", "EC2:Describe*": "read-only inventory"}
    assert _lint(statement, allow=allow) == []


# --------------------------------------------------------------------------- #
# Problems
# --------------------------------------------------------------------------- #


def test_unknown_action() -> None:
    problems = _lint(_allow("s3:GetObjekt", "arn:aws:s3:::bucket/*"))
    _one_problem(problems, "unknown action 's3:GetObjekt'", "s3:GetObject")


def test_unknown_service() -> None:
    _one_problem(_lint(_allow("s4:GetObject", "*")), "unknown service prefix")


def test_wildcard_action_matching_nothing() -> None:
    problems = _lint(_allow("ec2:Descrobe*", "*"))
    _one_problem(problems, "'ec2:Descrobe*' matches no known action")


def test_unknown_action_in_deny_not_action() -> None:
    statement = {"Effect": "Deny", "NotAction": ["s3:*", "iam:Nope"], "Resource": "*"}
    _one_problem(_lint(statement), "unknown action 'iam:Nope'")


def test_resource_of_wrong_type() -> None:
    problems = _lint(_allow("s3:GetObject", "arn:aws:s3:::bucket"))
    _one_problem(problems, "'arn:aws:s3:::bucket'", "no resource type", "ObjectName")


def test_bucket_action_on_object_arn() -> None:
    problems = _lint(_allow("s3:ListBucket", "arn:aws:s3:::bucket/*"))
    _one_problem(problems, "no resource type of 's3:ListBucket'")


def test_foundation_model_arn_has_no_account() -> None:
    resource = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:foundation-model/*"
    problems = _lint(_allow("bedrock:GetFoundationModel", resource))
    _one_problem(problems, "no resource type")


def test_star_without_allowlist() -> None:
    problems = _lint(_allow("s3:GetObject", "*"))
    _one_problem(problems, "Resource '*' on 's3:GetObject'", "star_allowlist")


def test_wildcard_action_star_lists_scoped_actions() -> None:
    problems = _lint(_allow("ec2:Describe*", "*"))
    _one_problem(problems, "Resource '*' on 'ec2:Describe*' (matching ec2:")


def test_arn_on_action_without_resource_level_permissions() -> None:
    resource = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
    problems = _lint(_allow("ecr:GetAuthorizationToken", resource))
    _one_problem(problems, "supports no resource-level permissions")


def test_wrong_partition() -> None:
    statement = _allow(["s3:GetObject"], ["arn:aws:s3:::bucket/*", "arn:aws-us-gov:s3:::other/*"])
    problems = _lint(statement, partition="aws-us-gov", region="us-gov-west-1")
    _one_problem(problems, "'arn:aws:s3:::bucket/*' uses partition 'aws'")


def test_wrong_partition_in_deny() -> None:
    statement = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}
    problems = _lint(statement, partition="aws-cn", region="cn-north-1")
    _one_problem(problems, "expected 'aws-cn'")


def test_wrong_region_and_account() -> None:
    resource = f"arn:aws:kms:eu-west-1:999999999999:key/{KEY_ID}"
    problems = _lint(_allow("kms:Decrypt", resource))
    assert len(problems) == 2, problems
    assert "region 'eu-west-1'" in problems[0]
    assert "account '999999999999'" in problems[1]


def test_region_wildcard_must_cover_region() -> None:
    resource = f"arn:aws:kms:eu-*:{ACCOUNT}:key/{KEY_ID}"
    _one_problem(_lint(_allow("kms:Decrypt", resource)), "region 'eu-*'")
    resource = f"arn:aws:kms:us-*:{ACCOUNT}:key/{KEY_ID}"
    assert _lint(_allow("kms:Decrypt", resource)) == []


def test_ineffective_deny() -> None:
    statement = {
        "Effect": "Deny",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b",
    }
    _one_problem(_lint(statement), "has no effect")


def test_broad_allow_forms() -> None:
    assert "grants every action" in _lint(_allow("*", "*"))[0]
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    _one_problem(_lint(not_action), "NotAction")


def test_structure_problems() -> None:
    document = {
        "Version": "2008-10-17",
        "Statement": [
            {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"},
            {
                "Sid": "A",
                "Effect": "Allow",
                "Resources": "*",
                "Action": "s3:ListBucket",
            },
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "bucket/key"},
        ],
    }
    problems = lint_policy(
        document,
        partition="aws",
        region="us-east-1",
        account_id=ACCOUNT,
        star_allowlist={},
    )
    text = "\n".join(problems)
    for needle in (
        "Version must be '2012-10-17'",
        "Effect must be 'Allow' or 'Deny'",
        "needs Resource or NotResource",
        "duplicate Sid 'A'",
        "unknown statement keys ['Resources']",
        "neither '*' nor an ARN",
    ):
        assert needle in text, problems


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def test_actions_requiring_star() -> None:
    allowlist = {
        "ecr:GetAuthorizationToken": "no resource-level permissions anyway",
        "cognito-idp:ListUserPools": "no resource-level permissions anyway",
        "s3:GetObject": "needed",
        "ec2:Describe*": "mixed",
        "s3:GetObjekt": "typo",
    }
    assert actions_requiring_star(allowlist) == {
        "ecr:GetAuthorizationToken",
        "cognito-idp:ListUserPools",
    }


@pytest.mark.parametrize(
    ("resource", "arn_format", "expected"),
    [
        ("arn:aws:s3:::bucket/*", OBJECT_FORMAT, True),
        ("arn:aws:s3:::bucket", OBJECT_FORMAT, False),
        ("arn:aws:s3:::bucket/", OBJECT_FORMAT, False),
        ("arn:aws:s3:::b?/k", OBJECT_FORMAT, True),
        (
            "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
            TARGET_GROUP_FORMAT,
            True,
        ),
        (
            "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
            TARGET_GROUP_FORMAT,
            False,
        ),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/*",
            "arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}",
            True,
        ),
        # '*' may match nothing; inside a segment it does not cross colons.
        ("arn:aws:s3:*::b/k", OBJECT_FORMAT, True),
        ("arn:aws:s3:::b*", OBJECT_FORMAT, True),
        ("arn:aws:s3*b:::b/k", OBJECT_FORMAT, False),
    ],
)
def test_arn_matches_format(resource: str, arn_format: str, expected: bool) -> None:
    assert arn_matches_format(resource, arn_format) is expected


def test_resolve_action_expands_wildcards() -> None:
    infos, error = resolve_action("ecr:Batch*")
    assert error is None
    assert {"ecr:BatchGetImage", "ecr:BatchDeleteImage"} <= {i.name for i in infos}


# --------------------------------------------------------------------------- #
# Speed
# --------------------------------------------------------------------------- #


def _twenty_statement_policy(n: int) -> dict[str, Any]:
    region, arn = "us-east-1", f"us-east-1:{ACCOUNT}"
    statements = [
        _allow("s3:ListBucket", f"arn:aws:s3:::bucket-{n}"),
        _allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::bucket-{n}/*"),
        _allow("kms:Decrypt", f"arn:aws:kms:{arn}:key/{KEY_ID}"),
        _allow(["kms:GenerateDataKey*"], f"arn:aws:kms:{arn}:key/{KEY_ID}"),
        _allow("aws-marketplace:MeterUsage", "*"),
        _allow(
            ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            [
                f"arn:aws:bedrock:{region}::foundation-model/*",
                f"arn:aws:bedrock:{arn}:inference-profile/*",
            ],
        ),
        _allow(["bedrock:ListFoundationModels", "bedrock:ListCustomModels"], "*"),
        _allow(
            ["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
            f"arn:aws:bedrock:{arn}:model-customization-job/*",
        ),
        _allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app-{n}"),
        _allow(
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"],
            f"arn:aws:ecr:{arn}:repository/app-{n}",
        ),
        _allow(["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"], "*"),
        _allow(
            ["cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPoolClient"],
            f"arn:aws:cognito-idp:{arn}:userpool/us-east-1_{n}",
        ),
        _allow(["cognito-idp:ListUserPools", "cognito-idp:CreateUserPool"], "*"),
        _allow(
            ["ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter"],
            f"arn:aws:ssm:{arn}:parameter/app-{n}/*",
        ),
        _allow(
            ["acm:DescribeCertificate", "acm:GetCertificate"],
            f"arn:aws:acm:{arn}:certificate/*",
        ),
        _allow("acm:ListCertificates", "*"),
        _allow(
            ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
            f"arn:aws:dynamodb:{arn}:table/t-{n}",
        ),
        _allow("ec2:Describe*", "*"),
        _allow("logs:PutLogEvents", f"arn:aws:logs:{arn}:log-group:/app/{n}:*"),
        {"Effect": "Deny", "NotAction": ["s3:*", "kms:*"], "Resource": "*"},
    ]
    return document(*statements)


def test_lint_speed() -> None:
    """One 20-statement lint, then 30 distinct policies of the same actions: the IAM database is
    read once per service and each action resolved once, so the 30 cost no database work (a
    count, not a wall clock: the time is printed, never asserted)."""
    allow = {"ec2:Describe*": "read-only inventory"}
    kwargs: dict[str, Any] = {
        "partition": "aws",
        "region": "us-east-1",
        "account_id": ACCOUNT,
        "star_allowlist": allow,
    }
    start = time.perf_counter()
    assert lint_policy(_twenty_statement_policy(0), **kwargs) == []
    single = time.perf_counter() - start
    database = (_service_actions.cache_info(), _service_prefixes.cache_info())
    resolved = resolve_action.cache_info()
    start = time.perf_counter()
    for n in range(1, 31):
        assert lint_policy(_twenty_statement_policy(n), **kwargs) == []
    thirty = time.perf_counter() - start
    print(f"one 20-statement lint: {single * 1e3:.1f} ms; 30 more: {thirty * 1e3:.1f} ms")
    assert [info.misses for info in database] == [
        _service_actions.cache_info().misses,
        _service_prefixes.cache_info().misses,
    ]
    assert resolve_action.cache_info().misses == resolved.misses
    assert resolve_action.cache_info().hits > resolved.hits
