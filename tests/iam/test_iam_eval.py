"""Pins each rule of tests/support/iam_eval.py to the AWS IAM User Guide section it implements."""

from typing import Any

import pytest

from tests.support.iam_eval import (
    IamEvalError,
    Request,
    UnsupportedCondition,
    UnsupportedPolicy,
    UnsupportedPolicyVariable,
    allowed,
    evaluate,
    evaluate_trust,
)
from tests.support.policies import document

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
BUCKET = "arn:aws:s3:::my-bucket"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
MODEL = "arn:aws:bedrock:us-west-2::foundation-model/m"


def allow(
    action: str | list[str] = "s3:GetObject", resource: str = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(
    action: str | list[str] = "s3:GetObject", resource: str = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def holds(condition: dict[str, Any], context: dict[str, Any] | None = None) -> bool:
    """Whether an Allow statement with this Condition allows a request with this context."""
    request = Request("s3:GetObject", context=context or {})
    return allowed(request, [document(allow(Condition=condition))])


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}
    return document(statement)


def assume(kind: str, value: str, action: str = "sts:AssumeRole", **context: Any) -> Request:
    return Request(action, context=context, principal={kind: value})


# Policy evaluation logic


def test_default_is_implicit_deny() -> None:
    """Policy evaluation logic: by default, all requests are implicitly denied."""
    assert evaluate(Request("s3:GetObject"), []) == "implicit-deny"
    assert evaluate(Request("s3:GetObject"), [document(allow("s3:PutObject"))]) == "implicit-deny"


def test_matching_allow_allows() -> None:
    """Policy evaluation logic: an explicit allow in an identity-based policy overrides the default."""
    assert evaluate(Request("s3:GetObject"), [document(allow())]) == "allow"
    assert allowed(Request("s3:GetObject"), [document(allow())])


def test_statement_may_be_a_single_object() -> None:
    """IAM JSON policy elements: Statement: a single statement object or an array of them."""
    document = {"Version": "2012-10-17", "Statement": allow()}
    assert evaluate(Request("s3:GetObject"), [document]) == "allow"


def test_explicit_deny_overrides_allow_in_the_same_policy() -> None:
    """Policy evaluation logic: an explicit deny in any policy overrides any allows."""
    assert evaluate(Request("s3:GetObject"), [document(allow(), deny())]) == "explicit-deny"


def test_explicit_deny_overrides_allow_across_policies() -> None:
    """Policy evaluation logic: an explicit deny in any policy overrides allows in other policies."""
    decision = evaluate(Request("s3:GetObject"), [document(allow()), document(deny("s3:*"))])
    assert decision == "explicit-deny"


def test_deny_with_a_condition_applies_only_when_the_condition_holds() -> None:
    """Policy evaluation logic: a statement, Deny included, applies only if its Condition is true."""
    policies = [document(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))]
    assert (
        evaluate(Request("s3:GetObject", context={"aws:SecureTransport": True}), policies)
        == "allow"
    )
    insecure = Request("s3:GetObject", context={"aws:SecureTransport": False})
    assert evaluate(insecure, policies) == "explicit-deny"


def test_boundary_intersects_identity_permissions() -> None:
    """Permissions boundaries for IAM entities: effective permissions are the intersection."""
    identity = [document(allow(["s3:GetObject", "s3:PutObject"]))]
    boundary = document(allow("s3:GetObject"))
    assert evaluate(Request("s3:GetObject"), identity, boundary=boundary) == "allow"
    assert evaluate(Request("s3:PutObject"), identity, boundary=boundary) == "implicit-deny"


def test_boundary_alone_grants_nothing() -> None:
    """Permissions boundaries for IAM entities: a boundary does not grant permissions on its own."""
    boundary = document(allow("*"))
    assert evaluate(Request("s3:GetObject"), [], boundary=boundary) == "implicit-deny"


