"""The review document (`--format markdown`, `docs/iam/<stack>.md`): every role with its trust,
every policy under its spec heading with its statements and departures, every AWS-managed policy,
the diagram, the quotas, and what pulumi-eks creates where the plan cannot show it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from naming import BASTION_POLICIES, Policy, Role
from offline_preview.engine import Recording
from offline_preview.planned_roles import planned_roles
from offline_preview.render import existing_key_policy
from offline_preview.review import AWS_MANAGED_POLICY_USES, NOT_IN_CATALOG, to_markdown
from policies.catalog import POLICY_ORIGINS, ROLE_ORIGINS
from policy.iam_limits import iam_size
from tests.support.examples import EXAMPLE_STACKS, example_output, example_recording
from tests.support.harness import CLUSTER, REGIONS, environment, run_stack
from tests.support.preview import run_preview

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
BUCKET_KEY = "arn:aws:kms:us-east-1:123456789012:key/99999999-8888-4777-8666-555555555555"

# Configurations beyond the example stacks whose documents must hold the same properties.
VARIANTS: dict[str, dict[str, Any]] = {
    "existing-cluster": {
        "cluster": {
            "existingClusterName": "customer-eks",
            "privateSubnetIds": [CLUSTER["privateSubnetIds"][0]],
        }
    },
    "lean": {
        "bastion": {"enabled": False},
        "bedrock": {"enabled": False},
        "inference": {"enabled": False},
        "loadBalancerController": {"enabled": False},
        "addons": {"ebsCsiDriver": {"enabled": False}},
    },
    "customer": {
        "kms": {"existingKeyArn": KEY},
        "bucket": {"existingBucketName": "acme-data", "existingBucketKmsKeyArn": BUCKET_KEY},
        "inference": {"existingBucketName": "acme-models"},
    },
}
CUSTOMER_SECTION = "The customer's key and bucket"


def stack_file(directory: Path, keys: Mapping[str, Any]) -> Path:
    """A stack file of the harness's deployment (`record_stack`'s) with these `poolside` keys."""
    poolside = {"deploymentName": "acme", "cluster": CLUSTER, **keys}
    config = {"aws:region": REGIONS["aws"], **{f"poolside:{k}": v for k, v in poolside.items()}}
    path = directory / "Pulumi.variant.yaml"
    path.write_text(json.dumps({"config": config}))  # JSON is YAML
    return path


@pytest.fixture(scope="module", params=[*EXAMPLE_STACKS, *VARIANTS])
def plan(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Recording, str]:
    """A plan and its document, as `python -m offline_preview --format markdown` prints it."""
    name = request.param
    if name in EXAMPLE_STACKS:
        return example_recording(name), example_output(name, "markdown")
    path = stack_file(tmp_path_factory.mktemp(name), VARIANTS[name])
    printed = run_preview("--config-file", str(path), "--format", "markdown")
    assert printed.exit_code == 0, printed.stderr
    return run_stack(VARIANTS[name]), printed.stdout


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_sections(document: str) -> dict[str, str]:
    """The `## Roles` part of the document, by role name."""
    roles = document.split("\n## Roles\n", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### `([^`]+)`$", roles, flags=re.MULTILINE)
    return dict(zip(sections[1::2], sections[2::2], strict=True))


def section(document: str, title: str) -> str:
    return document.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def mermaid(document: str) -> str:
    return document.split("```mermaid\n", 1)[1].split("```", 1)[0]


def test_every_role_appears_with_its_whole_trust(plan: tuple[Recording, str]) -> None:
    recording, document = plan
    sections = role_sections(document)
    names = {str(r.outputs["name"]) for r in recording.by_type("aws:iam/role:Role")}
    assert set(sections) == names
    for role in recording.by_type("aws:iam/role:Role"):
        text = sections[str(role.outputs["name"])]
        trust = text.split("Trust:", 1)[1].split("####", 1)[0]
        for stmt in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            assert all(f"`{action}`" in trust for action in listed(stmt["Action"]))
            for kind, principals in stmt["Principal"].items():
                assert all(f"{kind} `{p}`" in trust for p in listed(principals))
            for operator, values in stmt.get("Condition", {}).items():
                for key, value in values.items():
                    expected = ", ".join(f"`{v}`" for v in listed(value))
                    assert f"`{operator}` `{key}` = {expected}" in trust


def test_every_attached_policy_appears_under_a_named_heading_with_its_statements(
    plan: tuple[Recording, str],
) -> None:
    recording, document = plan
    sections = role_sections(document)
    policies = {str(p.outputs["arn"]): p for p in recording.by_type("aws:iam/policy:Policy")}
    attachments = recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    for attachment in attachments:
        text = sections[str(attachment.inputs["role"])]
        arn = str(attachment.inputs["policyArn"])
        if arn not in policies:
            use = AWS_MANAGED_POLICY_USES[arn.rsplit("/", 1)[1]]
            assert f"- `{arn}`: {use}." in text
            continue
        name = str(policies[arn].outputs["name"])
        [heading] = re.findall(rf"^#### (.+): `{re.escape(name)}`$", text, flags=re.MULTILINE)
        assert NOT_IN_CATALOG.lower() not in heading
        body = text.split(f": `{name}`\n", 1)[1].split("\n####", 1)[0]
        rows = [line for line in body.splitlines() if line.startswith("| ")][2:]
        statements = json.loads(policies[arn].inputs["policy"])["Statement"]
        assert len(rows) == len(statements), name
        for stmt, row in zip(statements, rows, strict=True):
            assert row.startswith(f"| `{stmt['Sid']}` |" if "Sid" in stmt else "|  |"), row
            assert all(f"`{a}`" in row for a in listed(stmt["Action"])), row
            assert all(f"`{r}`" in row for r in listed(stmt["Resource"])), row
            assert ("| **Deny** |" in row) == (stmt["Effect"] == "Deny")


def test_the_dev_stacks_policies_carry_the_specs_headings() -> None:
    """As the specification names them; the bastion's default policy in its two parts."""
    document = to_markdown(example_recording("dev"))
    found = set(
        re.findall(r"^#### (.+): `(poolside-dev-[a-z0-9-]+)`$", document, flags=re.MULTILINE)
    )
    assert found == {
        ("S3 Access Policy", "poolside-dev-pod-s3-access"),
        ("AWS Marketplace Metering Policy", "poolside-dev-pod-marketplace-metering"),
        ("KMS Access Policy", "poolside-dev-pod-kms-access"),
        ("Bedrock Read-Only Policy", "poolside-dev-pod-bedrock-read-only"),
        ("Bedrock Model Invocation Policy", "poolside-dev-pod-bedrock-model-invocation"),
        ("Bedrock Customization Job Policy", "poolside-dev-pod-bedrock-customization-job"),
        ("ECR Access Policy", "poolside-dev-bastion-ecr-access"),
        ("Cognito Management Policy", "poolside-dev-bastion-cognito-management"),
        ("SSM Parameter Store Management Policy", "poolside-dev-bastion-ssm-parameters"),
        ("ACM Read Policy", "poolside-dev-bastion-acm-read"),
        ("Terraform State Policy", "poolside-dev-bastion-terraform-state"),
        ("Bastion Host Default Policy", "poolside-dev-bastion-default"),
        ("Bastion Host Default Policy", "poolside-dev-bastion-default-iam-read"),
        ("Session Manager (not in the specification)", "poolside-dev-bastion-session-manager"),
        ("Load Balancer Controller Policy", "poolside-dev-aws-load-balancer-controller"),
        (
            "Bedrock Customization Data Access (not in the specification)",
            "poolside-dev-bedrock-customization-data-access",
        ),
        ("EBS CSI Driver Key Use (not in the specification)", "poolside-dev-ebs-csi-kms"),
        ("Inference Models Read (not in the specification)", "poolside-dev-inference-models-read"),
    }
    sections = role_sections(document)
    assert "Specification: *EKS Pod Role*" in sections["poolside-dev-eks-pod-role"]
    assert (
        "- **tighter**: `/poolside/deployment/<deploymentName>` and below, not "
        "`/poolside/deployment/*`. Why: one deployment's bastion cannot rewrite another's "
        "parameters in a shared account." in sections["poolside-dev-bastion-role"]
    )


