"""Who reaches what: principals -> roles -> the resources their policies name, as a mermaid chart.

Principals come from each role's trust (an AWS service, or the cluster's service accounts named
in an IRSA trust's `:sub`). Reach comes from each Allow and Deny statement's resources, sorted
into the deployment's own resources (its buckets, key, repositories, parameters, cluster, lock
table, roles passed), Amazon Bedrock, and the account-wide AWS APIs beyond them; plus what the
plan wires outside IAM policies: the cluster's service role, the node groups' node role, and EKS
access policies. AWS-managed policies are shown by name: their statements are not in the plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from offline_preview.engine import RecordedResource, Recording
from offline_preview.iam_plan import as_list
from offline_preview.planned_roles import SERVICE_ACCOUNT, PlannedRole

ACCOUNT_APIS = "aws_apis"
BEDROCK = "bedrock"

# An action that only reads, by the verb its name starts with.
READ_VERBS = ("Get", "List", "Describe", "BatchGet", "BatchCheck", "Filter", "Search", "Head")
# What KMS does with a key when it encrypts or decrypts data.
KEY_USE_VERBS = ("Decrypt", "Encrypt", "GenerateDataKey", "ReEncrypt")


def _node_id(kind: str, key: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9]', '_', key)}"


def _label(text: str) -> str:
    return text.replace('"', "'").replace("|", "/")


def access_level(action: str) -> str:
    """`read`, `write`, `encrypt/decrypt`, `invoke` or `pass role`, from the action's name."""
    service, _, verb = action.partition(":")
    if action == "iam:PassRole":
        return "pass role"
    if service == "bedrock" and verb.startswith("Invoke"):
        return "invoke"
    if service == "kms" and verb.startswith(KEY_USE_VERBS):
        return "encrypt/decrypt"
    if verb.startswith(READ_VERBS):
        return "read"
    return "write"


@dataclass
class _Chart:
    principals: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[str, str, bool], set[str]] = field(default_factory=dict)
    """(from, to, dashed) -> labels."""

    def edge(self, source: str, target: str, label: str = "", *, dashed: bool = False) -> None:
        labels = self.edges.setdefault((source, target, dashed), set())
        if label:
            labels.add(label)


@dataclass(frozen=True)
class _Deployment:
    """The plan's own resources, by what a policy names them with."""

    key_aliases: dict[str, str]
    role_ids: dict[str, str]
    """Role ARN -> node id."""
    iam_arns: frozenset[str]
    """The ARNs of the IAM resources the plan creates (roles, policies, profiles, providers)."""
    customers: frozenset[str] = frozenset()
    """The customer's key ARNs and bucket names the stack file names (`kms.existingKeyArn`,
    `bucket.existingBucketName`, ...): used, not created."""

    def owner(self, resource: str) -> str:
        return " (the customer's)" if resource in self.customers else ""


IAM_TYPES = (
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
)


def _deployment(
    recording: Recording, roles: list[PlannedRole], customers: frozenset[str]
) -> _Deployment:
    aliases = {}
    for alias in recording.by_type("aws:kms/alias:Alias"):
        aliases[str(alias.inputs.get("targetKeyId"))] = str(alias.inputs.get("name"))
    iam_arns = frozenset(
        str(r.outputs["arn"])
        for type_ in IAM_TYPES
        for r in recording.by_type(type_)
        if "arn" in r.outputs
    )
    return _Deployment(
        key_aliases=aliases,
        role_ids={r.arn: _node_id("role", r.name) for r in roles},
        iam_arns=iam_arns,
        customers=customers,
    )


def _target(resource: str, action: str, deployment: _Deployment) -> tuple[str, str] | None:
    """The chart node a statement's resource is drawn to (id, label); None: an account-wide
    API (a `*`, or another service's resource)."""
    service = action.partition(":")[0]
    if service == "bedrock":
        return BEDROCK, "Amazon Bedrock"
    parts = resource.split(":", 5)
    if resource == "*" or len(parts) < 6:
        return None
    arn_service, relative = parts[2], parts[5]
    if arn_service == "s3" and relative and service == "s3":
        bucket = relative.split("/", 1)[0]
        return _node_id("bucket", bucket), f"S3 bucket {bucket}{deployment.owner(bucket)}"
    if arn_service == "kms" and relative.startswith("key/"):
        key_id = relative.removeprefix("key/")
        name = deployment.key_aliases.get(key_id, key_id)
        return _node_id("key", key_id), f"KMS key {name}{deployment.owner(resource)}"
    if arn_service == "ecr" and relative.startswith("repository/"):
        pattern = relative.removeprefix("repository/")
        return _node_id("ecr", pattern), f"ECR repositories {pattern}"
    if arn_service == "ssm" and relative.startswith("parameter/"):
        path = "/" + relative.removeprefix("parameter/").removesuffix("/*")
        return _node_id("parameters", path), f"SSM parameters {path}"
    if arn_service == "eks" and "/" in relative:
        cluster = relative.split("/")[1]
        return _node_id("cluster", cluster), f"EKS cluster {cluster}"
    if arn_service == "dynamodb" and relative.startswith("table/"):
        table = relative.removeprefix("table/")
        return _node_id("table", table), f"DynamoDB table {table}"
    if arn_service == "logs" and "/aws/eks/" in relative:
        return _node_id("logs", relative), "CloudWatch Logs of the cluster"
    if action == "iam:PassRole" and resource in deployment.role_ids:
        return deployment.role_ids[resource], ""
    if arn_service == "iam" and resource in deployment.iam_arns:
        return "iam_deployment", "the deployment's IAM roles and policies"
    return None


