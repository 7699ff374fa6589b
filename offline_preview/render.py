"""Print a recording: as a readable plan, or as JSON shaped like `pulumi preview --json`."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_environment import AwsEnvironment
from components.kms_key import (
    KEY_NAMING_TYPES,
    KEY_SERVICES,
    RoleGrant,
    existing_key_statements,
)
from offline_preview.engine import RecordedResource, Recording
from offline_preview.iam_plan import as_list
from offline_preview.planned_roles import PlannedRole, planned_roles, unattached_policies
from policies.documents import Statement

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

KeyPolicies = dict[str, tuple[str, list[Statement]]]
"""Each existing key by its config key (`poolside:kms.existingKeyArn`): its ARN, and the
statements its key policy needs (`existing_key_policy`)."""


def _plain(value: Any) -> Any:
    """Wire values as JSON: secrets shown as `[secret]`, resources by URN."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG:
            return "[secret]"
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double; 443, not 443.0
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    urn = getattr(value, "urn", None)
    return f"<resource {urn}>" if urn is not None else str(value)


def _plan_order(resources: list[RecordedResource]) -> list[RecordedResource]:
    """Parents and dependencies first, ties by URN: the same plan prints the same every run.

    The SDK registers resources concurrently, so their arrival order varies between runs; a
    review diff of two plans must show only what changed.
    """
    by_urn = {r.urn: r for r in resources}
    ordered: list[RecordedResource] = []
    placed: set[str] = set()
    pending = sorted(by_urn)
    while pending:
        ready = [
            urn
            for urn in pending
            if all(
                before in placed or before not in by_urn
                for before in [by_urn[urn].parent, *by_urn[urn].dependencies]
            )
        ]
        if not ready:  # a cycle cannot happen in a plan; keep whatever is left, by URN
            ready = pending
        ordered += [by_urn[urn] for urn in ready]
        placed.update(ready)
        pending = [urn for urn in pending if urn not in placed]
    return ordered


def to_preview_json(recording: Recording) -> dict[str, Any]:
    steps = [
        {
            "op": "create",
            "urn": r.urn,
            "newState": {
                "type": r.type,
                "urn": r.urn,
                "custom": r.custom,
                "parent": r.parent,
                "inputs": _plain(r.inputs),
                "dependencies": sorted(r.dependencies),
                "propertyDependencies": {
                    key: sorted(urns) for key, urns in sorted(r.property_dependencies.items())
                },
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "deleteBeforeReplace": r.delete_before_replace,
                "ignoreChanges": r.ignore_changes,
                "replaceOnChanges": r.replace_on_changes,
                "aliases": sorted(r.aliases, key=lambda a: json.dumps(a, sort_keys=True)),
            },
        }
        for r in _plan_order(recording.resources)
    ]
    return {
        "steps": steps,
        "outputs": _plain(recording.stack_outputs),
        "changeSummary": {"create": len(steps)},
    }


def _policy_lines(policy_json: str, indent: str) -> list[str]:
    lines: list[str] = []
    for stmt in json.loads(policy_json).get("Statement", []):
        actions = ", ".join(as_list(stmt.get("Action", stmt.get("NotAction", []))))
        resources = ", ".join(as_list(stmt.get("Resource", stmt.get("NotResource", []))))
        effect = "" if stmt.get("Effect") == "Allow" else f"{stmt.get('Effect')} "
        lines.append(f"{indent}{effect}{actions} -> {resources}")
        if "Condition" in stmt:
            lines.append(f"{indent}  when {json.dumps(stmt['Condition'], sort_keys=True)}")
    return lines


def _trust_lines(policy_json: str, indent: str) -> list[str]:
    lines: list[str] = []
    for stmt in json.loads(policy_json).get("Statement", []):
        principal = json.dumps(stmt.get("Principal"), sort_keys=True)
        actions = ", ".join(as_list(stmt.get("Action", [])))
        lines.append(f"{indent}{principal} may {actions}")
        if "Condition" in stmt:
            lines.append(f"{indent}  when {json.dumps(stmt['Condition'], sort_keys=True)}")
    return lines


def _role_section(role: PlannedRole) -> list[str]:
    lines = [f"  role {role.name}  ({role.arn})", "    trust:"]
    lines += _trust_lines(role.trust_text, "      ")
    # Customer-managed policies by name, then AWS-managed ones by ARN, then inline ones: the same
    # order every run, whatever order the SDK's threads registered the attachments in.
    for policy in role.policies:
        if not policy.inline:
            lines.append(f"    policy {policy.name}:")
            lines += _policy_lines(policy.text, "      ")
    for arn in role.managed_policy_arns:
        lines.append(f"    managed policy {arn}")
    for policy in role.policies:
        if policy.inline:
            lines.append(f"    inline policy {policy.name}:")
            lines += _policy_lines(policy.text, "      ")
    return lines


