"""`python -m offline_preview diff BASE.json HEAD.json [--fail-on-widening]`: what two plans'
IAM allows differently, as markdown a pull-request comment can carry.

Both files are plans printed by `python -m offline_preview --stack S --format json`. Every role
and resource policy (`offline_preview.iam_plan`) is compared: the policies added, removed or
changed (inline, customer-managed, AWS-managed ARNs, permissions boundary), the principals,
actions, resources and conditions added or removed, and the requests HEAD allows that BASE did
not (widening) or BASE allowed that HEAD does not (narrowing). Identical IAM prints
`No IAM changes.`; statements reordered, lists reordered and Sids renamed are no change.

Widening is decided on what the statements mean (`offline_preview.iam_rules`), per role (or
resource policy), never on their text:

* HEAD's Allow statements must each be covered, per (principal, action, resource), by one
  Allow statement of BASE's same role (its identity policies together, or its trust policy)
  whose conditions HEAD's statement all keeps (HEAD at least as constrained). So a new action,
  a wider resource, a removed or looser condition and a new principal are widening; a statement
  split in two, two merged, a moved statement or a renamed Sid are not.
* Each of BASE's Deny statements must be kept by a HEAD Deny at least as broad (whose
  conditions BASE's imply): a removed or narrowed Deny is widening, even where no Allow reaches
  what it denied (a Deny guards against the next Allow). So is a bucket policy removed from a
  bucket that stays.
* A new role is widening; so is a newly attached policy whose statements the plan does not
  carry (an AWS-managed ARN), a removed permissions boundary, and a changed boundary unless both
  boundaries are policies of the plan and HEAD's allows no more. A customer-managed policy of
  the plan is judged by its statements, like any other.
* The permissions boundary is compared on its own: a widening of a role's identity policies is
  reported even where its boundary would stop it.
* Anything the other way round is narrowing: listed, never a failure. A removed role or
  resource is narrowing.

Plans of different partitions or accounts are compared as they are: ARNs are not rewritten (a
rewrite would hide an ARN built with the wrong partition, the very change to see), so two
stacks' plans differ in every role, each removed and another added. Compare two plans of one
stack: the base branch's and the pull request's.

Exit codes: 0 compared (and, with `--fail-on-widening`, nothing widened); 1 with
`--fail-on-widening` when HEAD widens anything (each widening also on stderr, one a line, naming
the role or resource and the actions); 2 a file that is not a readable plan (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from offline_preview.iam_plan import TRUST, Entry, PlanError, PlanIam, load_plan_iam
from offline_preview.iam_rules import (
    Atom,
    Condition,
    Kind,
    Patterns,
    Statement,
    allow_covered,
    deny_kept,
    implies,
)

EXIT_WIDENING = 1
EXIT_UNREADABLE = 2
NO_CHANGES = "No IAM changes."
FACETS = ("principals", "actions", "resources", "conditions")

_WIDER = {
    "principal": "a new principal",
    "action": "a new action",
    "resource": "a wider resource",
    "condition": "a looser condition",
}
_NARROWER = {
    "principal": "a principal removed",
    "action": "an action removed",
    "resource": "a narrower resource",
    "condition": "a tighter condition",
}


def code(text: str) -> str:
    """Markdown inline code that survives a backtick inside."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _in_order(lines: Iterable[str]) -> list[str]:
    """Sorted as read, markup aside (`x-default` before `x-default-read`), then as written."""
    return sorted(lines, key=lambda line: (line.replace("`", ""), line))


def _principal(pattern: str) -> str:
    kind, _, value = pattern.partition(":")
    return code(f"{kind} {value}" if value else pattern)


def _shown(patterns: Patterns) -> str:
    show = _principal if patterns.kind == "principal" else code
    listed = ", ".join(show(p) for p in patterns)
    return f"all but {listed}" if patterns.negated else listed


@dataclass
class EntryDiff:
    """What changed in one role or resource policy."""

    entry: Entry
    widening: list[str] = field(default_factory=list)
    narrowing: list[str] = field(default_factory=list)
    changes: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.widening or self.narrowing or self.changes)


def _missing_conditions(
    kept: tuple[Condition, ...], required: tuple[Condition, ...], wider: bool
) -> list[str]:
    """`required`'s conditions that `kept` does not imply, worded for the direction."""
    words = []
    for needed in required:
        if any(implies(k, needed) for k in kept):
            continue
        same = [k for k in kept if k.same_test(needed)]
        if not same:
            words.append(f"{code(str(needed))} {'dropped' if wider else 'added'}")
        elif wider:
            words.append(f"{code(str(needed))} loosened to {code(str(same[0]))}")
        else:
            words.append(f"{code(str(same[0]))} tightened to {code(str(needed))}")
    return words


