"""The document a customer's security reviewer reads: `--format markdown`, `docs/iam/<stack>.md`.

Everything in it comes from the recorded plan (roles, trusts, policies as the program renders
them, attachments, EKS access) and from metadata the code carries beside what it describes: the
specification's headings and each policy's departures from it (`policies/catalog.py`), what each
AWS-managed policy is for (`components/`), IAM's quotas (`policy/iam_limits.py`, which the
program's checks and the policy pack use too), and what pulumi-eks creates inside its remote
components (`components/eks_internals.py`). The customer's key and bucket, when the stack file
names them, come from the stack's config, and what the key's policy needs from the same reading
of the plan as the text plan's (`render.existing_key_policy`). Nothing is typed twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.cluster_addons import EBS_CSI_POLICY, EBS_CSI_POLICY_USE
from components.eks_cluster import (
    CLUSTER_ROLE_POLICIES,
    NODE_ROLE_POLICIES,
    VPC_CNI_POLICY,
    VPC_CNI_POLICY_USE,
)
from components.eks_internals import (
    PASSED,
    PULUMI_EKS_VERSION,
    REMOTE_COMPONENTS,
    SOURCE_COMMIT,
    SOURCE_REPOSITORY,
)
from naming import IAM_ROLE_NAME_MAX, Names
from offline_preview.engine import Recording
from offline_preview.iam_plan import as_list
from offline_preview.planned_roles import (
    SERVICE_ACCOUNT,
    PlannedPolicy,
    PlannedRole,
    planned_roles,
    unattached_policies,
)
from offline_preview.reach import reach_chart
from offline_preview.render import KeyPolicies
from policies.catalog import POLICY_ORIGINS, ROLE_ORIGINS
from policies.spec import PolicyOrigin
from policy.iam_limits import (
    MANAGED_POLICY_MAX,
    ROLE_INLINE_POLICIES_MAX,
    ROLE_MANAGED_POLICIES_MAX,
    TRUST_POLICY_MAX,
    iam_size,
)

# What each AWS-managed policy the program attaches is for, from beside the code that attaches it.
AWS_MANAGED_POLICY_USES: Mapping[str, str] = {
    **CLUSTER_ROLE_POLICIES,
    **NODE_ROLE_POLICIES,
    VPC_CNI_POLICY: VPC_CNI_POLICY_USE,
    EBS_CSI_POLICY: EBS_CSI_POLICY_USE,
}

NOT_IN_CATALOG = "Not in the specification or the catalogue"


def code(value: Any) -> str:
    """A value in backticks, safe in a table cell."""
    return f"`{value}`".replace("|", "\\|")


def codes(values: Iterable[Any]) -> str:
    return ", ".join(code(v) for v in values)


def _number(value: int) -> str:
    return f"{value:,}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _conditions(condition: Mapping[str, Mapping[str, Any]] | None) -> str:
    if not condition:
        return ""
    parts = []
    for operator in sorted(condition):
        for key in sorted(condition[operator]):
            values = codes(as_list(condition[operator][key]))
            parts.append(f"{code(operator)} {code(key)} = {values}")
    return "<br>".join(parts)


# -- what a recorded policy is ----------------------------------------------------------------


def policy_origin(role: PlannedRole, policy: PlannedPolicy) -> tuple[str, PolicyOrigin | None]:
    """The catalogue's purpose and origin of a policy the role holds; ("", None) if unknown."""
    if role.role is None or role.prefix is None or policy.inline:
        return "", None
    names = Names(role.prefix, "")
    for purpose, origin in POLICY_ORIGINS.get(role.role, {}).items():
        if names.role_policy(role.role, purpose) == policy.name:
            return purpose, origin
    return "", None


def policy_heading(role: PlannedRole, policy: PlannedPolicy) -> str:
    _, origin = policy_origin(role, policy)
    if origin is not None:
        return origin.heading
    kind = "Inline policy" if policy.inline else "Customer-managed policy"
    return f"{kind} {policy.name} ({NOT_IN_CATALOG.lower()})"


def _ordered_policies(role: PlannedRole) -> list[PlannedPolicy]:
    """The role's policies in the catalogue's (the specification's) order, others by name."""
    order = list(POLICY_ORIGINS.get(role.role, {})) if role.role else []

    def rank(policy: PlannedPolicy) -> tuple[int, str]:
        purpose, _ = policy_origin(role, policy)
        return (order.index(purpose) if purpose else len(order), policy.name)

    return sorted(role.policies, key=rank)


def _role_rank(role: PlannedRole) -> tuple[int, str]:
    """The specification's roles first, in its order; then the program's others; then the rest."""
    order = list(ROLE_ORIGINS)
    return (order.index(role.role) if role.role in order else len(order), role.name)


