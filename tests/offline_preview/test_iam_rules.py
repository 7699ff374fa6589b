"""The rule `diff --fail-on-widening` decides by (offline_preview/iam_rules.py), piece by piece:
wildcard containment checked against IAM's own matching, then elements, conditions, statements."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from offline_preview.iam_rules import (
    Condition,
    Patterns,
    PolicyError,
    Statement,
    allow_covered,
    deny_kept,
    glob_covers,
    globs_meet,
    implies,
    parse_document,
)
from tests.support.policies import iam_match

PATTERNS = ["".join(p) for n in range(4) for p in itertools.product("ab*?", repeat=n)]
WORDS = ["".join(w) for n in range(6) for w in itertools.product("ab", repeat=n)]


def language(pattern: str) -> frozenset[str]:
    """The words up to five letters of {a, b} that IAM's matching lets `pattern` match."""
    return frozenset(w for w in WORDS if iam_match(pattern, w))


def test_glob_containment_never_calls_a_wider_pattern_covered() -> None:
    """Sound against IAM's matching for every pair of patterns up to three symbols, and complete
    but for the contrived pairs where `?` sits beside a `*` (`*?` covers `a*`)."""
    languages = {p: language(p) for p in PATTERNS}
    missed = []
    for wide, narrow in itertools.product(PATTERNS, repeat=2):
        covered = languages[narrow] <= languages[wide]
        assert not glob_covers(wide, narrow) or covered, (wide, narrow)
        if covered and not glob_covers(wide, narrow):
            missed.append((wide, narrow))
    assert missed and all("?" in wide and "*" in wide for wide, _ in missed)


def test_glob_meeting_is_exact() -> None:
    languages = {p: language(p) for p in PATTERNS}
    for a, b in itertools.product(PATTERNS, repeat=2):
        assert globs_meet(a, b) == bool(languages[a] & languages[b]), (a, b)