def test_a_stack_without_a_spec_policy_says_why() -> None:
    """China has no AWS Marketplace and no Bedrock: the pod role's section says so."""
    pod = role_sections(to_markdown(example_recording("china")))["poolside-china-eks-pod-role"]
    assert "#### AWS Marketplace Metering Policy" not in pod
    assert (
        "- AWS Marketplace Metering Policy: not created when the stack is in the `aws-cn` "
        "partition (no AWS Marketplace there)." in pod
    )
    assert "- Bedrock Model Invocation Policy: not created when `bedrock.enabled` is false" in pod


def test_the_diagram_names_every_role_and_what_it_reaches(plan: tuple[Recording, str]) -> None:
    recording, document = plan
    chart = mermaid(document)
    assert chart.startswith("flowchart LR\n")
    for role in recording.by_type("aws:iam/role:Role"):
        assert f'["{role.outputs["name"]}"]' in chart


def test_the_dev_diagram_draws_the_pods_reach() -> None:
    chart = mermaid(to_markdown(example_recording("dev")))
    pod = "role_poolside_dev_eks_pod_role"
    assert f"sa_poolside_core_api_sa -->|IRSA| {pod}" in chart
    assert f"{pod} -->|read, write| bucket_poolside_dev_123456789012" in chart
    assert f"{pod} -->|invoke, read, write| bedrock" in chart
    assert f"{pod} -->|pass role| role_poolside_dev_bedrock_customization_role" in chart
    assert "role_poolside_dev_bastion_role -.->|deny write| key_" in chart
    assert "role_poolside_dev_eks_node_role -->|nodes join| cluster_poolside_dev" in chart
    assert (
        "role_poolside_dev_bastion_role -->|read| parameters__poolside_deployment_dev" not in chart
    )
    assert (
        "role_poolside_dev_bastion_role -->|read, write| parameters__poolside_deployment_dev"
        in chart
    )


