"""A small offline evaluator for AWS IAM requests, for tests only.

It implements this subset of the AWS IAM User Guide, and raises `IamEvalError` (or a subclass) on
anything outside it, so that a test can never pass by accident:

* "Policy evaluation logic" for one account's identity-based policies, with "Permissions
  boundaries for IAM entities"; a role trust policy on its own (`evaluate_trust`). No SCPs, RCPs,
  session policies or other resource-based policies.
* Action/NotAction, Resource/NotResource, Principal ("*", AWS, Service, Federated) and Condition
  with the operators in `_MATCHERS` plus Null, `...IfExists`, `ForAnyValue:`, `ForAllValues:`.
* Not supported (raises): policy variables `${...}`, NotPrincipal, wildcards in a Principal, any
  other condition operator, any policy Version but 2012-10-17.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.support.policies import iam_match

Decision = Literal["allow", "implicit-deny", "explicit-deny"]


class IamEvalError(ValueError):
    """A policy or request this evaluator cannot judge faithfully."""


class UnsupportedCondition(IamEvalError):  # noqa: N818 (public API names)
    """A condition operator, or a use of one, that this evaluator does not implement."""


class UnsupportedPolicyVariable(IamEvalError):  # noqa: N818 (public API names)
    """A `${...}` policy variable; this evaluator never substitutes them."""


class UnsupportedPolicy(IamEvalError):  # noqa: N818 (public API names)
    """A policy element this evaluator does not implement, or a malformed policy."""


_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated"})
_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_MISSING: Any = object()


@dataclass(frozen=True)
class Request:
    """One request: an action on a resource, with its request context (and principal)."""

    action: str
    resource: str = "*"
    context: Mapping[str, Any] = field(default_factory=dict)
    principal: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        service, _, name = self.action.partition(":")
        if not (service and name) or any(c in self.action for c in "*?"):
            raise IamEvalError(f"request action must be 'service:Action', got {self.action!r}")
        if self.principal is not None and not (
            len(self.principal) == 1 and set(self.principal) <= _PRINCIPAL_TYPES
        ):
            raise IamEvalError(f"request principal must be one of {sorted(_PRINCIPAL_TYPES)}")


def _strings(value: Any, what: str) -> list[str]:
    """A policy element that is a string or a non-empty list of strings, as a list.

    Policy variables (`${...}`) are never substituted: any value holding one raises."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise UnsupportedPolicy(f"{what} must be a string or a non-empty list of strings")
    for v in values:
        if "${" in v:
            raise UnsupportedPolicyVariable(f"policy variables are not supported: {v!r}")
    return values


def _bool_literal(value: Any) -> str:
    """Condition operators > Boolean: "true"/"false" in any case, or a JSON/context boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    raise UnsupportedCondition(f"not a boolean: {value!r}")


def _arn_matches(pattern: str, value: str) -> bool:
    """Condition operators > ARN: each of the six colon-separated parts is matched separately,
    case-sensitively, with `*` and `?` wildcards inside a part (never across a colon)."""
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise UnsupportedCondition(f"ARN operator value is not a six-part ARN: {pattern!r}")
    values = value.split(":", 5)
    return len(values) == 6 and all(map(iam_match, parts, values))


# (policy value, context value) -> match. A negated operator is true when no policy value matches
# ("Conditions with multiple context keys or values": negated operators combine values with NOR).
_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    **dict.fromkeys(("StringEquals", "StringNotEquals", "Bool"), str.__eq__),
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    **dict.fromkeys(("StringLike", "StringNotLike"), iam_match),
    **dict.fromkeys(("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"), _arn_matches),
}
_NEGATED = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


def _parse_operator(operator: str) -> tuple[str, str, bool]:
    """Split `ForAnyValue:StringLikeIfExists` into ("ForAnyValue", "StringLike", True).

    Null takes neither suffix nor prefix, and Bool takes no set operator."""
    set_op, _, rest = operator.rpartition(":")
    base = rest.removesuffix("IfExists")
    if_exists = base != rest
    if base == "Null":
        known = not (if_exists or set_op)
    else:
        known = base in _MATCHERS and not (base == "Bool" and set_op)
    if not known or set_op not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedCondition(f"unsupported condition operator {operator!r}")
    return set_op, base, if_exists


def _policy_values(operator: str, base: str, value: Any) -> list[str]:
    """The condition's values for one key: strings, or booleans for Bool and Null."""
    values = value if isinstance(value, list) else [value]
    if base in ("Bool", "Null"):
        values = [_bool_literal(v) if isinstance(v, bool) else v for v in values]
        return [_bool_literal(v) for v in _strings(values, f"{operator} value")]
    return _strings(values, f"{operator} value")