@pytest.mark.parametrize(
    ("wide", "narrow", "covered"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/x/*", True),
        ("arn:aws:s3:::bucket/x/*", "arn:aws:s3:::bucket/*", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", True),
        ("arn:aws:ec2:*:*:security-group/*", "arn:aws:ec2:us-east-1:1:security-group/sg-1", True),
        (
            "arn:aws:bedrock:*::foundation-model/*",
            "arn:aws:bedrock:us-east-1::foundation-model/?",
            True,
        ),
        ("*", "arn:aws:s3:::anything", True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", False),  # resources keep their case
    ],
)
def test_resources_are_contained_as_wildcard_patterns(
    wide: str, narrow: str, covered: bool
) -> None:
    assert (
        Patterns("resource", False, (wide,)).covers(Patterns("resource", False, (narrow,)))
        is covered
    )


def actions(*patterns: str, negated: bool = False) -> Patterns:
    return Patterns("action", negated, patterns)


def test_actions_match_case_insensitively_with_wildcards() -> None:
    assert actions("S3:get*").covers(actions("s3:GetObject", "s3:getobjectacl"))
    assert not actions("s3:Get*").covers(actions("s3:PutObject"))
    assert actions("*").covers(actions("iam:PassRole"))
    assert not actions("s3:*").covers(actions("s3*"))


def test_not_lists_cover_by_what_they_leave_out() -> None:
    all_but_iam = actions("iam:*", negated=True)
    assert all_but_iam.covers(actions("s3:GetObject"))
    assert not all_but_iam.covers(actions("iam:PassRole"))
    assert not all_but_iam.covers(actions("*:Pass*"))  # meets iam:PassRole
    assert all_but_iam.covers(actions("iam:*", "sts:*", negated=True))
    assert not all_but_iam.covers(actions("iam:PassRole", negated=True))
    assert actions("*").covers(actions("iam:*", negated=True))
    assert not actions("s3:*").covers(actions("iam:*", negated=True))


def principals(*values: str) -> Patterns:
    return Patterns("principal", False, values)


def test_an_account_covers_itself_only_in_its_own_partition() -> None:
    """A resource policy's grant to the account root delegates to the account's IAM; a grant to
    one of its roles needs no IAM policy: the role given directly is a new principal."""
    root = principals("AWS:arn:aws:iam::123456789012:root")
    assert not root.covers(principals("AWS:arn:aws:iam::123456789012:role/x"))
    assert not root.covers(principals("AWS:arn:aws:iam::123456789012:user/x"))
    assert root.covers(principals("AWS:123456789012"))
    assert principals("AWS:123456789012").covers(root)
    assert principals("AWS:123456789012").covers(
        principals("AWS:arn:aws-cn:iam::123456789012:root")
    )
    assert not principals("AWS:123456789012").covers(
        principals("AWS:arn:aws-cn:iam::123456789012:role/x")
    )
    assert not root.covers(principals("AWS:arn:aws-cn:iam::123456789012:root"))
    assert not root.covers(principals("AWS:arn:aws-us-gov:iam::123456789012:role/x"))
    assert not root.covers(principals("AWS:arn:aws:iam::999999999999:root"))
    assert not principals("AWS:arn:aws:iam::123456789012:role/x").covers(root)
    assert not principals("Service:ec2.amazonaws.com").covers(
        principals("Service:lambda.amazonaws.com")
    )
    assert principals("*").covers(principals("Federated:arn:aws:iam::1:oidc-provider/x"))


def condition(operator: str, key: str, *values: str) -> Condition:
    return Condition(operator, key, values)


@pytest.mark.parametrize(
    ("tight", "loose", "implied"),
    [
        (condition("StringEquals", "k", "a"), condition("StringEquals", "K", "a", "b"), True),
        (condition("StringEquals", "k", "a", "b"), condition("StringEquals", "k", "a"), False),
        (condition("StringNotEquals", "k", "a", "b"), condition("StringNotEquals", "k", "a"), True),
        (
            condition("StringNotEquals", "k", "a"),
            condition("StringNotEquals", "k", "a", "b"),
            False,
        ),
        (condition("StringLike", "k", "ns:app-*"), condition("StringLike", "k", "ns:*"), True),
        (condition("StringLike", "k", "ns:*"), condition("StringLike", "k", "ns:app-*"), False),
        (condition("ArnNotLike", "k", "arn:*"), condition("ArnNotLike", "k", "arn:aws:*"), True),
        (
            condition("StringEqualsIgnoreCase", "k", "A"),
            condition("StringEqualsIgnoreCase", "k", "a"),
            True,
        ),
        (condition("Bool", "k", "true"), condition("Bool", "k", "true"), True),
        (condition("Bool", "k", "false"), condition("Bool", "k", "true"), False),
        (condition("NumericLessThan", "k", "5"), condition("NumericLessThan", "k", "10"), False),
        # a key that may be missing passes an IfExists test: never the same test as without it
        (condition("StringEqualsIfExists", "k", "a"), condition("StringEquals", "k", "a"), False),
        (condition("StringEquals", "k", "a"), condition("StringEquals", "other", "a"), False),
        (
            condition("ForAllValues:StringEquals", "k", "a"),
            condition("ForAllValues:StringEquals", "k", "a", "b"),
            True,
        ),
        (
            condition("ForAllValues:StringEquals", "k", "a"),
            condition("ForAnyValue:StringEquals", "k", "a"),
            False,
        ),
    ],
)
def test_condition_implication(tight: Condition, loose: Condition, implied: bool) -> None:
    assert implies(tight, loose) is implied


def statements(*statements: dict[str, Any], trust: bool = False) -> list[Statement]:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return list(parse_document(json.dumps(document), "policy", principals=trust))


def allow(actions: list[str], resources: list[str], **condition: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    return result | ({"Condition": condition} if condition else {})


def test_an_allow_is_covered_when_base_allows_it_under_conditions_head_keeps() -> None:
    base = statements(
        allow(["s3:GetObject"], ["arn:aws:s3:::b/*"], StringEquals={"aws:PrincipalTag/team": "x"}),
        allow(["s3:ListBucket"], ["arn:aws:s3:::b"]),
    )
    # merged into one statement, with one more condition: covered, atom by atom
    [merged] = statements(
        allow(
            ["s3:GetObject", "s3:ListBucket"],
            ["arn:aws:s3:::b/*"],
            StringEquals={"aws:PrincipalTag/team": "x", "aws:RequestedRegion": "us-east-1"},
        )
    )
    assert all(allow_covered(atom, base) for atom in merged.atoms()) is False  # ListBucket on b/*
    [objects] = statements(
        allow(
            ["s3:getobject"],
            ["arn:aws:s3:::b/x/*"],
            StringEquals={"aws:principaltag/TEAM": "x", "aws:RequestedRegion": "us-east-1"},
        )
    )
    assert all(allow_covered(atom, base) for atom in objects.atoms())
    [unconditioned] = statements(allow(["s3:GetObject"], ["arn:aws:s3:::b/x"]))
    assert not any(allow_covered(atom, base) for atom in unconditioned.atoms())


def test_a_deny_is_kept_by_a_head_deny_at_least_as_broad() -> None:
    [base] = statements(
        {
            "Effect": "Deny",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "arn:aws:kms:us-east-1:1:key/k",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    broader = statements({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    assert all(deny_kept(atom, broader) for atom in base.atoms())
    narrower = statements(
        {
            "Effect": "Deny",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": "false"},
                "StringEquals": {"aws:RequestedRegion": "us-east-1"},
            },
        }
    )
    assert not any(deny_kept(atom, narrower) for atom in base.atoms())


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("[]", "policy: a policy document must be a JSON object"),
        (
            '{"Statement": [{"Effect": "Permit", "Action": "*"}]}',
            "policy, statement 1: Effect must be Allow or Deny (got 'Permit')",
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Action": []}]}',
            "policy, statement 1: Action must be a string or a non-empty list of strings",
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": 1}}]}',
            "policy, statement 1: Condition Bool must map keys to values",
        ),
    ],
)
def test_a_malformed_policy_is_named(document: str, problem: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_document(document, "policy", principals=False)
    assert str(raised.value) == problem


def test_a_trust_statement_must_name_a_principal() -> None:
    with pytest.raises(PolicyError, match="must name a Principal"):
        statements({"Effect": "Allow", "Action": "sts:AssumeRole"}, trust=True)