def test_the_quotas_list_every_role_and_policy_with_their_size(
    plan: tuple[Recording, str],
) -> None:
    recording, document = plan
    quotas = section(document, "Quotas")
    for role in planned_roles(recording):
        trust = iam_size(role.trust_text)
        assert f"| `{role.name}` | trust policy | {trust:,} | 2,048 | {2048 - trust:,} (" in quotas
        managed = [p for p in role.policies if not p.inline]
        attached = len(managed) + len(role.managed_policy_arns)
        assert f"| `{role.name}` | managed policies attached | {attached} | 10 |" in quotas
        for policy in role.policies:
            size = iam_size(policy.text)
            assert f"| `{role.name}` | `{policy.name}` | {size:,} | 6,144 |" in quotas


def test_what_the_plan_cannot_show_counts_what_pulumi_preview_adds() -> None:
    """dev: a Kubernetes provider inside the Cluster, a NodeGroup inside each of its two managed
    node groups; the inner cluster is in both previews."""
    recording = example_recording("dev")
    hidden = section(to_markdown(recording), "What the plan cannot show")
    planned = len(recording.resources)
    assert f"The offline preview plans {planned} resources. `pulumi preview` will count " in hidden
    assert f"will count {planned + 3} (and the default providers" in hidden
    assert "| `pulumi:providers:kubernetes` | `cluster-eks-eks-k8s` |" in hidden
    assert "| `aws:eks/nodegroup:NodeGroup` | `cluster-gpu` |" in hidden
    assert "| `aws:eks/nodegroup:NodeGroup` | `cluster-system` |" in hidden
    assert "| `aws:eks/cluster:Cluster` | `cluster-eks-eksCluster` |" in hidden
    assert "| `skipDefaultSecurityGroups` | `true` |" in hidden
    assert "nodejs/eks/cluster/cluster.ts#L548-L590" in hidden
    assert "`bootstrapClusterCreatorAdminPermissions: true` and no argument turns it off" in hidden


def test_an_existing_cluster_hides_nothing() -> None:
    recording = run_stack(VARIANTS["existing-cluster"])
    hidden = section(to_markdown(recording), "What the plan cannot show")
    planned = len(recording.resources)
    assert f"`pulumi preview` will count {planned} (" in hidden
    assert "This stack creates no pulumi-eks component." in hidden


# -- the catalogue the document prints from ----------------------------------------------------


def test_every_policy_the_program_names_has_exactly_one_origin() -> None:
    purposes = [p for origins in POLICY_ORIGINS.values() for p in origins]
    assert len(purposes) == len(set(purposes))
    assert set(purposes) == {*Policy, *BASTION_POLICIES}
    assert set(ROLE_ORIGINS) == set(Role)
    for origins in POLICY_ORIGINS.values():
        for origin in origins.values():
            assert origin.in_spec or origin.source, origin.heading
            assert origin.in_spec == ("not in the specification" not in origin.heading)