# -- sections ----------------------------------------------------------------------------------


def _trust_rows(role: PlannedRole) -> list[list[str]]:
    rows = []
    for stmt in role.trust.get("Statement", []):
        principal = stmt.get("Principal", {})
        who = "<br>".join(f"{kind} {codes(as_list(principal[kind]))}" for kind in sorted(principal))
        rows.append(
            [who, codes(as_list(stmt.get("Action", []))), _conditions(stmt.get("Condition"))]
        )
    return rows


def _statement_rows(document: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for stmt in document.get("Statement", []):
        actions = stmt.get("Action", stmt.get("NotAction", []))
        resources = stmt.get("Resource", stmt.get("NotResource", []))
        effect = stmt.get("Effect", "")
        rows.append(
            [
                code(stmt["Sid"]) if "Sid" in stmt else "",
                f"**{effect}**" if effect == "Deny" else effect,
                codes(as_list(actions)),
                "<br>".join(code(r) for r in as_list(resources)),
                _conditions(stmt.get("Condition")),
            ]
        )
    return rows


def _policy_section(role: PlannedRole, policy: PlannedPolicy) -> list[str]:
    _, origin = policy_origin(role, policy)
    lines = [f"#### {policy_heading(role, policy)}: {code(policy.name)}", ""]
    notes = []
    role_origin = ROLE_ORIGINS.get(role.role) if role.role is not None else None
    section = role_origin.section if role_origin is not None else None
    if origin is not None and origin.in_spec and section is not None:
        notes.append(f"In the specification's *{section}* section.")
    if origin is not None and origin.source:
        notes.append(f"Follows {origin.source}.")
    if notes:
        lines += [" ".join(notes), ""]
    lines += _table(
        ["statement", "effect", "actions", "resources", "conditions"],
        _statement_rows(policy.document),
    )
    if origin is not None and origin.departures:
        title = "Departures from the specification" if origin.in_spec else "Why this policy"
        lines += ["", f"{title}:", ""]
        lines += [f"- **{d.change}**: {d.what}. Why: {d.why}." for d in origin.departures]
    return [*lines, ""]


def _role_section(role: PlannedRole, missing: list[tuple[str, PolicyOrigin]]) -> list[str]:
    lines = [f"### {code(role.name)}", ""]
    origin = ROLE_ORIGINS.get(role.role) if role.role else None
    if origin is not None and origin.section is not None:
        lines.append(f"Specification: *{origin.section}*: {origin.why}.")
    elif origin is not None:
        lines.append(f"Not in the specification: {origin.why}.")
    else:
        lines.append(f"{NOT_IN_CATALOG}.")
    lines += ["", f"Description: {role.description}. ARN: {code(role.arn)}.", "", "Trust:", ""]
    lines += _table(["principal", "action", "conditions"], _trust_rows(role))
    lines.append("")
    for policy in _ordered_policies(role):
        lines += _policy_section(role, policy)
    if role.managed_policy_arns:
        lines += ["#### AWS-managed policies", ""]
        for arn in role.managed_policy_arns:
            use = AWS_MANAGED_POLICY_USES.get(arn.rsplit("/", 1)[-1], "no note in the code")
            lines.append(f"- {code(arn)}: {use}.")
        lines.append("")
    if role.cluster_access:
        lines += ["#### EKS access policies", ""]
        for access in role.cluster_access:
            lines.append(
                f"- {code(access.policy_arn)} on cluster {code(access.cluster)}, scope "
                f"{code(access.scope)}."
            )
        lines.append("")
    if missing:
        lines += ["Catalogued for this role, not created in this stack:", ""]
        lines += [f"- {o.heading}: not created when {o.omitted_when}." for _, o in missing]
        lines.append("")
    return lines


def _missing_policies(role: PlannedRole) -> list[tuple[str, PolicyOrigin]]:
    """The catalogue's policies of this role that the plan does not attach to it."""
    if role.role is None:
        return []
    present = {policy_origin(role, p)[0] for p in role.policies}
    return [
        (purpose, origin)
        for purpose, origin in POLICY_ORIGINS.get(role.role, {}).items()
        if purpose not in present
    ]


def _summary(roles: list[PlannedRole]) -> list[str]:
    rows = []
    for role in roles:
        origin = ROLE_ORIGINS.get(role.role) if role.role else None
        section = f"*{origin.section}*" if origin and origin.section else "not in the spec"
        principals = [
            f"service account {code(p.name)} (IRSA)"
            if p.kind == SERVICE_ACCOUNT
            else f"{p.kind} {code(p.name)}"
            for p in role.principals
        ]
        rows.append(
            [
                code(role.name),
                section,
                "<br>".join(principals),
                str(len(role.policies)),
                str(len(role.managed_policy_arns)),
            ]
        )
    return _table(
        ["role", "specification", "trusted by", "customer-managed policies", "AWS-managed"], rows
    )


def _headroom(size: int, limit: int) -> str:
    return f"{_number(limit - size)} ({(limit - size) * 100 // limit}%)"


def _quota_row(owner: str, document: str, size: int, limit: int) -> list[str]:
    return [owner, document, _number(size), _number(limit), _headroom(size, limit)]


def _quotas(roles: list[PlannedRole], unattached: list[PlannedPolicy]) -> list[str]:
    rows = []
    for role in roles:
        name = code(role.name)
        managed = [p for p in role.policies if not p.inline]
        inline = [p for p in role.policies if p.inline]
        attached = len(managed) + len(role.managed_policy_arns)
        rows += [
            _quota_row(name, "role name (characters)", len(role.name), IAM_ROLE_NAME_MAX),
            _quota_row(name, "trust policy", iam_size(role.trust_text), TRUST_POLICY_MAX),
            _quota_row(name, "managed policies attached", attached, ROLE_MANAGED_POLICIES_MAX),
        ]
        rows += [
            _quota_row(name, code(p.name), iam_size(p.text), MANAGED_POLICY_MAX) for p in managed
        ]
        if inline:
            size = sum(iam_size(p.text) for p in inline)
            rows.append(
                _quota_row(name, "inline policies together", size, ROLE_INLINE_POLICIES_MAX)
            )
    rows += [
        _quota_row("(no role)", code(p.name), iam_size(p.text), MANAGED_POLICY_MAX)
        for p in unattached
    ]
    return [
        "Sizes as IAM counts them (characters, whitespace excluded), against IAM's default quotas "
        '(IAM User Guide, "IAM and AWS STS quotas"; the numbers are `policy/iam_limits.py`\'s). '
        "The documents that grow with config are refused before anything is planned when they "
        "would pass a quota (`iam_quotas.py`), and the policy pack checks every planned document "
        "against the same numbers (`docs/policy-pack.md`).",
        "",
        *_table(["role", "document", "size", "quota", "headroom"], rows),
    ]


def _argument_value(value: Any) -> str:
    return "passed" if value is PASSED else code(value if isinstance(value, str) else _json(value))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _remote_components(recording: Recording) -> list[str]:
    offline = len(recording.resources)
    instances = [
        (component, resource)
        for component in REMOTE_COMPONENTS
        for resource in sorted(recording.by_type(component.type), key=lambda r: r.name)
    ]
    hidden = sum(
        1
        for component, resource in instances
        for entry in component.inside_for(resource.inputs)
        if not entry.in_offline_preview
    )
    lines = [
        f"The offline preview plans {_number(offline)} resources. `pulumi preview` will count "
        f"{_number(offline + hidden)} (and the default providers, which it does not display): "
        "pulumi-eks's `Cluster` and `ManagedNodeGroup` are remote "
        "components, whose TypeScript runs in the eks provider process and registers their "
        "children with the engine; the mock engine never starts that process, so of those "
        "children the offline preview shows only the inner EKS cluster (returned by "
        f"reference). The {hidden} others are below, with what AWS creates by itself, which no "
        "Pulumi plan shows.",
        "",
        f"Read from pulumi-eks {PULUMI_EKS_VERSION}'s source: {code(SOURCE_REPOSITORY)} at "
        f"{code(SOURCE_COMMIT)}, `nodejs/eks/` (lines as there); tests hold the arguments below "
        "to the inputs the program passes (`components/eks_internals.py`).",
        "",
    ]
    if not instances:
        return [*lines, "This stack creates no pulumi-eks component.", ""]
    for component in REMOTE_COMPONENTS:
        mine = [r for c, r in instances if c is component]
        if not mine:
            continue
        lines += [f"### {code(component.type)}: {codes(r.name for r in mine)}", ""]
        lines += ["Arguments the program fixes, and what pulumi-eks would do without them:", ""]
        lines += _table(
            ["argument", "value", "otherwise", "source"],
            [
                [
                    code(a.name),
                    _argument_value(a.value),
                    a.otherwise.format(name=mine[0].name),
                    a.source,
                ]
                for a in component.fixed
            ],
        )
        rows = []
        for resource in mine:
            for entry in component.inside_for(resource.inputs):
                rows.append(
                    [
                        code(entry.type),
                        code(entry.name.format(name=resource.name)),
                        entry.purpose,
                        "yes" if entry.in_offline_preview else "**no**",
                        entry.source,
                    ]
                )
        lines += ["", "What pulumi-eks still creates inside:", ""]
        lines += _table(["type", "name", "what", "in the offline preview", "source"], rows)
        by_aws = sorted({(e.what, e.source) for r in mine for e in component.by_aws_for(r.inputs)})
        lines += ["", "What AWS creates by itself (in no Pulumi plan):", ""]
        lines += [f"- {what}. Source: {source}." for what, source in by_aws]
        lines.append("")
    return lines


def _header(recording: Recording) -> list[str]:
    outputs = recording.stack_outputs
    facts = ", ".join(
        f"{label} {code(outputs[key])}"
        for key, label in (
            ("partition", "partition"),
            ("region", "region"),
            ("accountId", "account"),
        )
        if key in outputs
    )
    return [
        f"# IAM review of stack {code(recording.stack)}",
        "",
        f"Generated from the offline plan by `python -m offline_preview --stack {recording.stack} "
        "--format markdown` (`make docs` rewrites `docs/iam/<stack>.md`); do not edit by hand. "
        f"The plan's {facts}; `--account-id` shows the ARNs in another account. How the "
        "policies are built and why: [docs/iam.md](../iam.md).",
        "",
    ]


def _customer_resources(key_policies: KeyPolicies, buckets: Mapping[str, str]) -> list[str]:
    """The customer's key and bucket the stack file names, and what the key's policy needs."""
    rows = [[code(key), f"S3 bucket {code(name)}"] for key, name in buckets.items()]
    rows += [[code(key), f"KMS key {code(arn)}"] for key, (arn, _) in key_policies.items()]
    lines = [
        "The stack file names these; the stack creates none of them and changes none of their "
        "settings (bucket policy, encryption, key policy, rotation): they are the customer's. The "
        "roles below are granted on them as on the deployment's own. What the customer's bucket "
        "and key must have: [docs/existing-resources.md](../existing-resources.md).",
        "",
        *_table(["config key", "the customer's"], sorted(rows)),
        "",
    ]
    for key, (arn, statements) in key_policies.items():
        lines += [
            f"### Key policy statements {code(arn)} needs ({code(key)})",
            "",
            "None, if the key's policy lets this account's IAM policies grant every use (AWS's "
            "default statement `EnableIamPoliciesForThisAccount` does). Otherwise these: for each "
            "role, what its IAM policies grant on the key and for that role only "
            "(`aws:PrincipalArn`); for the services that encrypt the deployment's resources with "
            "it, only through them (`kms:ViaService`). The principal is the account, so a role "
            "still needs its IAM policy: nothing beyond the plan's grants is admitted.",
            "",
            "```json",
            *json.dumps(statements, indent=2).splitlines(),
            "```",
            "",
        ]
    return lines


def to_markdown(
    recording: Recording,
    key_policies: KeyPolicies | None = None,
    existing_buckets: Mapping[str, str] | None = None,
) -> str:
    """The review document; `key_policies` and `existing_buckets` (by config key): the
    customer's keys, with what their policies need, and buckets the stack file names."""
    key_policies = key_policies or {}
    existing_buckets = existing_buckets or {}
    roles = sorted(planned_roles(recording), key=_role_rank)
    unattached = unattached_policies(recording)
    customers = [arn for arn, _ in key_policies.values()] + list(existing_buckets.values())
    lines = _header(recording)
    lines += ["## Roles at a glance", "", *_summary(roles), ""]
    if customers:
        lines += ["## The customer's key and bucket", ""]
        lines += _customer_resources(key_policies, existing_buckets)
    lines += [
        "## Who reaches what",
        "",
        "Principals (from each trust), the roles they assume, and what each role's policies "
        "name; dashed: a Deny, or an AWS-managed policy (its statements are AWS's, not in the "
        "plan).",
        "",
        "```mermaid",
        *reach_chart(recording, roles, customers),
        "```",
        "",
        "## Roles",
        "",
    ]
    for role in roles:
        lines += _role_section(role, _missing_policies(role))
    if unattached:
        lines += ["## Policies attached to no role", ""]
        for policy in unattached:
            lines += [f"### {code(policy.name)}", ""]
            lines += _table(
                ["statement", "effect", "actions", "resources", "conditions"],
                _statement_rows(policy.document),
            )
            lines.append("")
    lines += ["## Quotas", "", *_quotas(roles, unattached), ""]
    lines += ["## What the plan cannot show", "", *_remote_components(recording)]
    return "\n".join(lines).rstrip("\n") + "\n"