def _tree_lines(recording: Recording) -> list[str]:
    """Resources as a tree under their parents, each `+ name  type`."""
    children: dict[str, list[RecordedResource]] = {}
    for r in recording.resources:
        children.setdefault(r.parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda c: (c.custom, c.name, c.type)):
            flags = "  [retain on delete]" if r.retain_on_delete else ""
            lines.append(f"  {'    ' * depth}+ {r.name}  {r.type}{flags}")
            walk(r.urn, depth + 1)

    walk("", 0)
    return lines


# A mapping key printed bare: what YAML reads back as the same string (no `:`, no spaces, not a
# word YAML 1.1 reads as a boolean or null); any other key is printed JSON-quoted.
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _key(key: str) -> str:
    bare = _BARE_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS
    return key if bare else json.dumps(key)


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _output_lines(head: str, value: Any, indent: int) -> list[str]:
    """`head` and `value`: a scalar (or an empty map or list) on the same line, JSON-encoded;
    a map or list below it, a level deeper."""
    if not _nested(value):
        return [f"{head} {json.dumps(value, sort_keys=True)}"]
    return [head, *_block(value, indent + 2)]


def _block(value: Any, indent: int) -> list[str]:
    """A map (keys sorted) or list as indented lines, YAML block style with JSON scalars: what
    `pulumi stack output <name> --json` prints, in a form a reader (and a YAML parser) follows."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key in sorted(value):
            lines += _output_lines(f"{pad}{_key(key)}:", value[key], indent)
        return lines
    for item in value:
        if _nested(item):
            inner = _block(item, indent + 2)
            lines += [f"{pad}- {inner[0][indent + 2 :]}", *inner[1:]]
        else:
            lines.append(f"{pad}- {json.dumps(item, sort_keys=True)}")
    return lines


def existing_key_policy(recording: Recording, env: AwsEnvironment, key_arn: str) -> list[Statement]:
    """What an existing key's policy must allow for this plan (`existing_key_statements`): each
    role's IAM statements that name the key, and the services of the resources encrypted with
    it. Read from the plan itself, so that a grant or a resource added later is in it too."""
    grants = [
        # the role's logical name (`pod-role`, `ebs-csi-role`) as a statement id: `PodRole`
        RoleGrant("".join(p.capitalize() for p in role.resource.name.split("-")), role.arn, stmt)
        for role in planned_roles(recording)
        for policy in role.policies
        for stmt in policy.document.get("Statement", [])
        if key_arn in as_list(stmt.get("Resource", []))
    ]
    services: list[str] = []
    for resource in recording.resources:
        if key_arn in json.dumps(_plain(resource.inputs)):
            if resource.type in KEY_SERVICES:
                services.append(KEY_SERVICES[resource.type])
            elif resource.type not in KEY_NAMING_TYPES:
                raise ValueError(
                    f"{resource.type} {resource.name} uses the key: say in "
                    "components/kms_key.py (KEY_SERVICES or KEY_NAMING_TYPES) what its service "
                    "does with it"
                )
    return existing_key_statements(env, grants, services)


def _key_policy_lines(key_policies: KeyPolicies) -> list[str]:
    lines = [
        "",
        "Key policy statements your existing key needs (none, if its policy lets this account's "
        "IAM policies grant every use, as AWS's default statement EnableIamPoliciesForThisAccount "
        "does; docs/existing-resources.md):",
    ]
    for config_key, (arn, statements) in key_policies.items():
        lines.append(f"  {config_key} {arn}:")
        lines += [f"    {line}" for line in json.dumps(statements, indent=2).splitlines()]
    return lines


def to_text(recording: Recording, key_policies: KeyPolicies | None = None) -> str:
    """The plan as a reader reviews it, with what each existing key's policy needs."""
    resources = recording.resources
    lines = [
        f"Offline preview of stack {recording.stack!r}: {len(resources)} resources to create",
        "",
    ]
    lines += _tree_lines(recording)
    roles = planned_roles(recording)
    if roles:
        lines += ["", "IAM roles:"]
        for role in roles:
            lines += _role_section(role)
    standalone = unattached_policies(recording)
    if standalone:
        lines += ["", "IAM policies attached to no role (permissions boundaries):"]
        for policy in standalone:
            lines.append(f"  policy {policy.name}:")
            lines += _policy_lines(policy.text, "    ")
    if key_policies:
        lines += _key_policy_lines(key_policies)
    lines += ["", "Outputs:"]
    for key, value in sorted(_plain(recording.stack_outputs).items()):
        lines += _output_lines(f"  {key}:", value, 2)
    lines += ["", f"Resources: {len(resources)} to create"]
    return "\n".join(lines)


def to_urns(recording: Recording) -> str:
    """Every URN the plan creates, sorted, one a line: what `tests/snapshots/` keeps, so that a
    rename (which `pulumi up` would turn into a replacement) never goes unnoticed."""
    return "\n".join(sorted(r.urn for r in recording.resources))