def _reason(atom: Atom, others: list[Statement], wider: bool) -> str:
    """Why no statement of `others` covers the allowed atom."""
    words = _WIDER if wider else _NARROWER
    candidates = others
    levels: tuple[Kind, ...] = ("principal", "action", "resource")
    for level in levels[atom.principal is None :]:
        candidates = [s for s in candidates if s.reaches(atom, level)]
        if not candidates:
            return words[level]
    conditions = atom.statement.conditions
    missing = [_missing_conditions(conditions, s.conditions, wider) for s in candidates]
    fewest = sorted(missing, key=lambda listed: (len(listed), listed))[0]
    return f"{words['condition']}: {', '.join(fewest)}"


def _deny_reason(atom: Atom, others: list[Statement], wider: bool) -> str:
    if any(s.reaches(atom) for s in others):
        return "denied in fewer cases" if wider else "denied in more cases"
    return "no longer denied" if wider else "newly denied"


def _findings(atoms: Iterable[Atom], reason: Callable[[Atom], str], trust: bool) -> list[str]:
    """Atoms worded one line per (policy, principal, resource, reason), their actions together."""
    grouped: dict[tuple[str, str, str, str, bool], list[str]] = {}
    for atom in atoms:
        statement = atom.statement
        who = "" if atom.principal is None else f"{_shown(atom.principal)} "
        effect = ("may " if who else "") if statement.effect == "Allow" else "may not "
        what = "" if trust else f" on {_shown(atom.resource)}"
        why = reason(atom)
        if statement.conditions and "condition" not in why:
            listed = ", ".join(code(str(c)) for c in statement.conditions)
            why += f" (when {listed})"
        key = (statement.source, who + effect, what, why, atom.action.negated)
        grouped.setdefault(key, []).extend(atom.action)
    return _in_order(
        f"{source}: {who}{_shown(Patterns('action', negated, tuple(sorted(set(actions)))))}"
        f"{what}: {why}"
        for (source, who, what, why, negated), actions in grouped.items()
    )


def _compare_statements(
    base: list[Statement], head: list[Statement], trust: bool, diff: EntryDiff
) -> None:
    def split(statements: list[Statement], effect: str) -> list[Statement]:
        return [s for s in statements if s.effect == effect]

    base_allows, head_allows = split(base, "Allow"), split(head, "Allow")
    base_denies, head_denies = split(base, "Deny"), split(head, "Deny")

    def uncovered(allows: list[Statement], against: list[Statement]) -> list[Atom]:
        return [a for s in allows for a in s.atoms() if not allow_covered(a, against)]

    def unkept(denies: list[Statement], against: list[Statement]) -> list[Atom]:
        return [a for s in denies for a in s.atoms() if not deny_kept(a, against)]

    diff.widening += _findings(
        uncovered(head_allows, base_allows), lambda a: _reason(a, base_allows, True), trust
    )
    diff.widening += _findings(
        unkept(base_denies, head_denies), lambda a: _deny_reason(a, head_denies, True), trust
    )
    diff.narrowing += _findings(
        uncovered(base_allows, head_allows), lambda a: _reason(a, head_allows, False), trust
    )
    diff.narrowing += _findings(
        unkept(head_denies, base_denies), lambda a: _deny_reason(a, base_denies, False), trust
    )


def _compare_boundaries(base: Entry, head: Entry, diff: EntryDiff) -> None:
    if base.boundary == head.boundary and base.boundary_statements == head.boundary_statements:
        return
    if base.boundary is None:
        diff.narrowing.append(f"permissions boundary {head.boundary} set")
    elif head.boundary is None:
        diff.widening.append(f"permissions boundary {base.boundary} removed")
    elif base.boundary_statements is None or head.boundary_statements is None:
        diff.widening.append(
            f"permissions boundary changed from {base.boundary} to {head.boundary}, "
            "whose statements the plans do not carry"
        )
    else:
        _compare_statements(
            list(base.boundary_statements), list(head.boundary_statements), False, diff
        )


def _facets(entry: Entry) -> dict[str, set[tuple[str, str]]]:
    """The entry's principals, actions, resources and conditions, each (qualifier, value)."""
    found: dict[str, set[tuple[str, str]]] = {name: set() for name in FACETS}
    for label, statements in entry.documents.items():
        for s in statements:
            deny = "Deny " if s.effect == "Deny" else ""
            elements = [("principals", s.principals)] if s.principals is not None else []
            if label != TRUST:
                elements += [("actions", s.actions), ("resources", s.resources)]
            for name, element in elements:
                qualifier = deny + ("all but " if element.negated else "")
                found[name] |= {(qualifier, p) for p in element}
            found["conditions"] |= {(deny, str(c)) for c in s.conditions}
    return found


def _policies(entry: Entry) -> set[str]:
    found = set(entry.documents) | entry.opaque
    return found | ({f"permissions boundary {entry.boundary}"} if entry.boundary else set())