def test_deny_in_boundary_is_explicit() -> None:
    """Policy evaluation logic: an explicit deny in a permissions boundary overrides any allow."""
    boundary = document(allow("*"), deny("s3:GetObject"))
    assert (
        evaluate(Request("s3:GetObject"), [document(allow())], boundary=boundary) == "explicit-deny"
    )


# IAM JSON policy elements: Action / NotAction


@pytest.mark.parametrize("pattern", ["s3:GetObject", "S3:getobject", "s3:GETOBJECT", "S3:Get*"])
def test_action_matching_is_case_insensitive(pattern: str) -> None:
    """IAM JSON policy elements: Action: action names are case-insensitive."""
    assert allowed(Request("s3:GetObject"), [document(allow(pattern))])


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:Get*", "s3:Get", True),
        ("iam:Tag*", "iam:TagRole", True),
        ("iam:Tag*", "iam:TagOpenIDConnectProvider", True),
        ("iam:Tag*", "iam:UntagRole", False),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetOObject", False),
        ("s3:*", "s3:ListBucket", True),
        ("*", "ec2:RunInstances", True),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    """IAM JSON policy elements: Action: `*` matches any characters, `?` exactly one."""
    assert allowed(Request(action), [document(allow(pattern))]) is expected


@pytest.mark.parametrize(
    ("pattern", "action"), [("s3:*", "s3control:ListJobs"), ("ec2:Get*", "s3:GetObject")]
)
def test_action_service_prefix_must_match(pattern: str, action: str) -> None:
    """IAM JSON policy elements: Action: an action is service-prefix:action-name; the prefix must match."""
    assert not allowed(Request(action), [document(allow(pattern))])


@pytest.mark.parametrize("pattern", ["s3*", "*:GetObject", "s?:GetObject"])
def test_action_without_literal_service_prefix_raises(pattern: str) -> None:
    """IAM JSON policy elements: Action: only "*" or service-prefix:action-name are supported."""
    with pytest.raises(UnsupportedPolicy):
        allowed(Request("s3:GetObject"), [document(allow(pattern))])


def test_not_action_matches_every_other_action() -> None:
    """IAM JSON policy elements: NotAction: matches everything except the listed actions."""
    statement = {"Effect": "Allow", "NotAction": ["iam:*", "s3:Delete*"], "Resource": "*"}
    assert allowed(Request("s3:GetObject"), [document(statement)])
    assert not allowed(Request("s3:DeleteObject"), [document(statement)])
    assert not allowed(Request("iam:CreateRole"), [document(statement)])


def test_deny_with_not_action_denies_every_other_action() -> None:
    """IAM JSON policy elements: NotAction: with Deny, denies everything except the listed actions."""
    guard = {"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"}
    policies = [document(allow("*"), guard)]
    assert evaluate(Request("s3:GetObject"), policies) == "allow"
    assert evaluate(Request("s3:PutObject"), policies) == "explicit-deny"


# IAM JSON policy elements: Resource / NotResource


def test_resource_matching_is_case_sensitive() -> None:
    """IAM JSON policy elements: Resource: ARNs are case-sensitive."""
    assert allowed(
        Request("s3:GetObject", f"{BUCKET}/a"), [document(allow(resource=f"{BUCKET}/a"))]
    )
    assert not allowed(
        Request("s3:GetObject", f"{BUCKET}/A"), [document(allow(resource=f"{BUCKET}/a"))]
    )
    assert not allowed(
        Request("s3:GetObject", f"{BUCKET}/a"),
        [document(allow(resource="arn:aws:S3:::my-bucket/a"))],
    )


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (f"{BUCKET}/*", f"{BUCKET}/a/b.txt", True),
        (f"{BUCKET}/*", f"{BUCKET}/", True),
        (f"{BUCKET}/*", BUCKET, False),
        ("arn:aws:iam::*:role/app-*", f"arn:aws:iam::{ACCOUNT}:role/app-web", True),
        ("*", f"{BUCKET}/anything", True),
        ("*", "*", True),
        (BUCKET, "*", False),
    ],
)
def test_resource_star_wildcard(pattern: str, resource: str, expected: bool) -> None:
    """IAM JSON policy elements: Resource: `*` matches zero or more characters; "*" alone matches all."""
    assert (
        allowed(Request("s3:GetObject", resource), [document(allow(resource=pattern))]) is expected
    )