PRINCIPAL_NODES = {"Service": "service", "AWS": "aws", "Federated": "federated"}


def _principals(chart: _Chart, role: PlannedRole, role_id: str) -> None:
    for principal in role.principals:
        if principal.kind == SERVICE_ACCOUNT:
            node = _node_id("sa", principal.name)
            chart.principals[node] = f"service account {principal.name}"
            chart.edge(node, role_id, "IRSA")
        else:
            node = _node_id(PRINCIPAL_NODES[principal.kind], principal.name)
            chart.principals[node] = principal.name
            chart.edge(node, role_id)


def _reach(chart: _Chart, role: PlannedRole, role_id: str, deployment: _Deployment) -> None:
    account_wide: dict[bool, set[str]] = {}
    for policy in role.policies:
        for stmt in policy.document.get("Statement", []):
            deny = stmt.get("Effect") == "Deny"
            for action in as_list(stmt.get("Action", [])):
                for resource in as_list(stmt.get("Resource", [])):
                    target = _target(str(resource), str(action), deployment)
                    if target is None:
                        account_wide.setdefault(deny, set()).add(str(action).partition(":")[0])
                        continue
                    node, label = target
                    if label:
                        chart.targets[node] = label
                    level = access_level(str(action))
                    chart.edge(role_id, node, f"deny {level}" if deny else level, dashed=deny)
    for deny, services in account_wide.items():
        chart.targets[ACCOUNT_APIS] = "account-wide AWS APIs"
        prefix = "deny " if deny else ""
        chart.edge(role_id, ACCOUNT_APIS, prefix + ", ".join(sorted(services)), dashed=deny)
    for arn in role.managed_policy_arns:
        chart.targets[ACCOUNT_APIS] = "account-wide AWS APIs"
        chart.edge(role_id, ACCOUNT_APIS, f"AWS-managed {arn.rsplit('/', 1)[-1]}", dashed=True)
    for access in role.cluster_access:
        node = _node_id("cluster", access.cluster)
        chart.targets[node] = f"EKS cluster {access.cluster}"
        chart.edge(role_id, node, f"EKS {access.policy_arn.rsplit('/', 1)[-1]}")


def _cluster_node(chart: _Chart, cluster: RecordedResource) -> str:
    name = str(cluster.inputs.get("name", cluster.name))
    node = _node_id("cluster", name)
    chart.targets[node] = f"EKS cluster {name}"
    return node


def _cluster_wiring(chart: _Chart, recording: Recording, roles: list[PlannedRole]) -> None:
    """The cluster's service role and the node groups' node role, by the URNs the plan passes."""
    by_urn = {r.resource.urn: r for r in roles}
    clusters = {c.urn: c for c in recording.by_type("eks:index:Cluster")}
    for cluster in clusters.values():
        service_role = by_urn.get(str(cluster.inputs.get("serviceRole")))
        if service_role is not None:
            node = _cluster_node(chart, cluster)
            chart.edge(_node_id("role", service_role.name), node, "runs the control plane")
    for group in recording.by_type("eks:index:ManagedNodeGroup"):
        node_role = by_urn.get(str(group.inputs.get("nodeRole")))
        joined = clusters.get(str(group.inputs.get("cluster")))
        if node_role is not None and joined is not None:
            node = _cluster_node(chart, joined)
            chart.edge(_node_id("role", node_role.name), node, "nodes join")


def reach_chart(
    recording: Recording, roles: list[PlannedRole], customers: Iterable[str] = ()
) -> list[str]:
    """The mermaid `flowchart` lines (without the fence); `customers`: the customer's key ARNs
    and bucket names, labelled as theirs."""
    chart = _Chart()
    deployment = _deployment(recording, roles, frozenset(customers))
    for role in roles:
        role_id = _node_id("role", role.name)
        chart.roles[role_id] = role.name
        _principals(chart, role, role_id)
        _reach(chart, role, role_id, deployment)
    _cluster_wiring(chart, recording, roles)
    lines = ["flowchart LR"]
    groups = (
        ("principals", "Principals", chart.principals, '(["{}"])'),
        ("roles", "Roles", chart.roles, '["{}"]'),
        ("reach", "What they reach", chart.targets, '[("{}")]'),
    )
    for group_id, title, nodes, shape in groups:
        lines.append(f'  subgraph {group_id} ["{title}"]')
        for node in sorted(nodes):
            lines.append(f"    {node}{shape.format(_label(nodes[node]))}")
        lines.append("  end")
    for (source, target, dashed), labels in sorted(chart.edges.items()):
        arrow = "-.->" if dashed else "-->"
        label = f"|{_label(', '.join(sorted(labels)))}|" if labels else ""
        lines.append(f"  {source} {arrow}{label} {target}")
    return lines
