"""`python -m offline_preview diff BASE.json HEAD.json [--fail-on-widening]`: what two plans'
IAM allows differently, as markdown a pull-request comment can carry.

Both files are plans printed by `python -m offline_preview --stack S --format json`. Every entry
(`offline_preview.iam_entries`: a role, IAM user or group, a key, bucket or repository policy, an
EKS cluster's access, an unattached policy, a resource of a type not modelled) is compared: the
policies added, removed or changed (inline, customer-managed, AWS-managed ARNs, permissions
boundary), the principals, actions, resources and conditions added or removed, and the requests
HEAD allows that BASE did not (widening) or BASE allowed that HEAD does not (narrowing).
Identical IAM prints `No IAM changes.`; statements reordered, lists reordered, Sids renamed and
steps reordered are no change.

Widening is decided on what the statements mean (`offline_preview.iam_rules`), per entry, never
on their text:

* HEAD's Allow statements must each be covered, per (principal, action, resource), by one
  Allow statement of BASE's same entry (its identity policies together, or its trust policy)
  whose conditions HEAD's statement all keeps (HEAD at least as constrained). So a new action,
  a wider (or another) resource, a removed or looser condition and a new principal are
  widening; a statement split in two, two merged, a moved statement or a renamed Sid are not.
* Each of BASE's Deny statements must be kept by a HEAD Deny at least as broad (whose
  conditions BASE's imply): a removed or narrowed Deny is widening, even where no Allow reaches
  what it denied (a Deny guards against the next Allow). So is a bucket policy removed from a
  bucket that stays.
* A new role (user, group) is widening; so is a newly attached policy whose statements the plan
  does not carry (an AWS-managed ARN), a removed permissions boundary, and a changed boundary
  unless both boundaries are policies of the plan and HEAD's allows no more. A customer-managed
  policy of the plan is judged by its statements, like any other.
* A role (or bucket) the plan stops creating while HEAD still grants it something is an
  existing one outside the plan: what HEAD grants it is compared as before.
* An EKS access policy must be covered by BASE's of the same principal, the same policy (or
  cluster admin) on a scope at least as wide; an access entry must be BASE's, no group added.
* A resource of a type `offline_preview.iam_types.UNMODELLED` lists, or of a type no list names
  (neither modelled nor reviewed to grant nothing: `NO_GRANT`), fails closed: one HEAD adds or
  changes is widening (and a guard's removal; an unlisted type's report names its inputs that
  look like grants); so is whatever the reading cannot resolve.
* An account principal (an account id, or its `:root` ARN) covers that account principal only:
  a role of the account given directly in a key, bucket or trust policy is a new principal (a
  grant to the root delegates to IAM; one to the role needs no IAM policy).
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
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from offline_preview.iam_entries import (
    PRINCIPAL_KINDS,
    TRUST,
    UNATTACHED_POLICY,
    AccessEntryGrant,
    AccessPolicyGrant,
    Entry,
    PlanError,
    PlanIam,
    load_plan_iam,
)
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
from offline_preview.iam_types import grant_like

EXIT_WIDENING = 1
EXIT_UNREADABLE = 2
NO_CHANGES = "No IAM changes."
FACETS = ("principals", "actions", "resources", "conditions")
NOT_MODELLED = "not modelled: treated as widening"
_CLUSTER_ADMIN = ":cluster-access-policy/AmazonEKSClusterAdminPolicy"

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
        reaching = [s for s in candidates if s.reaches(atom, level)]
        if not reaching and level == "resource":
            # wider (or narrower) only when the atom's resource holds one the others name
            held = [r for s in candidates for r in s.resources.singles()]
            return (
                words[level] if any(atom.resource.covers(r) for r in held) else "another resource"
            )
        if not reaching:
            return words[level]
        candidates = reaching
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


def _access_policy_covers(wide: str, narrow: str) -> bool:
    """An access policy allows all another does: the same, or cluster admin (`*` on `*`)."""
    return wide == narrow or (wide.endswith(_CLUSTER_ADMIN) and ":cluster-access-policy/" in narrow)


def _namespace_covers(wide: str, narrow: str) -> bool:
    """EKS matches a namespace exactly, or by the prefix before a trailing `*`."""
    return wide == narrow or (wide.endswith("*") and narrow.startswith(wide[:-1]))


def _scope_covers(wide: tuple[str, ...] | None, narrow: tuple[str, ...] | None) -> bool:
    if wide is None:
        return True
    return narrow is not None and all(any(_namespace_covers(w, n) for w in wide) for n in narrow)


def _on(grant: AccessPolicyGrant) -> str:
    if grant.namespaces is None:
        return "the cluster"
    return "namespaces " + ", ".join(code(n) for n in grant.namespaces)


def _access_policy(grant: AccessPolicyGrant) -> str:
    return f"{code(grant.principal)} may {code(grant.policy)} on {_on(grant)}"


def _access_entry(grant: AccessEntryGrant) -> str:
    groups = (
        f", Kubernetes groups {', '.join(code(g) for g in grant.groups)}" if grant.groups else ""
    )
    user = f", user name {code(grant.user_name)}" if grant.user_name else ""
    return (
        f"{code(grant.principal)} may authenticate (access entry {code(grant.type)}{user}{groups})"
    )


def _policy_reason(grant: AccessPolicyGrant, others: set[AccessPolicyGrant], wider: bool) -> str:
    """Why no access policy of `others` covers the grant."""
    same = [o for o in others if o.principal == grant.principal]
    if not same:
        return "a new principal" if wider else "a principal removed"
    policies = [o for o in same if _access_policy_covers(o.policy, grant.policy)]
    if policies:
        if not any(_scope_covers(grant.namespaces, o.namespaces) for o in policies):
            return "another scope"
        return "a wider scope" if wider else "a narrower scope"
    if any(_access_policy_covers(grant.policy, o.policy) for o in same):
        return "a wider access policy" if wider else "a narrower access policy"
    return "another access policy"


def _compare_access(base: Entry, head: Entry, diff: EntryDiff) -> None:
    """An EKS cluster's access entries and access policies, each way round."""
    for before, after, findings, wider in (
        (base, head, diff.widening, True),
        (head, base, diff.narrowing, False),
    ):
        lines = []
        for grant in after.access_policies:
            covered = any(
                o.principal == grant.principal
                and _access_policy_covers(o.policy, grant.policy)
                and _scope_covers(o.namespaces, grant.namespaces)
                for o in before.access_policies
            )
            if not covered:
                reason = _policy_reason(grant, before.access_policies, wider)
                lines.append(f"{_access_policy(grant)}: {reason}")
        entries = {e.principal: e for e in before.access_entries}
        for entry in after.access_entries:
            other = entries.get(entry.principal)
            if other is None:
                reason = "a new principal" if wider else "a principal removed"
                lines.append(f"{_access_entry(entry)}: {reason}")
                continue
            words = []
            if set(entry.groups) - set(other.groups):
                added = sorted(set(entry.groups) - set(other.groups))
                state = "added" if wider else "removed"
                words.append(f"Kubernetes groups {', '.join(code(g) for g in added)} {state}")
            if wider and entry.type != other.type:
                words.append(f"type {code(other.type)} changed to {code(entry.type)}")
            if wider and entry.user_name != other.user_name:
                words.append(
                    f"user name {code(other.user_name)} changed to {code(entry.user_name)}"
                )
            if words:
                lines.append(f"{_access_entry(entry)}: {', '.join(words)}")
        findings += _in_order(lines)


