"""When IAM statements allow no more than others: the rule `diff --fail-on-widening` decides by.

A policy's statements are parsed into `Statement`s whose Principal, Action and Resource are
`Patterns` (a list, or a Not-list) and whose Condition is a tuple of `Condition`s. A statement is
split into atoms, one per (principal, action, resource) of its lists (a Not-list stays whole), so
that a statement split in two, two merged into one, a reordering or a renamed Sid changes nothing.

* An Allow atom of HEAD is covered when one Allow statement of BASE covers its principal, its
  action and its resource, and every one of that statement's conditions is implied by one of the
  atom's (HEAD is at least as constrained; it may add conditions).
* A Deny atom of BASE is kept when one Deny statement of HEAD covers its principal, action and
  resource, and every one of that statement's conditions is implied by one of the atom's (HEAD's
  Deny applies at least whenever BASE's did).

Covering is decided on the patterns, never on their text, and errs one way only: what it cannot
prove covered is reported (a widening), never the reverse.

* Actions: IAM wildcards (`*` any run, `?` one character), case-insensitive.
* Resources: the same wildcards, case-sensitive, over the whole ARN (IAM lets a `*` that ends a
  segment run past its colons; a mid-segment `*` that would have to is the one case judged wider
  than IAM would, and no ARN this program writes has one). `arn:...:bucket/*` covers
  `arn:...:bucket/x/*`.
* Principals: `*` (and `{"AWS": "*"}`) covers every principal; an account (its id or its
  `:root` ARN) covers that account principal only, written either way, in its own partition:
  not a role or user of the account (a grant to the account delegates to the account's IAM
  policies, a grant to a role needs none); otherwise type and value must be equal.
* Not-lists: `NotAction [x]` covers an action no pattern of which can meet it; it is covered by
  another Not-list that excludes no more than it does, or by a plain `*`.
* Conditions: the same operator (set prefix and `IfExists` included) on the same key (keys
  case-insensitive). For positive operators the tighter condition's values are a subset of the
  looser one's (`StringLike`/`ArnLike`/`ArnEquals` by wildcard containment, `...IgnoreCase`
  folding case); for negated ones (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...) a
  superset; for every other operator (`Bool`, `Null`, numeric and date comparisons) the same
  values.

Wildcard containment is decided by matching one pattern against the other's symbols: sound, and
complete for every pattern an IAM policy normally holds (a contrived pair such as `*?` and `?*`,
equal as languages, is reported as not covered).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Kind = Literal["principal", "action", "resource"]
UNIVERSAL = "*"

_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
_POSITIVE_GLOB = frozenset({"StringLike", "ArnLike", "ArnEquals"})
_POSITIVE_EQUAL = frozenset(
    {"StringEquals", "NumericEquals", "DateEquals", "BinaryEquals", "IpAddress"}
)
_POSITIVE_FOLDED = frozenset({"StringEqualsIgnoreCase"})
_NEGATED_GLOB = frozenset({"StringNotLike", "ArnNotLike", "ArnNotEquals"})
_NEGATED_EQUAL = frozenset({"StringNotEquals", "NumericNotEquals", "DateNotEquals", "NotIpAddress"})
_NEGATED_FOLDED = frozenset({"StringNotEqualsIgnoreCase"})
_ACCOUNT_ROOT = re.compile(r"arn:[\w-]+:iam::(\d{12}):root")


class PolicyError(ValueError):
    """A policy document that is not one (no statements, an Effect other than Allow or Deny)."""


@lru_cache(maxsize=65536)
def glob_covers(wide: str, narrow: str) -> bool:
    """Whether every string `narrow` matches, `wide` matches too (`*` any run, `?` one character).

    `wide`'s `*` may stand for any run of `narrow`'s symbols, its `?` for one literal or `?`,
    its literals for themselves only."""
    # matched[j]: whether the pattern read so far from `wide` matches narrow[:j]
    matched = [True] + [False] * len(narrow)
    for symbol in wide:
        if symbol == "*":
            for j in range(1, len(narrow) + 1):
                matched[j] = matched[j] or matched[j - 1]
            continue
        matched = [False] + [
            matched[j] and other != "*" and symbol in ("?", other) for j, other in enumerate(narrow)
        ]
    return matched[-1]


@lru_cache(maxsize=65536)
def globs_meet(a: str, b: str) -> bool:
    """Whether some string matches both patterns."""
    seen = {(0, 0)}
    pending = [(0, 0)]
    while pending:
        i, j = pending.pop()
        if (i, j) == (len(a), len(b)):
            return True
        steps = []
        if i < len(a) and a[i] == "*":
            steps += [(i + 1, j), (i, j + 1)] if j < len(b) else [(i + 1, j)]
        if j < len(b) and b[j] == "*":
            steps += [(i, j + 1), (i + 1, j)] if i < len(a) else [(i, j + 1)]
        if i < len(a) and j < len(b) and "*" not in (a[i], b[j]) and _symbols_meet(a[i], b[j]):
            steps.append((i + 1, j + 1))
        for step in steps:
            if step not in seen:
                seen.add(step)
                pending.append(step)
    return False


def _symbols_meet(a: str, b: str) -> bool:
    return a == b or "?" in (a, b)


def _account(principal: str) -> tuple[str | None, str] | None:
    """The partition (None for a bare account id) and account of a principal `AWS:<id or ARN>`."""
    kind, _, value = principal.partition(":")
    if kind != "AWS":
        return None
    if re.fullmatch(r"\d{12}", value):
        return None, value
    parts = value.split(":", 5)
    return (parts[1], parts[4]) if len(parts) == 6 and parts[0] == "arn" else None


def _is_account(principal: str) -> bool:
    """`AWS:<12 digits>` or `AWS:arn:<partition>:iam::<12 digits>:root`: the whole account."""
    value = principal.removeprefix("AWS:")
    return value != principal and bool(
        re.fullmatch(r"\d{12}", value) or _ACCOUNT_ROOT.fullmatch(value)
    )


def _account_covers(wide: str, narrow: str) -> bool:
    """An account principal (its id, or its `:root` ARN) covers that account principal only,
    written either way (a bare id: of the policy's partition, whichever it is). It does not
    cover a role or user of the account: a resource policy's grant to the account only
    delegates to the account's IAM policies, while a grant to a role needs none."""
    wide_account, narrow_account = _account(wide), _account(narrow)
    if not (_is_account(wide) and _is_account(narrow)) or not wide_account or not narrow_account:
        return False
    (wide_partition, wide_id), (narrow_partition, narrow_id) = wide_account, narrow_account
    partitions = {wide_partition, narrow_partition} - {None}
    return wide_id == narrow_id and len(partitions) <= 1


def pattern_covers(kind: Kind, wide: str, narrow: str) -> bool:
    if wide == UNIVERSAL:
        return True
    if kind == "action":
        return glob_covers(wide.lower(), narrow.lower())
    if kind == "resource":
        return glob_covers(wide, narrow)
    return wide == narrow or _account_covers(wide, narrow)


def patterns_meet(kind: Kind, a: str, b: str) -> bool:
    if kind == "action":
        return globs_meet(a.lower(), b.lower())
    if kind == "resource":
        return globs_meet(a, b)
    return pattern_covers(kind, a, b) or pattern_covers(kind, b, a)


@dataclass(frozen=True, order=True)
class Patterns:
    """A Principal, Action or Resource element: its patterns, or (`negated`) all but them."""

    kind: Kind
    negated: bool
    patterns: tuple[str, ...]

    def covers(self, other: Patterns) -> bool:
        """Whether everything `other` matches, this matches too."""
        if not self.negated and not other.negated:
            return all(any(pattern_covers(self.kind, w, n) for w in self.patterns) for n in other)
        if not self.negated:
            return UNIVERSAL in self.patterns
        if not other.negated:
            return not any(patterns_meet(self.kind, x, n) for x in self.patterns for n in other)
        return all(any(pattern_covers(self.kind, n, x) for n in other) for x in self.patterns)

    def __iter__(self) -> Iterator[str]:
        return iter(self.patterns)

    def singles(self) -> Iterator[Patterns]:
        """One `Patterns` per pattern; a Not-list stays whole."""
        if self.negated:
            yield self
        else:
            for pattern in self.patterns:
                yield Patterns(self.kind, False, (pattern,))


@dataclass(frozen=True, order=True)
class Condition:
    """One operator on one key, with its values (OR-ed)."""

    operator: str
    key: str
    values: tuple[str, ...]

    def same_test(self, other: Condition) -> bool:
        """The same operator on the same key (condition keys are case-insensitive)."""
        return (self.operator, self.key.lower()) == (other.operator, other.key.lower())

    def __str__(self) -> str:
        return f"{self.operator} {self.key} {' | '.join(self.values)}"


def _base_operator(operator: str) -> str:
    for prefix in _SET_PREFIXES:
        operator = operator.removeprefix(prefix)
    return operator.removesuffix("IfExists")


def implies(tight: Condition, loose: Condition) -> bool:
    """Whether every request `tight` lets through, `loose` lets through too."""
    if not tight.same_test(loose):
        return False
    base = _base_operator(tight.operator)
    if base in _POSITIVE_GLOB:
        return all(any(glob_covers(w, n) for w in loose.values) for n in tight.values)
    if base in _NEGATED_GLOB:
        return all(any(glob_covers(w, n) for w in tight.values) for n in loose.values)
    if base in _POSITIVE_EQUAL:
        return set(tight.values) <= set(loose.values)
    if base in _NEGATED_EQUAL:
        return set(tight.values) >= set(loose.values)
    if base in _POSITIVE_FOLDED:
        return {v.lower() for v in tight.values} <= {v.lower() for v in loose.values}
    if base in _NEGATED_FOLDED:
        return {v.lower() for v in tight.values} >= {v.lower() for v in loose.values}
    return set(tight.values) == set(loose.values)


def conditions_imply(tight: tuple[Condition, ...], loose: tuple[Condition, ...]) -> bool:
    """Whether the conditions `tight` (ANDed) imply every condition of `loose`."""
    return all(any(implies(t, lo) for t in tight) for lo in loose)


@dataclass(frozen=True)
class Statement:
    """One statement, where it came from (`source`: a policy's label) and its elements."""

    source: str
    effect: str
    principals: Patterns | None
    actions: Patterns
    resources: Patterns
    conditions: tuple[Condition, ...]

    def atoms(self) -> Iterator[Atom]:
        principals = [None] if self.principals is None else list(self.principals.singles())
        for principal in principals:
            for action in self.actions.singles():
                for resource in self.resources.singles():
                    yield Atom(self, principal, action, resource)

    def reaches(self, atom: Atom, upto: Kind = "resource") -> bool:
        """Whether this statement's elements cover the atom's, up to `upto`, conditions aside."""
        principals, principal = self.principals, atom.principal
        if principals is not None and principal is not None and not principals.covers(principal):
            return False
        if upto == "principal":
            return True
        if not self.actions.covers(atom.action):
            return False
        return upto == "action" or self.resources.covers(atom.resource)

    def canonical(self) -> str:
        """The statement as text that ignores order and where it came from (for "changed")."""
        return json.dumps(
            [
                self.effect,
                None if self.principals is None else _canonical(self.principals),
                _canonical(self.actions),
                _canonical(self.resources),
                sorted([c.operator, c.key.lower(), sorted(c.values)] for c in self.conditions),
            ]
        )


def _canonical(patterns: Patterns) -> list[Any]:
    return [patterns.negated, sorted(set(patterns.patterns))]


@dataclass(frozen=True)
class Atom:
    """One (principal, action, resource) of a statement; the statement carries the conditions."""

    statement: Statement
    principal: Patterns | None
    action: Patterns
    resource: Patterns


def allow_covered(atom: Atom, allows: list[Statement]) -> bool:
    """Whether some Allow statement of `allows` lets through every request the atom does."""
    return any(
        s.reaches(atom) and conditions_imply(atom.statement.conditions, s.conditions)
        for s in allows
    )


def deny_kept(atom: Atom, denies: list[Statement]) -> bool:
    """Whether some Deny statement of `denies` refuses every request the atom (a Deny) did."""
    return any(
        s.reaches(atom) and conditions_imply(atom.statement.conditions, s.conditions)
        for s in denies
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{where} must be a string or a non-empty list of strings")
    return tuple(values)


def _condition_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return value
    raise PolicyError(f"{where}: condition values must be strings, numbers or booleans")


def _conditions(block: Any, where: str) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    found: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            raise PolicyError(f"{where}: Condition {operator} must map keys to values")
        for key, value in keys.items():
            values = value if isinstance(value, list) else [value]
            parsed = sorted({_condition_value(v, where) for v in values})
            found.append(Condition(str(operator), str(key), tuple(parsed)))
    return tuple(sorted(found))


def _principals(statement: Mapping[str, Any], where: str) -> Patterns | None:
    for element, negated in (("Principal", False), ("NotPrincipal", True)):
        if element not in statement:
            continue
        value = statement[element]
        if value == UNIVERSAL:
            return Patterns("principal", negated, (UNIVERSAL,))
        if not isinstance(value, Mapping) or not value:
            raise PolicyError(f'{where}: {element} must be "*" or an object')
        found = set()
        for kind, names in value.items():
            for name in _strings(names, f"{where}: {element} {kind}"):
                found.add(UNIVERSAL if kind == "AWS" and name == UNIVERSAL else f"{kind}:{name}")
        return Patterns("principal", negated, tuple(sorted(found)))
    return None


def _element(statement: Mapping[str, Any], kind: Kind, name: str, where: str) -> Patterns:
    for element, negated in ((name, False), (f"Not{name}", True)):
        if element in statement:
            values = _strings(statement[element], f"{where}: {element}")
            return Patterns(kind, negated, tuple(sorted(set(values))))
    # A trust policy names no resource: the statement is about the role itself.
    return Patterns(kind, False, (UNIVERSAL,))


def parse_document(document: Any, source: str, *, principals: bool) -> tuple[Statement, ...]:
    """A policy document (its JSON text or its object) as statements labelled `source`.

    `principals`: a resource policy or trust policy, whose statements name who they apply to."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"{source}: not a JSON document ({error.msg})") from None
    if not isinstance(document, Mapping):
        raise PolicyError(f"{source}: a policy document must be a JSON object")
    raw = document.get("Statement", [])
    raw = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw, list):
        raise PolicyError(f"{source}: Statement must be an object or a list")
    statements = []
    for index, statement in enumerate(raw):
        where = f"{source}, statement {index + 1}"
        if not isinstance(statement, Mapping):
            raise PolicyError(f"{where}: a statement must be an object")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"{where}: Effect must be Allow or Deny (got {effect!r})")
        principal = _principals(statement, where)
        if principals and principal is None:
            raise PolicyError(f"{where}: a statement of this policy must name a Principal")
        statements.append(
            Statement(
                source=source,
                effect=effect,
                principals=principal,
                actions=_element(statement, "action", "Action", where),
                resources=_element(statement, "resource", "Resource", where),
                conditions=_conditions(statement.get("Condition"), where),
            )
        )
    return tuple(statements)