def _textual_changes(base: Entry, head: Entry) -> list[tuple[str, list[str]]]:
    """The policies added, removed and changed; for an entry on both sides, also the principals,
    actions, resources and conditions added and removed (a new one's are all its widening)."""
    base_policies, head_policies = _policies(base), _policies(head)
    rewritten = {
        label
        for label in set(base.documents) & set(head.documents)
        if {s.canonical() for s in base.documents[label]}
        != {s.canonical() for s in head.documents[label]}
    }
    same_boundary = base.boundary is not None and base.boundary == head.boundary
    if same_boundary and base.boundary_statements != head.boundary_statements:
        rewritten.add(f"permissions boundary {base.boundary}")
    changes = [
        ("policies added", _in_order(head_policies - base_policies)),
        ("policies removed", _in_order(base_policies - head_policies)),
        ("policies changed", _in_order(rewritten)),
    ]
    if base.created == head.created:
        base_facets, head_facets = _facets(base), _facets(head)
        for name in FACETS:
            show = _principal if name == "principals" else code
            for change, items in (
                ("added", head_facets[name] - base_facets[name]),
                ("removed", base_facets[name] - head_facets[name]),
            ):
                shown = [q + show(v) for q, v in sorted(items, key=lambda i: (i[0], i[1].lower()))]
                changes.append((f"{name} {change}", shown))
    return [(name, items) for name, items in changes if items]


def compare_entry(base: Entry | None, head: Entry | None) -> EntryDiff:
    """How `head` differs from `base` (either missing: the entry is new, or gone)."""
    some = head or base
    assert some is not None
    diff = EntryDiff(some)
    if base is not None and base.created and not (head is not None and head.created):
        diff.narrowing.append(f"the {base.kind} is removed")
        return diff
    base = base or Entry(some.kind, some.name)
    head = head or Entry(some.kind, some.name)
    if head.created and not base.created and head.kind == "role":
        diff.widening.append("a new role")
    for trust in (True, False):
        _compare_statements(base.statements(trust=trust), head.statements(trust=trust), trust, diff)
    diff.widening += _in_order(f"{label} attached" for label in head.opaque - base.opaque)
    diff.narrowing += _in_order(f"{label} detached" for label in base.opaque - head.opaque)
    _compare_boundaries(base, head, diff)
    diff.changes = _textual_changes(base, head)
    return diff


def compare(base: PlanIam, head: PlanIam) -> list[EntryDiff]:
    """Every role and resource policy that changed, roles first, then by kind and name."""
    keys = sorted(set(base.entries) | set(head.entries), key=lambda k: (k[0] != "role", k))
    diffs = [compare_entry(base.entries.get(k), head.entries.get(k)) for k in keys]
    return [d for d in diffs if d.changed]


def governed(iam: PlanIam) -> set[tuple[str, str]]:
    """The roles, and the resources that have a policy: what the summary counts."""
    return {
        key
        for key, entry in iam.entries.items()
        if entry.kind == "role" or entry.documents or entry.opaque
    }


def to_markdown(diffs: list[EntryDiff], total: int) -> str:
    """The diffs as markdown; `No IAM changes.` when there are none. `total`: how many roles and
    resource policies the two plans hold together."""
    if not diffs:
        return NO_CHANGES
    widening = sum(len(d.widening) for d in diffs)
    narrowing = sum(len(d.narrowing) for d in diffs)
    verdict = (
        f"**Widening: {widening}** (HEAD allows requests BASE did not)"
        if widening
        else "No widening: HEAD allows no request BASE did not"
    )
    lines = [
        "## IAM changes",
        "",
        f"{verdict}. Narrowing: {narrowing}. Changed: {len(diffs)} of {total} roles and "
        "resource policies.",
    ]
    for diff in diffs:
        lines += ["", f"### {diff.entry.title}"]
        for heading, items in (("Widening", diff.widening), ("Narrowing", diff.narrowing)):
            if items:
                lines += ["", f"{heading}:", ""]
                lines += [f"- {item}" for item in items]
        if diff.changes:
            lines += ["", "Changes:", ""]
            lines += [f"- {name}: {', '.join(items)}" for name, items in diff.changes]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline_preview diff",
        description="The IAM differences between two `--format json` plans, as markdown.",
    )
    parser.add_argument("base", type=Path, help="the plan before the change (BASE.json)")
    parser.add_argument("head", type=Path, help="the plan after the change (HEAD.json)")
    parser.add_argument(
        "--fail-on-widening",
        action="store_true",
        help="exit 1 when HEAD allows any request BASE did not",
    )
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        base, head = load_plan_iam(args.base), load_plan_iam(args.head)
    except PlanError as error:
        print(error, file=sys.stderr)
        return EXIT_UNREADABLE
    diffs = compare(base, head)
    print(to_markdown(diffs, len(governed(base) | governed(head))))
    widening = [f"widening: {d.entry.title}: {item}" for d in diffs for item in d.widening]
    if args.fail_on_widening and widening:
        for line in widening:
            print(line, file=sys.stderr)
        return EXIT_WIDENING
    return 0