def _changed_inputs(base: Entry, head: Entry) -> str:
    """Which inputs of a resource not modelled changed, when it is one on each side."""
    if len(base.instances) <= 1 and len(head.instances) == 1:
        before = json.loads(base.instances[0].inputs) if base.instances else {}
        after = json.loads(head.instances[0].inputs)
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return ", ".join(code(k) for k in keys) + (" changed" if before else " set")
    return "inputs changed"


def _unreviewed(entry: Entry) -> str:
    """For a type no list names: which of its inputs look like grants."""
    if entry.spec is None or entry.spec.reviewed:
        return ""
    names = grant_like({k for i in entry.instances for k in json.loads(i.inputs)})
    if not names:
        return " (a type not reviewed; no input looks like a grant)"
    return f" (a type not reviewed; inputs that look like grants: {', '.join(map(code, names))})"


def _compare_instances(base: Entry, head: Entry, diff: EntryDiff) -> None:
    """A resource not modelled: any instance HEAD adds or changes is widening, and so is a
    guard's removal (unless it stays in AWS: `retainOnDelete`)."""
    before = Counter(i.inputs for i in base.instances)
    after = Counter(i.inputs for i in head.instances)
    if after - before:
        partial = head.spec is not None and head.spec.inputs is not None
        what = "added" if not before and not partial else _changed_inputs(base, head)
        diff.widening.append(f"{what}: {NOT_MODELLED}{_unreviewed(head)}")
        return
    gone = before - after
    if not gone:
        return
    retained = all(i.retained for i in base.instances if i.inputs in gone)
    if retained:
        diff.changes.append(("removed from the plan", ["kept in AWS (`retainOnDelete`)"]))
    elif base.spec is not None and base.spec.guard:
        diff.widening.append(
            f"removed, and it guarded against access granted elsewhere: {NOT_MODELLED}"
        )
    else:
        diff.narrowing.append("removed")