@pytest.mark.parametrize(
    ("resource", "expected"),
    [(f"{BUCKET}/v1", True), (f"{BUCKET}/v10", False), (f"{BUCKET}/v", False)],
)
def test_resource_question_mark_matches_exactly_one_character(
    resource: str, expected: bool
) -> None:
    """IAM JSON policy elements: Resource: `?` matches exactly one character."""
    assert (
        allowed(Request("s3:GetObject", resource), [document(allow(resource=f"{BUCKET}/v?"))])
        is expected
    )


def test_not_resource_matches_every_other_resource() -> None:
    """IAM JSON policy elements: NotResource: matches every resource except the listed ones."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": [f"{BUCKET}/secret/*"]}
    assert allowed(Request("s3:GetObject", f"{BUCKET}/public/a"), [document(statement)])
    assert not allowed(Request("s3:GetObject", f"{BUCKET}/secret/a"), [document(statement)])


def test_policy_variable_in_resource_raises() -> None:
    """IAM policy elements: Variables and tags: not supported here, so never silently matched."""
    with pytest.raises(UnsupportedPolicyVariable):
        allowed(
            Request("s3:GetObject", f"{BUCKET}/x"),
            [document(allow(resource=f"{BUCKET}/${{aws:username}}/*"))],
        )


# IAM JSON policy elements: Condition operators


def test_string_equals() -> None:
    """Condition operators: StringEquals is an exact, case-sensitive match."""
    assert holds(
        {"StringEquals": {"aws:PrincipalTag/team": "web"}}, {"aws:PrincipalTag/team": "web"}
    )
    assert not holds(
        {"StringEquals": {"aws:PrincipalTag/team": "web"}}, {"aws:PrincipalTag/team": "Web"}
    )
    assert not holds(
        {"StringEquals": {"aws:PrincipalTag/team": "web*"}}, {"aws:PrincipalTag/team": "webapp"}
    )


def test_string_not_equals() -> None:
    """Condition operators: StringNotEquals is a negated match; several values combine as NOR."""
    condition = {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}
    assert holds(condition, {"aws:RequestedRegion": "eu-west-1"})
    assert not holds(condition, {"aws:RequestedRegion": "us-west-2"})
    assert not holds(condition, {"aws:RequestedRegion": "us-east-1"})


def test_string_equals_ignore_case() -> None:
    """Condition operators: StringEqualsIgnoreCase is an exact match, ignoring case."""
    assert holds(
        {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "WEB"}},
        {"aws:PrincipalTag/team": "web"},
    )
    assert not holds(
        {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "WEB"}},
        {"aws:PrincipalTag/team": "webs"},
    )


def test_string_like() -> None:
    """Condition operators: StringLike is a case-sensitive glob over the whole string with * and ?."""
    key = "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub"
    condition = {"StringLike": {key: "system:serviceaccount:kube-system:*"}}
    assert holds(condition, {key: "system:serviceaccount:kube-system:aws-node"})
    assert not holds(condition, {key: "system:serviceaccount:default:aws-node"})
    assert not holds(condition, {key: "System:serviceaccount:kube-system:aws-node"})
    assert holds({"StringLike": {key: "a?c"}}, {key: "abc"})
    assert not holds({"StringLike": {key: "a?c"}}, {key: "abbc"})
    assert holds(
        {"StringLike": {key: "*:aws-node"}}, {key: "system:serviceaccount:kube-system:aws-node"}
    )


def test_string_not_like() -> None:
    """Condition operators: StringNotLike is a negated StringLike; several values combine as NOR."""
    condition = {"StringNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/admin-*", "*:root"]}}
    assert holds(condition, {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/web"})
    assert not holds(condition, {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/admin-1"})
    assert not holds(condition, {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:root"})


@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MODEL, True),
        ("arn:aws:bedrock:::foundation-model/m", True),
        ("arn:aws:bedrock:us-west-2::foundation-model/m2", False),
        ("arn:aws:bedrock:us-west-2::Foundation-model/m", False),
        (f"arn:aws:bedrock:us-west-2:{ACCOUNT}:foundation-model/m", False),
        ("not-an-arn", False),
    ],
)
def test_arn_like_matches_component_wise(operator: str, value: str, expected: bool) -> None:
    """Condition operators: ArnEquals/ArnLike match each of the six ARN parts separately, case-sensitively."""
    condition = {operator: {"aws:SourceArn": "arn:aws:bedrock:*::foundation-model/m"}}
    assert holds(condition, {"aws:SourceArn": value}) is expected


def test_arn_wildcard_does_not_cross_a_colon() -> None:
    """Condition operators: ARN wildcards stay within one of the six colon-separated parts."""
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/x"}}
    assert holds(condition, {"aws:SourceArn": f"arn:aws:iam::{ACCOUNT}:role/x"})
    assert not holds(condition, {"aws:SourceArn": f"arn:aws:iam::{ACCOUNT}:extra:role/x"})
    # StringLike, a glob over the whole string, does cross it.
    assert holds(
        {"StringLike": {"aws:SourceArn": "arn:aws:iam::*:role/x"}},
        {"aws:SourceArn": f"arn:aws:iam::{ACCOUNT}:extra:role/x"},
    )


def test_arn_operator_needs_a_six_part_arn_in_the_policy() -> None:
    """Condition operators: ARN operators compare six-part ARNs; anything else is unsupported here."""
    with pytest.raises(UnsupportedCondition):
        holds({"ArnLike": {"aws:SourceArn": "*"}}, {"aws:SourceArn": MODEL})


@pytest.mark.parametrize("operator", ["ArnNotLike", "ArnNotEquals"])
def test_arn_not_like(operator: str) -> None:
    """Condition operators: ArnNotEquals/ArnNotLike are the negated ARN matches (NOR over values)."""
    condition = {operator: {"aws:SourceArn": [f"arn:aws:sns:*:{ACCOUNT}:*", "arn:aws:sqs:*:*:q"]}}
    assert holds(condition, {"aws:SourceArn": f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:t"})
    assert not holds(condition, {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t"})
    assert not holds(condition, {"aws:SourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"})


@pytest.mark.parametrize(
    ("policy_value", "context_value", "expected"),
    [
        ("true", True, True),
        ("TRUE", True, True),
        (True, True, True),
        ("true", "true", True),
        ("true", "False", False),
        ("false", False, True),
        ("false", True, False),
    ],
)
def test_bool(policy_value: Any, context_value: Any, expected: bool) -> None:
    """Condition operators: Bool compares true/false (case-insensitively here); context booleans allowed."""
    assert (
        holds(
            {"Bool": {"aws:SecureTransport": policy_value}}, {"aws:SecureTransport": context_value}
        )
        is expected
    )


@pytest.mark.parametrize(
    ("policy_value", "context_value"), [("yes", True), ("true", "1"), ("true", 1)]
)
def test_bool_with_a_non_boolean_raises(policy_value: Any, context_value: Any) -> None:
    """Condition operators: Bool only compares booleans; anything else is unsupported here."""
    with pytest.raises(IamEvalError):
        holds(
            {"Bool": {"aws:SecureTransport": policy_value}}, {"aws:SecureTransport": context_value}
        )


def test_null() -> None:
    """Condition operators: Null "true" holds when the key is absent, "false" when it is present."""
    assert holds({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not holds(
        {"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}
    )
    assert holds(
        {"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}
    )
    assert not holds({"Null": {"aws:TokenIssueTime": "false"}}, {})


def test_null_treats_an_empty_set_as_absent() -> None:
    """Multivalued context keys examples: Null "false" guards against missing keys or empty values."""
    assert holds({"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []})
    assert not holds({"Null": {"aws:TagKeys": "false"}}, {"aws:TagKeys": []})
    assert holds({"Null": {"aws:TagKeys": "false"}}, {"aws:TagKeys": ["a"]})


@pytest.mark.parametrize(
    "operator",
    ["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"],
)
def test_missing_key_makes_a_positive_operator_false(operator: str) -> None:
    """Condition operators: "If the key ... is not present in the request context, the values do not match and the condition is false"."""
    value = "true" if operator == "Bool" else MODEL
    assert not holds({operator: {"aws:SourceArn": value}}, {})


@pytest.mark.parametrize(
    "operator", ["StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"]
)
def test_missing_key_makes_a_negated_operator_true(operator: str) -> None:
    """Condition operators: "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true"."""
    assert holds({operator: {"aws:SourceArn": MODEL}}, {})


def test_negated_deny_applies_when_the_key_is_missing() -> None:
    """Condition operators: a Deny with a negated operator applies to a request that lacks the key."""
    guard = deny("*", Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}})
    policies = [document(allow(), guard)]
    assert (
        evaluate(Request("s3:GetObject", context={"aws:PrincipalOrgID": "o-123"}), policies)
        == "allow"
    )
    assert evaluate(Request("s3:GetObject"), policies) == "explicit-deny"


@pytest.mark.parametrize(
    "operator",
    [
        "StringEqualsIfExists",
        "StringNotEqualsIfExists",
        "StringLikeIfExists",
        "ArnLikeIfExists",
        "ArnNotLikeIfExists",
        "BoolIfExists",
    ],
)
def test_if_exists_with_a_missing_key_is_true(operator: str) -> None:
    """Condition operators ... IfExists: "If the key is not present, evaluate the condition element as true"."""
    value = "true" if operator.startswith("Bool") else MODEL
    assert holds({operator: {"aws:SourceArn": value}}, {})


def test_if_exists_with_a_present_key_applies_the_operator() -> None:
    """Condition operators ... IfExists: when the key is present, the base operator decides."""
    condition = {"StringEqualsIfExists": {"ec2:InstanceType": ["t3.micro", "t3.small"]}}
    assert holds(condition, {"ec2:InstanceType": "t3.small"})
    assert not holds(condition, {"ec2:InstanceType": "m5.large"})
    negated = {"ArnNotLikeIfExists": {"aws:SourceArn": "arn:aws:bedrock:*::foundation-model/*"}}
    assert holds(negated, {"aws:SourceArn": f"arn:aws:s3:::{ACCOUNT}"})
    assert not holds(negated, {"aws:SourceArn": MODEL})


def test_for_any_value() -> None:
    """Single-valued vs. multivalued context keys: ForAnyValue holds if at least one request value matches."""
    condition = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}
    assert holds(condition, {"aws:TagKeys": ["team", "cost"]})
    assert not holds(condition, {"aws:TagKeys": ["cost", "owner"]})


def test_for_any_value_with_a_missing_or_empty_key_is_false() -> None:
    """Single-valued vs. multivalued context keys: ForAnyValue with no request values matches nothing."""
    condition = {"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}
    assert not holds(condition, {})
    assert not holds(condition, {"aws:TagKeys": []})


def test_for_all_values() -> None:
    """Single-valued vs. multivalued context keys: ForAllValues holds if every request value matches some policy value."""
    condition = {"ForAllValues:StringLike": {"aws:TagKeys": ["env", "team-*"]}}
    assert holds(condition, {"aws:TagKeys": ["env", "team-a"]})
    assert not holds(condition, {"aws:TagKeys": ["env", "cost"]})


def test_for_all_values_with_a_missing_or_empty_key_is_true() -> None:
    """Single-valued vs. multivalued context keys: ForAllValues "also returns true if there are no context keys in the request"."""
    condition = {"ForAllValues:StringEquals": {"aws:TagKeys": "env"}}
    assert holds(condition, {})
    assert holds(condition, {"aws:TagKeys": []})


def test_for_all_values_string_not_like_deny_example() -> None:
    """Multivalued context keys examples: Deny iam:Tag* with ForAllValues:StringNotLike aws:TagKeys "key1*"."""
    guard = deny(
        ["iam:Tag*", "iam:UnTag*"],
        Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
    )
    policies = [document(allow("iam:*"), guard)]

    def tag(*keys: str) -> Request:
        return Request("iam:TagRole", context={"aws:TagKeys": list(keys)})

    assert evaluate(tag("key1:legal"), policies) == "allow"
    assert evaluate(tag("key1:hr", "key1:personnel"), policies) == "allow"
    assert evaluate(tag("key2:audit"), policies) == "explicit-deny"
    assert evaluate(Request("iam:TagRole"), policies) == "explicit-deny"


def test_for_any_value_with_a_negated_operator() -> None:
    """Single-valued vs. multivalued context keys: ForAnyValue:StringNotEquals holds if some value matches none."""
    condition = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env", "team"]}}
    assert holds(condition, {"aws:TagKeys": ["env", "cost"]})
    assert not holds(condition, {"aws:TagKeys": ["env", "team"]})


def test_set_operator_treats_a_single_string_as_a_one_element_set() -> None:
    """Single-valued vs. multivalued context keys: a single value is a set of one for ForAnyValue/ForAllValues."""
    assert holds({"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": "env"})
    assert not holds({"ForAllValues:StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": "cost"})


def test_multivalued_key_without_a_set_operator_raises() -> None:
    """Single-valued vs. multivalued context keys: "Multivalued context keys require a condition set operator"."""
    with pytest.raises(UnsupportedCondition, match="ForAnyValue"):
        holds({"StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["env"]})


def test_multiple_values_for_one_key_are_ored() -> None:
    """Conditions with multiple context keys or values: values for one key are evaluated with OR."""
    condition = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}
    assert holds(condition, {"aws:RequestedRegion": "us-west-2"})
    assert not holds(condition, {"aws:RequestedRegion": "eu-west-1"})


def test_multiple_keys_are_anded() -> None:
    """Conditions with multiple context keys or values: keys under one operator are evaluated with AND."""
    condition = {
        "StringEquals": {"aws:RequestedRegion": "us-west-2", "aws:PrincipalTag/team": "web"}
    }
    assert holds(condition, {"aws:RequestedRegion": "us-west-2", "aws:PrincipalTag/team": "web"})
    assert not holds(condition, {"aws:RequestedRegion": "us-west-2", "aws:PrincipalTag/team": "db"})
    assert not holds(condition, {"aws:RequestedRegion": "us-west-2"})


def test_multiple_operators_are_anded() -> None:
    """Conditions with multiple context keys or values: condition operators are evaluated with AND."""
    condition = {
        "StringEquals": {"aws:RequestedRegion": "us-west-2"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    assert holds(condition, {"aws:RequestedRegion": "us-west-2", "aws:SecureTransport": True})
    assert not holds(condition, {"aws:RequestedRegion": "us-west-2", "aws:SecureTransport": False})


def test_condition_key_names_are_case_insensitive() -> None:
    """IAM JSON policy elements: Condition: condition key names are not case-sensitive."""
    assert holds({"StringEquals": {"AWS:SourceAccount": ACCOUNT}}, {"aws:sourceaccount": ACCOUNT})
    assert holds({"Null": {"AWS:SOURCEACCOUNT": "false"}}, {"aws:SourceAccount": ACCOUNT})


def test_condition_values_are_case_sensitive() -> None:
    """IAM JSON policy elements: Condition: values are case-sensitive unless the operator says IgnoreCase."""
    assert not holds(
        {"StringEquals": {"aws:PrincipalTag/team": "Web"}}, {"aws:PrincipalTag/team": "web"}
    )


def test_context_keys_differing_only_in_case_raise() -> None:
    """IAM JSON policy elements: Condition: key names are case-insensitive, so such a context is ambiguous."""
    with pytest.raises(IamEvalError):
        holds(
            {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            {"aws:SourceAccount": ACCOUNT, "AWS:SourceAccount": "x"},
        )


@pytest.mark.parametrize(
    "operator",
    [
        "NumericEquals",
        "DateGreaterThan",
        "IpAddress",
        "BinaryEquals",
        "StringNotEqualsIgnoreCase",
        "stringequals",
        "NullIfExists",
        "ForAnyValue:Null",
        "ForAllValues:Bool",
        "ForSomeValues:StringEquals",
    ],
)
def test_unsupported_operator_raises(operator: str) -> None:
    """Condition operators: operators this evaluator does not implement raise instead of guessing."""
    with pytest.raises(UnsupportedCondition):
        holds({operator: {"aws:SourceAccount": "true"}}, {"aws:SourceAccount": "true"})


def test_unsupported_operator_raises_even_when_the_statement_does_not_match() -> None:
    """Condition operators: every condition is checked, so an unsupported one cannot hide."""
    statement = allow("ec2:*", Condition={"NumericLessThan": {"ec2:Count": "3"}})
    with pytest.raises(UnsupportedCondition):
        allowed(Request("s3:GetObject"), [document(allow(), statement)])


def test_policy_variable_in_a_condition_raises() -> None:
    """IAM policy elements: Variables and tags: not supported here, so never silently matched."""
    with pytest.raises(UnsupportedPolicyVariable):
        holds(
            {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
            {"aws:PrincipalTag/team": "web"},
        )


def test_non_string_context_value_for_a_string_operator_raises() -> None:
    """Condition operators: string operators compare strings; a boolean context value is a caller error."""
    with pytest.raises(UnsupportedCondition):
        holds({"StringEquals": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True})


# Role trust policies: IAM JSON policy elements: Principal


def test_trust_federated_principal() -> None:
    """IAM JSON policy elements: Principal: {"Federated": provider} matches that identity provider."""
    key = "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub"
    document = trust(
        {"Federated": OIDC}, Condition={"StringEquals": {key: "system:serviceaccount:ns:sa"}}
    )
    web = "sts:AssumeRoleWithWebIdentity"
    document["Statement"][0]["Action"] = web
    assert (
        evaluate_trust(
            assume("Federated", OIDC, web, **{key: "system:serviceaccount:ns:sa"}), document
        )
        == "allow"
    )
    assert (
        evaluate_trust(
            assume("Federated", OIDC, web, **{key: "system:serviceaccount:ns:x"}), document
        )
        == "implicit-deny"
    )
    assert (
        evaluate_trust(
            assume("Federated", OIDC + "X", web, **{key: "system:serviceaccount:ns:sa"}), document
        )
        == "implicit-deny"
    )
    assert (
        evaluate_trust(assume("Federated", OIDC, **{key: "system:serviceaccount:ns:sa"}), document)
        == "implicit-deny"
    )


@pytest.mark.parametrize(
    "services", ["ec2.amazonaws.com", ["lambda.amazonaws.com", "ec2.amazonaws.com"]]
)
def test_trust_service_principal(services: str | list[str]) -> None:
    """IAM JSON policy elements: Principal: {"Service": name(s)} matches those service principals."""
    document = trust({"Service": services})
    assert evaluate_trust(assume("Service", "ec2.amazonaws.com"), document) == "allow"
    assert evaluate_trust(assume("Service", "ecs-tasks.amazonaws.com"), document) == "implicit-deny"
    assert (
        evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/ec2.amazonaws.com"), document)
        == "implicit-deny"
    )


@pytest.mark.parametrize("account", [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT])
def test_trust_aws_account_root_matches_any_principal_of_the_account(account: str) -> None:
    """IAM JSON policy elements: Principal: an account ARN (root) or account ID means every principal in that account."""
    document = trust({"AWS": account})
    assert evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/ci"), document) == "allow"
    assert (
        evaluate_trust(assume("AWS", f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/session"), document)
        == "allow"
    )
    assert (
        evaluate_trust(assume("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/ci"), document)
        == "implicit-deny"
    )
    assert evaluate_trust(assume("Service", ACCOUNT), document) == "implicit-deny"


def test_trust_root_of_another_partition_does_not_match() -> None:
    """IAM JSON policy elements: Principal: the root ARN names one account in one partition."""
    document = trust({"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"})
    assert (
        evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/ci"), document)
        == "implicit-deny"
    )


def test_trust_aws_role_arn_matches_exactly() -> None:
    """IAM JSON policy elements: Principal: any other AWS principal ARN must match exactly."""
    document = trust({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/ci"]})
    assert evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/ci"), document) == "allow"
    assert (
        evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/cd"), document)
        == "implicit-deny"
    )


def test_trust_wildcard_principal_matches_everyone() -> None:
    """IAM JSON policy elements: Principal: "*" means all principals."""
    assert evaluate_trust(assume("Service", "ec2.amazonaws.com"), trust("*")) == "allow"
    assert evaluate_trust(assume("Federated", OIDC), trust("*")) == "allow"


def test_trust_explicit_deny_wins() -> None:
    """Policy evaluation logic: an explicit deny in a resource-based policy overrides its allows."""
    document = trust({"Service": "ec2.amazonaws.com"})
    document["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"})
    assert evaluate_trust(assume("Service", "ec2.amazonaws.com"), document) == "explicit-deny"


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"},
            "Action": "sts:AssumeRole",
        },
        {"Effect": "Allow", "Principal": {"CanonicalUser": "abc"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
    ],
)
def test_unsupported_trust_statement_raises(statement: dict[str, Any]) -> None:
    """IAM JSON policy elements: Principal/NotPrincipal: what is not implemented raises."""
    with pytest.raises(UnsupportedPolicy):
        evaluate_trust(assume("AWS", f"arn:aws:iam::{ACCOUNT}:role/ci"), document(statement))


def test_trust_needs_a_request_principal() -> None:
    """IAM JSON policy elements: Principal: a trust policy is judged against the requesting principal."""
    with pytest.raises(IamEvalError):
        evaluate_trust(Request("sts:AssumeRole"), trust("*"))


# Malformed input


@pytest.mark.parametrize(
    "document",
    [
        {"Statement": [allow()]},
        {"Version": "2008-10-17", "Statement": [allow()]},
        document({"Effect": "Allow", "Action": "s3:GetObject"}),
        document({"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}),
        document(allow(Principal="*")),
        document(
            {"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "s3:Put*", "Resource": "*"}
        ),
    ],
)
def test_malformed_or_unsupported_identity_policy_raises(document: dict[str, Any]) -> None:
    """IAM JSON policy element reference: Version 2012-10-17, Effect, one of (Not)Action and (Not)Resource, no Principal."""
    with pytest.raises(UnsupportedPolicy):
        evaluate(Request("s3:GetObject"), [document])


@pytest.mark.parametrize("action", ["GetObject", "s3:Get*", "s3:"])
def test_request_action_must_be_a_concrete_service_action(action: str) -> None:
    """IAM JSON policy elements: Action: a request names one service-prefix:action-name."""
    with pytest.raises(IamEvalError):
        Request(action)