def test_a_policy_the_program_may_leave_out_says_when(plan: tuple[Recording, str]) -> None:
    _, document = plan
    assert "not created when ." not in document
    assert NOT_IN_CATALOG not in document
    assert "no note in the code" not in document


def test_the_summary_names_who_assumes_each_role() -> None:
    """The service accounts an IRSA trust names, not only the cluster's OIDC provider."""
    summary = section(to_markdown(example_recording("dev")), "Roles at a glance")
    assert (
        "| `poolside-dev-eks-pod-role` | *EKS Pod Role* | service account `poolside:core-api-sa` "
        "(IRSA) | 6 | 0 |" in summary
    )
    assert (
        "| `poolside-dev-eks-node-role` | not in the spec | Service `ec2.amazonaws.com` | 0 | 2 |"
        in summary
    )


NODE = r'    ([A-Za-z][A-Za-z0-9_]*)(?:\(\["[^"|]+"\]\)|\["[^"|]+"\]|\[\("[^"|]+"\)\])'
EDGE = r"  ([A-Za-z][A-Za-z0-9_]*) (?:-->|-\.->)(?:\|[^|\"]+\|)? ([A-Za-z][A-Za-z0-9_]*)"


def test_the_diagram_is_well_formed_mermaid(plan: tuple[Recording, str]) -> None:
    """Each line a subgraph, a node with a quoted label, or an edge between declared nodes (an
    undeclared one would be drawn as a bare id)."""
    _, document = plan
    lines = mermaid(document).splitlines()
    assert lines[0] == "flowchart LR"
    declared: set[str] = set()
    edges: list[tuple[str, str]] = []
    for line in lines[1:]:
        if node := re.fullmatch(NODE, line):
            assert node[1] not in declared, line
            declared.add(node[1])
        elif edge := re.fullmatch(EDGE, line):
            edges.append((edge[1], edge[2]))
        else:
            assert re.fullmatch(r'  subgraph [a-z]+ \["[A-Za-z ]+"\]|  end', line), line
    assert edges
    assert {node for edge in edges for node in edge} <= declared


def test_the_customers_key_and_bucket_are_named_with_what_each_keys_policy_needs(
    tmp_path: Path,
) -> None:
    """The config keys that name them, and per key the statements `existing_key_policy` reads
    from the plan (what the text plan prints too); the diagram labels them as the customer's."""
    keys = VARIANTS["customer"]
    printed = run_preview("--config-file", str(stack_file(tmp_path, keys)), "--format", "markdown")
    assert printed.exit_code == 0, printed.stderr
    customer = section(printed.stdout, CUSTOMER_SECTION)
    assert [line for line in customer.splitlines() if line.startswith("| `poolside:")] == [
        f"| `poolside:bucket.existingBucketKmsKeyArn` | KMS key `{BUCKET_KEY}` |",
        "| `poolside:bucket.existingBucketName` | S3 bucket `acme-data` |",
        "| `poolside:inference.existingBucketName` | S3 bucket `acme-models` |",
        f"| `poolside:kms.existingKeyArn` | KMS key `{KEY}` |",
    ]
    recording = run_stack(keys)
    blocks = re.findall(
        r"^### Key policy statements `([^`]+)` needs \(`([^`]+)`\)\n.*?```json\n(.*?)\n```",
        customer,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert [(arn, key) for arn, key, _ in blocks] == [
        (KEY, "poolside:kms.existingKeyArn"),
        (BUCKET_KEY, "poolside:bucket.existingBucketKmsKeyArn"),
    ]
    for arn, _, block in blocks:
        needed = existing_key_policy(recording, environment("aws"), arn)
        assert needed  # each key is granted to some role
        assert json.loads(block) == needed
    chart = mermaid(printed.stdout)
    assert "S3 bucket acme-data (the customer's)" in chart
    assert "S3 bucket acme-models (the customer's)" in chart
    assert "KMS key 11111111-2222-4333-8444-555555555555 (the customer's)" in chart
    assert "KMS key 99999999-8888-4777-8666-555555555555 (the customer's)" in chart
    assert "(the customer's)" not in section(printed.stdout, "Roles")


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_a_stack_that_brings_no_key_or_bucket_has_no_customer_section(stack: str) -> None:
    document = example_output(stack, "markdown")
    assert f"## {CUSTOMER_SECTION}" not in document
    assert "(the customer's)" not in document