def _grant_changes(base: Entry, head: Entry) -> list[tuple[str, list[str]]]:
    changes = []
    for name, before, after in (
        (
            "access entries",
            {_access_entry(e) for e in base.access_entries},
            {_access_entry(e) for e in head.access_entries},
        ),
        (
            "access policies",
            {_access_policy(g) for g in base.access_policies},
            {_access_policy(g) for g in head.access_policies},
        ),
    ):
        changes += [(f"{name} added", _in_order(after - before))]
        changes += [(f"{name} removed", _in_order(before - after))]
    return [(name, items) for name, items in changes if items]


def compare_entry(base: Entry | None, head: Entry | None) -> EntryDiff:
    """How `head` differs from `base` (either missing: the entry is new, or gone)."""
    some = head or base
    assert some is not None
    diff = EntryDiff(some)
    if base is not None and base.created and not (head is not None and head.created):
        if head is None or not head.holds:
            if base.instances:
                _compare_instances(base, Entry(base.kind, base.name), diff)
            else:
                diff.narrowing.append(f"the {base.kind} is removed")
            return diff
        # what HEAD still grants it is an existing one's, outside the plan: compared as such
        diff.narrowing.append(f"the {base.kind} is no longer created by the plan")
    base = base or Entry(some.kind, some.name, spec=some.spec)
    head = head or Entry(some.kind, some.name, spec=some.spec)
    if base.instances or head.instances:
        _compare_instances(base, head, diff)
        return diff
    if head.created and not base.created and head.principal:
        diff.widening.append(f"a new {head.kind}")
    diff.widening += _in_order(f"{item}: treated as widening" for item in head.unreadable)
    for trust in (True, False):
        _compare_statements(base.statements(trust=trust), head.statements(trust=trust), trust, diff)
    diff.widening += _in_order(f"{label} attached" for label in head.opaque - base.opaque)
    diff.narrowing += _in_order(f"{label} detached" for label in base.opaque - head.opaque)
    _compare_boundaries(base, head, diff)
    _compare_access(base, head, diff)
    diff.changes = _textual_changes(base, head) + _grant_changes(base, head)
    return diff


def _relevant(entry: Entry | None) -> bool:
    """A principal, or an entry that grants or guards anything: what the diff compares."""
    return entry is not None and (entry.principal or entry.holds)


_ORDER = {kind: rank for rank, kind in enumerate(PRINCIPAL_KINDS.values())}


def compare(base: PlanIam, head: PlanIam) -> list[EntryDiff]:
    """Every entry that changed: principals first (roles, users, groups), then by kind and name.
    An entry that holds nothing on either side (a bucket without a policy) is none."""
    keys = sorted(governed(base) | governed(head), key=lambda k: (_ORDER.get(k[0], len(_ORDER)), k))

    def entry(iam: PlanIam, key: tuple[str, str]) -> Entry | None:
        return iam.unattached(key[1]) if key[0] == UNATTACHED_POLICY else iam.entries.get(key)

    diffs = [compare_entry(entry(base, k), entry(head, k)) for k in keys]
    return [d for d in diffs if d.changed]


def governed(iam: PlanIam) -> set[tuple[str, str]]:
    """The principals, and the entries that grant or guard anything: what the summary counts."""
    return {key for key, entry in iam.entries.items() if _relevant(entry)}


def to_markdown(diffs: list[EntryDiff], total: int) -> str:
    """The diffs as markdown; `No IAM changes.` when there are none. `total`: how many entries
    (`governed`) the two plans hold together."""
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
        f"{verdict}. Narrowing: {narrowing}. Changed: {len(diffs)} of {total} IAM entries.",
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