def _value_matches(base: str, value: Any, patterns: list[str]) -> bool:
    """One context value against the policy values: OR for positive operators, NOR for negated."""
    if base == "Bool":
        value = _bool_literal(value)
    elif not isinstance(value, str):
        raise UnsupportedCondition(f"{base} needs a string context value, got {value!r}")
    hit = any(_MATCHERS[base](pattern, value) for pattern in patterns)
    return not hit if base in _NEGATED else hit


def _condition_holds(operator: str, key: str, value: Any, context: Mapping[str, Any]) -> bool:
    """IAM JSON policy elements: Condition operators, with their documented edge cases:

    * A key missing from the request context: "the values do not match and the condition is false.
      If the policy condition requires that the key is not matched, such as StringNotLike or
      ArnNotLike, and the right key is not present, the condition is true. This logic applies to
      all condition operators except ...IfExists and Null check." So a missing key makes positive
      operators false and negated ones true; with "Condition operators ... IfExists" it is true.
    * "Single-valued vs. multivalued context keys": "Multivalued context keys require a condition
      set operator", so a list context value without ForAnyValue/ForAllValues raises. A string
      under a set operator is a one-element set. ForAllValues is true when the key is missing or
      its set is empty ("also returns true if there are no context keys"); ForAnyValue is false.
    * Null: "true" holds when the key is absent (missing or an empty set), "false" when present.
    """
    set_op, base, if_exists = _parse_operator(operator)
    patterns = _policy_values(operator, base, value)
    raw = context.get(key.lower(), _MISSING)
    if base == "Null":
        return ("true" if raw is _MISSING or raw == [] else "false") in patterns
    if not set_op and isinstance(raw, list):
        raise UnsupportedCondition(f"{key!r} is multivalued: use ForAnyValue:/ForAllValues:")
    values = [] if raw is _MISSING else raw if isinstance(raw, list) else [raw]
    if not values:
        return if_exists or set_op == "ForAllValues" or (not set_op and base in _NEGATED)
    results = [_value_matches(base, v, patterns) for v in values]
    return any(results) if set_op == "ForAnyValue" else all(results)


def _conditions_hold(block: Any, context: Mapping[str, Any]) -> bool:
    """Conditions with multiple context keys or values: operators AND, keys AND, values OR.

    Every condition is evaluated (no short-circuit), so an unsupported one always raises."""
    if not isinstance(block, Mapping):
        raise UnsupportedPolicy("Condition must be an object")
    results = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping) or not keys:
            raise UnsupportedPolicy(f"Condition operator {operator!r} must map keys to values")
        results += [_condition_holds(operator, k, v, context) for k, v in keys.items()]
    return all(results)


def _action_matches(pattern: str, action: str) -> bool:
    """IAM JSON policy elements: Action: case-insensitive, wildcards in the action name only."""
    if pattern == "*":
        return True
    service, sep, name = pattern.partition(":")
    if not sep or any(c in service for c in "*?"):
        raise UnsupportedPolicy(f"action must be '*' or 'service:action', got {pattern!r}")
    request_service, _, request_name = action.partition(":")
    same_service = service.lower() == request_service.lower()
    return same_service and iam_match(name, request_name, ignore_case=True)


def _aws_principal_matches(spec: str, arn: str) -> bool:
    """IAM JSON policy elements: Principal: an account id or `arn:PARTITION:iam::ACCOUNT:root`
    stands for every principal of that account; any other value must equal the request's ARN."""
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else None
    if re.fullmatch(r"\d{12}", spec):
        return spec == account
    root = re.fullmatch(r"arn:([\w-]+):iam::(\d{12}):root", spec)
    if root:
        return account is not None and (parts[1], account) == root.groups()
    return spec == arn


def _principal_matches(spec: Any, principal: Mapping[str, str]) -> bool:
    """Principal "*" matches everyone; {"AWS"|"Service"|"Federated": value(s)} matches a request
    principal of that type whose value matches one of the values."""
    if spec == "*":
        return True
    if not isinstance(spec, Mapping) or not spec or not set(spec) <= _PRINCIPAL_TYPES:
        raise UnsupportedPolicy(f"unsupported Principal {spec!r}")
    ((kind, value),) = principal.items()
    results = []
    for spec_kind, spec_values in spec.items():
        for spec_value in _strings(spec_values, f"Principal {spec_kind}"):
            if any(c in spec_value for c in "*?"):
                raise UnsupportedPolicy(f"wildcards in Principal are not supported: {spec_value!r}")
            if spec_kind == kind == "AWS":
                results.append(_aws_principal_matches(spec_value, value))
            else:
                results.append(spec_kind == kind and spec_value == value)
    return any(results)


