"""What the rules see: resources as plain values, the stack around them, and the rule types.

The rules never touch `pulumi_policy` or a plan file: the pack's adapter (`__main__.py`) and the
offline check (`plan.py`) turn what they are given into `Resource`s, and each marks a value it
cannot see as `Opaque`: unknown until the resource exists (a preview of a new stack), or a
secret the plan does not show. A rule that needs such a value raises `NotKnownError` through
`Resource.get`; the runner (`evaluate`) records the rule as not checked on that resource, keeps
whatever the rule found before, and goes on with the next resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Opaque:
    """A value the rules cannot see, and why."""

    why: str


UNKNOWN = Opaque("is unknown until the resources it depends on exist")
HIDDEN = Opaque("is a secret the plan does not show")


class NotKnownError(Exception):
    """A rule needed a value it cannot see."""

    def __init__(self, path: str, value: Opaque) -> None:
        super().__init__(f"{path} {value.why}")
        self.path = path
        self.value = value


PropertyPath = tuple[str | int, ...]


def _path_text(path: PropertyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def require_known(value: Any, path: PropertyPath) -> Any:
    """`value`, once nothing inside it is opaque; else `NotKnownError` naming where."""
    if isinstance(value, Opaque):
        raise NotKnownError(_path_text(path), value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            require_known(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            require_known(item, (*path, index))
    return value


@dataclass(frozen=True)
class Resource:
    """One resource of the stack: its type token, URN and properties (the engine's camelCase).

    `property_dependencies` maps a property to the URNs its value came from: how a bucket's
    versioning is tied to its bucket when the bucket's name is not known yet.
    """

    type: str
    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def peek(self, *path: str | int) -> Any:
        """The value at `path` as it is, opaque or not; None where the path ends early.
        `NotKnownError` only if a value above it is opaque."""
        value: Any = self.props
        for depth, part in enumerate(path):
            if isinstance(value, Opaque):
                raise NotKnownError(_path_text(path[:depth]), value)
            if isinstance(part, int):
                if not isinstance(value, list) or not -len(value) <= part < len(value):
                    return None
                value = value[part]
            else:
                if not isinstance(value, Mapping):
                    return None
                value = value.get(part)
        return value

    def get(self, *path: str | int) -> Any:
        """The value at `path` (keys and list indexes), or None where the path ends early;
        `NotKnownError` if it, or anything inside it, is opaque."""
        return require_known(self.peek(*path), path)

    def items(self, *path: str | int) -> list[Any]:
        """The list at `path` (a missing one is empty; a lone object is a list of one). Only the
        list itself must be known: read its items with `get(*path, index)`."""
        value = self.peek(*path)
        if isinstance(value, Opaque):
            raise NotKnownError(_path_text(path), value)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def document(self, *path: str | int) -> Any:
        """The JSON document at `path` (a policy is a JSON string on the wire, or an object);
        None when absent. `json.JSONDecodeError` when a string is not JSON."""
        value = self.get(*path)
        if isinstance(value, str):
            return json.loads(value)
        return value


@contextmanager
def reading(resource: Resource) -> Iterator[Resource]:
    """Reads of another resource than the one judged: a `NotKnownError` names that resource."""
    try:
        yield resource
    except NotKnownError as error:
        raise NotKnownError(f"{error.path} of {resource.urn}", error.value) from None


class Stack:
    """Every resource of a stack, for rules that judge one resource by others."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = tuple(resources)

    def of_type(self, types: Collection[str]) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def referring_to(
        self, subject: Resource, types: Collection[str], key: str, subject_key: str
    ) -> list[Resource]:
        """The resources of `types` whose `key` names `subject` (`_names`): a bucket's
        encryption, a role's attachments. `NotKnownError` when none does but one could, a value
        being opaque."""
        return self._decide(
            (other, _names(other, key, subject, subject_key)) for other in self.of_type(types)
        )

    def referred_by(
        self, subject: Resource, key: str, types: Collection[str], other_key: str
    ) -> list[Resource]:
        """The resources of `types` that `subject`'s `key` names (`_names`): the role of an
        attachment. `NotKnownError` when none is named but one could be, a value being opaque."""
        return self._decide(
            (other, _names(subject, key, other, other_key)) for other in self.of_type(types)
        )

    @staticmethod
    def _decide(verdicts: Iterable[tuple[Resource, bool | NotKnownError]]) -> list[Resource]:
        found: list[Resource] = []
        undecided: NotKnownError | None = None
        for other, verdict in verdicts:
            if verdict is True:
                found.append(other)
            elif isinstance(verdict, NotKnownError) and undecided is None:
                undecided = verdict
        if not found and undecided is not None:
            raise undecided
        return found


def _known(value: Any) -> bool:
    return value is not None and not isinstance(value, Opaque)


def _names(holder: Resource, key: str, target: Resource, target_key: str) -> bool | NotKnownError:
    """Whether `holder`'s `key` names `target` (its `target_key`: a bucket's name, a role's).

    Names both sides know decide: the same, or not (a property dependency on the target does not
    make another bucket's name its own). Only when one is opaque does a property dependency
    decide: on `target`, the value came from it; on other resources only, from them. With
    neither, undecided: the `NotKnownError` returned names the opaque value."""
    value, own = holder.props.get(key), target.props.get(target_key)
    if _known(value) and _known(own):
        return bool(value == own)
    if value is None:
        return False
    sources = holder.property_dependencies.get(key, ())
    if sources:
        return target.urn in sources
    if isinstance(value, Opaque):
        return NotKnownError(f"{key} of {holder.urn}", value)
    if isinstance(own, Opaque):
        return NotKnownError(f"{target_key} of {target.urn}", own)
    return False


@dataclass(frozen=True)
class ResourceRule:
    """A rule on each resource of `types`, from its own properties (the pack's
    `ResourceValidationPolicy`: it runs on a resource's inputs before it is created or
    changed). `check` yields one message per violation."""

    name: str
    description: str
    types: frozenset[str]
    check: Callable[[Resource], Iterator[str]]


@dataclass(frozen=True)
class StackRule:
    """A rule on each resource of `types` that needs others of the stack (a bucket's
    encryption is a resource of its own): the pack's `StackValidationPolicy`."""

    name: str
    description: str
    types: frozenset[str]
    check: Callable[[Resource, Stack], Iterator[str]]


Rule = ResourceRule | StackRule


NOT_CHECKED = "not checked: "


@dataclass(frozen=True, order=True)
class Finding:
    """A violation of `rule` by the resource `urn`, or (`unchecked`) a rule that could not
    judge the resource, `message` naming the value it could not see."""

    rule: str
    urn: str
    message: str
    unchecked: bool = False


def evaluate(rule: Rule, resource: Resource, stack: Stack | None = None) -> list[Finding]:
    """What `rule` finds on `resource`: its violations, then `unchecked` if it stopped at a
    value it cannot see (violations found before that are kept)."""
    if resource.type not in rule.types:
        return []
    messages: Iterator[str]
    if isinstance(rule, StackRule):
        messages = rule.check(resource, stack if stack is not None else Stack([resource]))
    else:
        messages = rule.check(resource)
    findings: list[Finding] = []
    try:
        for message in messages:
            findings.append(Finding(rule.name, resource.urn, message))
    except NotKnownError as error:
        findings.append(Finding(rule.name, resource.urn, f"{NOT_CHECKED}{error}", unchecked=True))
    except json.JSONDecodeError as error:  # IAM or S3 would refuse the document too
        findings.append(Finding(rule.name, resource.urn, f"a policy is not JSON: {error}"))
    return findings


def evaluate_stack(rules: Iterable[Rule], resources: Iterable[Resource]) -> list[Finding]:
    """Every rule on every resource of its types, sorted by rule, URN and message."""
    stack = Stack(resources)
    findings = [
        finding
        for rule in rules
        for resource in stack.of_type(rule.types)
        for finding in evaluate(rule, resource, stack)
    ]
    return sorted(findings)
