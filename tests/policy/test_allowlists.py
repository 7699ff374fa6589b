"""The pack's allowlists hold what the example stacks need and nothing else, each entry with
its reason, and name the program's AWS-managed policies as the program attaches them."""

from __future__ import annotations

import json
from typing import Any

from components.cluster_addons import EBS_CSI_POLICY, EBS_CSI_POLICY_PATH, EBS_CSI_SERVICE_ACCOUNT
from components.eks_cluster import (
    CLUSTER_ROLE_POLICIES,
    NODE_ROLE_POLICIES,
    VPC_CNI_POLICY,
    VPC_CNI_SERVICE_ACCOUNT,
)
from policy.iam_allowlist import ANY_ACCOUNT_ALLOWLIST, AWS_MANAGED_POLICIES, ManagedPolicyUse
from tests.support.plans import STACKS, plan, states

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _allows(planned: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in states(planned):
        if resource["type"] == "aws:iam/policy:Policy":
            for statement in json.loads(resource["inputs"]["policy"])["Statement"]:
                if statement["Effect"] == "Allow":
                    found.append(statement)
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_wildcard_account_entry_is_used_with_each_of_its_actions() -> None:
    used: set[tuple[str, str]] = set()
    for stack in STACKS:
        for statement in _allows(plan(stack)):
            for resource in _listed(statement["Resource"]):
                after_partition = resource.split(":", 2)[-1]
                used.update((after_partition, a) for a in _listed(statement["Action"]))
    listed = {
        (pattern, a) for pattern, entry in ANY_ACCOUNT_ALLOWLIST.items() for a in entry.actions
    }
    assert listed - used == set()
    assert all(entry.reason.strip() for entry in ANY_ACCOUNT_ALLOWLIST.values())


def test_every_aws_managed_policy_entry_is_attached_in_each_stack_and_says_why() -> None:
    for stack in STACKS:
        attached = {
            r["inputs"]["policyArn"].split(":policy/", 1)[1]
            for r in states(plan(stack))
            if r["type"] == ATTACHMENT and ":iam::aws:policy/" in r["inputs"]["policyArn"]
        }
        assert attached == set(AWS_MANAGED_POLICIES), stack
    for use in AWS_MANAGED_POLICIES.values():
        assert use.reason.strip()
        assert use.services or use.service_accounts


def test_the_allowlist_names_the_programs_policies_for_the_roles_it_gives_them() -> None:
    ebs_csi = f"{EBS_CSI_POLICY_PATH.strip('/')}/{EBS_CSI_POLICY}"
    expected = {
        **{name: ManagedPolicyUse(services=("eks",)) for name in CLUSTER_ROLE_POLICIES},
        **{name: ManagedPolicyUse(services=("ec2",)) for name in NODE_ROLE_POLICIES},
        VPC_CNI_POLICY: ManagedPolicyUse(service_accounts=(VPC_CNI_SERVICE_ACCOUNT,)),
        ebs_csi: ManagedPolicyUse(service_accounts=(EBS_CSI_SERVICE_ACCOUNT,)),
    }
    assert {
        name: ManagedPolicyUse(use.services, use.service_accounts)
        for name, use in AWS_MANAGED_POLICIES.items()
    } == expected