def _statement_applies(
    statement: Any, request: Request, ctx: Mapping[str, Any], trust: bool
) -> bool:
    """Whether one statement matches the request: Principal, (Not)Action, (Not)Resource, Condition.

    NotAction/NotResource match every action/resource except the listed ones."""
    if not isinstance(statement, Mapping) or not set(statement) <= _ELEMENTS:
        raise UnsupportedPolicy(f"unsupported statement elements in {statement!r}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"Effect must be Allow or Deny in {statement!r}")
    actions = [k for k in ("Action", "NotAction") if k in statement]
    resources = [k for k in ("Resource", "NotResource") if k in statement]
    if len(actions) != 1 or len(resources) != (0 if trust else 1):
        raise UnsupportedPolicy(f"need one Action/NotAction and the right Resource in {statement}")
    if ("Principal" in statement) != trust:
        raise UnsupportedPolicy("Principal belongs in trust policies, and only there")
    matched = [_conditions_hold(statement.get("Condition", {}), ctx)]
    if trust:
        matched.append(_principal_matches(statement["Principal"], request.principal or {}))
    action_patterns = _strings(statement[actions[0]], actions[0])
    action_hit = any(_action_matches(p, request.action) for p in action_patterns)
    matched.append(action_hit == (actions[0] == "Action"))
    if not trust:
        resource_patterns = _strings(statement[resources[0]], resources[0])
        resource_hit = any(iam_match(p, request.resource) for p in resource_patterns)
        matched.append(resource_hit == (resources[0] == "Resource"))
    return all(matched)


def _effects(policy: Any, request: Request, ctx: Mapping[str, Any], trust: bool) -> set[str]:
    """The Effects of the policy's statements that match the request."""
    if not isinstance(policy, Mapping) or not set(policy) <= {"Version", "Id", "Statement"}:
        raise UnsupportedPolicy(f"unsupported policy document {policy!r}")
    if policy.get("Version") != "2012-10-17":
        raise UnsupportedPolicy("only policy Version 2012-10-17 is supported")
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, Mapping) else statements
    if not isinstance(statements, list) or not statements:
        raise UnsupportedPolicy("Statement must be an object or a non-empty list")
    applies = [_statement_applies(s, request, ctx, trust) for s in statements]
    return {s["Effect"] for s, hit in zip(statements, applies, strict=True) if hit}


def _folded_context(request: Request) -> dict[str, Any]:
    """IAM JSON policy elements: Condition: condition key names are not case-sensitive."""
    folded: dict[str, Any] = {}
    for key, value in request.context.items():
        strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not (strings or isinstance(value, str | bool)) or key.lower() in folded:
            raise IamEvalError(f"context key {key!r}: duplicate, or not str | bool | list[str]")
        folded[key.lower()] = value
    return folded


def evaluate(
    request: Request,
    identity_policies: Sequence[Mapping[str, Any]],
    *,
    boundary: Mapping[str, Any] | None = None,
) -> Decision:
    """Policy evaluation logic for one account's identity-based policies: an explicit Deny in any
    of them or in the boundary wins; otherwise allowed only if some identity policy allows and,
    per "Permissions boundaries for IAM entities", the boundary (if any) allows too."""
    ctx = _folded_context(request)
    identity = [_effects(p, request, ctx, False) for p in identity_policies]
    limits = [] if boundary is None else [_effects(boundary, request, ctx, False)]
    if any("Deny" in effects for effects in identity + limits):
        return "explicit-deny"
    if any("Allow" in e for e in identity) and all("Allow" in e for e in limits):
        return "allow"
    return "implicit-deny"


def evaluate_trust(request: Request, trust_policy: Mapping[str, Any]) -> Decision:
    """A role trust policy, a resource-based policy, on its own (Policy evaluation logic): a
    matching Deny wins, then a matching Allow; a statement must also match the Principal."""
    if request.principal is None:
        raise IamEvalError("evaluate_trust needs a request principal")
    effects = _effects(trust_policy, request, _folded_context(request), True)
    if "Deny" in effects:
        return "explicit-deny"
    return "allow" if "Allow" in effects else "implicit-deny"


def allowed(
    request: Request,
    identity_policies: Sequence[Mapping[str, Any]],
    *,
    boundary: Mapping[str, Any] | None = None,
) -> bool:
    """`evaluate(...) == "allow"`."""
    return evaluate(request, identity_policies, boundary=boundary) == "allow"
