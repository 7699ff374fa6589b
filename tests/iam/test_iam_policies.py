"""Every IAM document the program emits, for every partition: quotas and the offline IAM lint."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from naming import Role
from offline_preview.engine import Recording
from tests.support.bastion import PURPOSES
from tests.support.harness import ACCOUNT_ID, PARTITIONS, REGIONS, run_stack
from tests.support.iam_allowlist import STAR_ALLOWLIST
from tests.support.iam_lint import actions_requiring_star, lint_policy
from tests.support.policies import (
    MANAGED_POLICY_MAX,
    POLICIES_PER_ROLE_MAX,
    TRUST_POLICY_MAX,
    minified,
)

# The profile of each partition's stack region (Bedrock is not offered in China).
PROFILE_ID = {
    "aws": "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "aws-us-gov": "us-gov.anthropic.claude-sonnet-4-20250514-v1:0",
}


def full_stack(partition: str) -> Recording:
    """The program with every optional part switched on (inference profiles where offered)."""
    bedrock: dict[str, Any] = {"models": [], "customizationBaseModels": []}
    if partition == "aws-cn":
        bedrock = {"enabled": False}  # Bedrock is not offered in China
    if partition in PROFILE_ID:
        bedrock["inferenceProfiles"] = [{"id": PROFILE_ID[partition]}]
    return run_stack(
        {
            "bedrock": bedrock,
            "ecr": {"repositories": ["api"]},
            "cluster": {**_cluster(), "createServiceAccounts": True},
        },
        partition=partition,
    )


def _cluster() -> dict[str, Any]:
    from tests.support.harness import CLUSTER

    return {**CLUSTER, "nodeGroups": [{"name": "system"}]}


@pytest.fixture(scope="module", params=PARTITIONS)
def stack(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    return request.param, full_stack(request.param)


def test_every_managed_policy_fits_the_quota(stack: tuple[str, Recording]) -> None:
    _, recording = stack
    policies = recording.by_type("aws:iam/policy:Policy")
    assert policies
    sizes = {p.inputs["name"]: minified(p.inputs["policy"]) for p in policies}
    assert {name: size for name, size in sizes.items() if size > MANAGED_POLICY_MAX} == {}


def test_every_trust_policy_fits_the_quota(stack: tuple[str, Recording]) -> None:
    _, recording = stack
    roles = recording.by_type("aws:iam/role:Role")
    sizes = {r.inputs["name"]: minified(r.inputs["assumeRolePolicy"]) for r in roles}
    assert {name: size for name, size in sizes.items() if size > TRUST_POLICY_MAX} == {}


def test_no_role_has_more_than_ten_managed_policies(stack: tuple[str, Recording]) -> None:
    _, recording = stack
    per_role = Counter(
        a.inputs["role"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    assert per_role and max(per_role.values()) <= POLICIES_PER_ROLE_MAX


def test_every_policy_passes_the_iam_lint(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    documents = {
        p.inputs["name"]: p.inputs["policy"] for p in recording.by_type("aws:iam/policy:Policy")
    }
    documents |= {
        f"{r.inputs['name']} (trust)": r.inputs["assumeRolePolicy"]
        for r in recording.by_type("aws:iam/role:Role")
    }
    problems = {
        name: found
        for name, text in documents.items()
        if (
            found := lint_policy(
                json.loads(text),
                partition=partition,
                region=REGIONS[partition],
                account_id=ACCOUNT_ID,
                star_allowlist=STAR_ALLOWLIST,
            )
        )
    }
    assert problems == {}


def test_the_allowlist_holds_only_actions_that_take_resources() -> None:
    assert actions_requiring_star(STAR_ALLOWLIST) == set()
    assert all(reason.strip() for reason in STAR_ALLOWLIST.values())


def test_every_allowlist_entry_is_used() -> None:
    used: set[str] = set()
    for partition in PARTITIONS:
        for policy in full_stack(partition).by_type("aws:iam/policy:Policy"):
            for statement in json.loads(policy.inputs["policy"])["Statement"]:
                if statement.get("Resource") == "*" and statement["Effect"] == "Allow":
                    actions = statement["Action"]
                    used.update([actions] if isinstance(actions, str) else actions)
    assert set(STAR_ALLOWLIST) - used == set()


def test_every_role_holds_exactly_its_policies(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    aws = f"arn:{partition}:iam::aws:policy/"
    ours = f"arn:{partition}:iam::{ACCOUNT_ID}:policy/poolside-acme-"
    pod = ["pod-s3-access", "pod-kms-access"]
    if partition != "aws-cn":  # neither Bedrock nor AWS Marketplace is offered in China
        pod += [
            "pod-marketplace-metering",
            "pod-bedrock-read-only",
            "pod-bedrock-model-invocation",
            "pod-bedrock-customization-job",
        ]
    expected = {
        "poolside-acme-eks-cluster-role": {aws + "AmazonEKSClusterPolicy"},
        # No AmazonEKS_CNI_Policy on the nodes: the VPC CNI has its own IRSA role.
        "poolside-acme-eks-node-role": {
            aws + "AmazonEKSWorkerNodePolicy",
            aws + "AmazonEC2ContainerRegistryReadOnly",
        },
        "poolside-acme-eks-vpc-cni-role": {aws + "AmazonEKS_CNI_Policy"},
        "poolside-acme-eks-inference-role": {ours + "inference-models-read"},
        # AWS's EC2-side policy (a service-role policy) and the deployment key's grants.
        "poolside-acme-eks-ebs-csi-role": {
            aws + "service-role/AmazonEBSCSIDriverPolicy",
            ours + "ebs-csi-kms",
        },
        "poolside-acme-eks-pod-role": {ours + name for name in pod},
        "poolside-acme-aws-load-balancer-controller": {ours + "aws-load-balancer-controller"},
        # The spec's six bastion policies and its Session Manager one: no IAM-writing policy, and
        # not AWS's AmazonSSMManagedInstanceCore (it reads every parameter of the account).
        "poolside-acme-bastion-role": {f"{ours}bastion-{purpose}" for purpose in PURPOSES},
    }
    if partition != "aws-cn":
        expected["poolside-acme-bedrock-customization-role"] = {
            ours + "bedrock-customization-data-access"
        }
    attached: dict[str, set[str]] = {}
    for attachment in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        attached.setdefault(attachment.inputs["role"], set()).add(attachment.inputs["policyArn"])
    assert attached == expected
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == set(expected)
    # The prefix length rule leaves room for every suffix the program gives a role.
    assert {name.removeprefix("poolside-acme-") for name in expected} <= {r.value for r in Role}
    # Every customer-managed policy is attached to a role: no permissions boundary or other
    # stand-alone policy, and no role carries a boundary.
    policies = {p.outputs["arn"] for p in recording.by_type("aws:iam/policy:Policy")}
    assert policies == {arn for arns in expected.values() for arn in arns if arn.startswith(ours)}
    assert all(
        "permissionsBoundary" not in r.inputs for r in recording.by_type("aws:iam/role:Role")
    )
