"""Every rule fires on a violation planted in the dev stack's real plan, and only that rule.

Each case edits the plan `python -m offline_preview --stack dev --format json` prints (what the
engine's resource validation would receive as inputs), runs `python -m policy.check` on it, and
expects exactly the lines written here: the rule, the resource's URN and the message. A line
more (another rule misfiring) or a line less fails the case. The example stacks themselves are
clean (`test_check.py`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from policy.iam_allowlist import FOREIGN_PRINCIPALS
from policy.iam_limits import iam_size
from policy.rules import RULES
from tests.support.harness import PROJECT_ROOT
from tests.support.plans import add_state, check_plan, plan, state

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/D939D1BB5D5E8719E78C1560DEBE3B75"
DATA_BUCKET = "poolside-dev-123456789012"
Plan = dict[str, Any]


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: Any, resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def set_policy(p: Plan, name: str, *statements: dict[str, Any]) -> str:
    """Replace the managed policy `name`'s document; returns its URN."""
    found = state(p, POLICY, name)
    found["inputs"]["policy"] = document(*statements)
    return str(found["urn"])


def set_trust(p: Plan, name: str, condition: dict[str, Any], subjects: Any = None) -> str:
    found = state(p, ROLE, name)
    trust = json.loads(found["inputs"]["assumeRolePolicy"])
    trust["Statement"][0]["Condition"] = condition
    found["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    return str(found["urn"])


def inputs(p: Plan, type_: str, name: str) -> tuple[str, dict[str, Any]]:
    found = state(p, type_, name)
    return found["urn"], found["inputs"]


@dataclass(frozen=True)
class Planted:
    rule: str
    what: str
    plant: Callable[[Plan], list[str]]
    """Edits the plan; returns the lines expected, `<rule>  <urn>  <message>` without the rule
    (with it for the rules of `also`)."""
    also: tuple[str, ...] = ()
    """Other rules the violation breaks too."""

    def expected(self, lines: list[str]) -> list[str]:
        return [
            line if line.split("  ", 1)[0] in self.also else f"{self.rule}  {line}"
            for line in lines
        ]


# -- IAM ------------------------------------------------------------------------------------------


def _service_wildcard(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-s3-access",
        allow("s3:*", f"arn:aws:s3:::{DATA_BUCKET}/*", Sid="Objects"),
    )
    return [
        f"{urn}  policy Statement[0] (Objects): allows 's3:*', every action of s3; list the "
        "actions the principal needs"
    ]


def _every_action(p: Plan) -> list[str]:
    urn = set_policy(
        p, "pod-pod-s3-access", allow(["s3:GetObject", "*"], f"arn:aws:s3:::{DATA_BUCKET}/*")
    )
    return [
        f"{urn}  policy Statement[0]: allows '*', every action of every service; list the "
        "actions the principal needs"
    ]


def _not_action(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-s3-access",
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": f"arn:aws:s3:::{DATA_BUCKET}/*"},
    )
    return [
        f"{urn}  policy Statement[0]: Allow with NotAction grants every action it does not "
        "list; list the actions the principal needs"
    ]


def _inline_wildcard(p: Plan) -> list[str]:
    urn, role = inputs(p, ROLE, "inference-role")
    role["inlinePolicies"] = [
        {"name": "debug", "policy": document(allow("s3:*", f"arn:aws:s3:::{DATA_BUCKET}"))}
    ]
    return [
        f"{urn}  inline policy debug Statement[0]: allows 's3:*', every action of s3; list "
        "the actions the principal needs"
    ]


def _star_on_scoped_actions(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-kms-access",
        allow(["kms:Decrypt", "kms:GenerateDataKey"], "*", Sid="UseDeploymentKey"),
    )
    fix = "which takes resource ARNs: scope it to them, or allowlist it with the reason in policy/iam_allowlist.py"
    return [
        f"{urn}  policy Statement[0] (UseDeploymentKey): Resource '*' on 'kms:Decrypt', {fix}",
        f"{urn}  policy Statement[0] (UseDeploymentKey): Resource '*' on 'kms:GenerateDataKey', {fix}",
    ]


def _star_on_wildcard_action(p: Plan) -> list[str]:
    # ecr:Describe* expands to DescribeRegistry (no resource) and repository-scoped actions.
    urn = set_policy(p, "pod-pod-kms-access", allow("ecr:DescribeI*", ["*"]))
    return [
        f"{urn}  policy Statement[0]: Resource '*' on 'ecr:DescribeI*' (matching "
        "ecr:DescribeImageReplicationStatus, ecr:DescribeImageScanFindings, "
        "ecr:DescribeImageSigningStatus, ecr:DescribeImages), which takes resource ARNs: scope "
        "it to them, or allowlist it with the reason in policy/iam_allowlist.py"
    ]


def _star_on_unknown_action(p: Plan) -> list[str]:
    urn = set_policy(p, "pod-pod-kms-access", allow("kms:Decrypted", "*"))
    return [
        f"{urn}  policy Statement[0]: Resource '*' on unknown action 'kms:Decrypted' (did you "
        "mean 'kms:Decrypt'?): whether it takes a resource ARN cannot be told"
    ]


def _not_resource(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-kms-access",
        {"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:*:*:alias/*"},
    )
    return [
        f"{urn}  policy Statement[0]: Allow with NotResource reaches every resource it does "
        "not list; list the resources"
    ]


def _action_pattern(action: str, scope: str) -> Callable[[Plan], list[str]]:
    """A pattern as wide as `<service>:*` or `*`, written otherwise, on a scoped resource."""

    def plant(p: Plan) -> list[str]:
        urn = set_policy(p, "pod-pod-s3-access", allow(action, f"arn:aws:s3:::{DATA_BUCKET}/*"))
        return [
            f"{urn}  policy Statement[0]: allows {action!r}, every action of {scope}; list the "
            "actions the principal needs"
        ]

    return plant


def _wildcard_service_prefix(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-s3-access",
        allow(["s3:GetObject", "*:GetObject"], f"arn:aws:s3:::{DATA_BUCKET}/*"),
    )
    return [
        f"{urn}  policy Statement[0]: allows '*:GetObject', whose service prefix has a wildcard: "
        "it reaches services nobody reviewed, and those AWS adds; list the actions the principal "
        "needs"
    ]


def _star_like_resource(resource: str) -> Callable[[Plan], list[str]]:
    """A resource pattern as good as `*` on an action that takes a key ARN."""

    def plant(p: Plan) -> list[str]:
        urn = set_policy(p, "pod-pod-kms-access", allow("kms:Decrypt", resource))
        return [
            f"{urn}  policy Statement[0]: Resource {resource!r} (as good as '*') on "
            "'kms:Decrypt', which takes resource ARNs: scope it to them, or allowlist it with "
            "the reason in policy/iam_allowlist.py"
        ]

    return plant


def _objects_of_every_bucket(p: Plan) -> list[str]:
    urn = set_policy(p, "pod-pod-s3-access", allow(["s3:GetObject"], "arn:aws:s3:::*/*"))
    return [
        f"{urn}  policy Statement[0]: Resource 'arn:aws:s3:::*/*' (as good as '*') on "
        "'s3:GetObject', which takes resource ARNs: scope it to them, or allowlist it with the "
        "reason in policy/iam_allowlist.py"
    ]


def _any_account(p: Plan) -> list[str]:
    urn = set_policy(p, "pod-pod-kms-access", allow("iam:PassRole", "arn:aws:iam::*:role/*"))
    return [
        f"{urn}  policy Statement[0]: Resource 'arn:aws:iam::*:role/*' has a wildcard account: "
        "on 'iam:PassRole' it reaches that resource in every account; name the account, or "
        "allowlist it with the reason in policy/iam_allowlist.py"
    ]


def _any_account_other_action(p: Plan) -> list[str]:
    # The pattern is allowlisted for the controller's tagging, not for deleting groups.
    resource = "arn:aws:ec2:*:*:security-group/*"
    urn = set_policy(
        p, "pod-pod-kms-access", allow(["ec2:CreateTags", "ec2:DeleteSecurityGroup"], resource)
    )
    return [
        f"{urn}  policy Statement[0]: Resource {resource!r} has a wildcard account: on "
        "'ec2:DeleteSecurityGroup' it reaches that resource in every account; name the account, "
        "or allowlist it with the reason in policy/iam_allowlist.py"
    ]


def _no_audience(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"}},
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} must "
        f"condition `{ISSUER}:aud` with StringEquals 'sts.amazonaws.com' (found none)"
    ]


def _audience_pattern(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {
            "StringLike": {f"{ISSUER}:aud": "sts.*"},
            "StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} must "
        f"condition `{ISSUER}:aud` with StringEquals 'sts.amazonaws.com' (found {{\"StringLike\": "
        '"sts.*"})'
    ]


def _no_subject(p: Plan) -> list[str]:
    urn = set_trust(p, "pod-role", {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}})
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} does "
        f"not condition `{ISSUER}:sub` with StringEquals (or StringLike): any service account "
        "of the cluster could assume the role"
    ]


def _subject_like_without_pattern(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): StringLike on "
        f'`{ISSUER}:sub` for ["system:serviceaccount:poolside:core-api-sa"], which has no `*` '
        "or `?`: use StringEquals"
    ]


def _subject_other_operator(p: Plan) -> list[str]:
    # A role holding no AWS-managed policy: the VPC CNI role's would also be refused
    # (`test_an_open_subject_also_loses_the_roles_aws_managed_policy`).
    urn = set_trust(
        p,
        "inference-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringNotEquals": {f"{ISSUER}:sub": "system:serviceaccount:default:default"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} does "
        f"not condition `{ISSUER}:sub` with StringEquals (or StringLike): any service account "
        "of the cluster could assume the role"
    ]


def _subject_pattern(pattern: str) -> Callable[[Plan], list[str]]:
    def plant(p: Plan) -> list[str]:
        urn = set_trust(
            p,
            "pod-role",
            {
                "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{ISSUER}:sub": pattern},
            },
        )
        return [
            f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): StringLike on "
            f"`{ISSUER}:sub` for {json.dumps([pattern])}, which does not pin the namespace: write "
            "`system:serviceaccount:<namespace>:<name>` with no wildcard before the name"
        ]

    return plant


def add_trust_statement(p: Plan, name: str, statement: dict[str, Any]) -> str:
    found = state(p, ROLE, name)
    trust = json.loads(found["inputs"]["assumeRolePolicy"])
    trust["Statement"].append(statement)
    found["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    return str(found["urn"])


def _trust_everyone(principal: Any, shown: str) -> Callable[[Plan], list[str]]:
    def plant(p: Plan) -> list[str]:
        urn = add_trust_statement(
            p,
            "pod-role",
            {
                "Sid": "Anyone",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
            },
        )
        return [
            f"{urn}  trust Statement[1] (Anyone): Principal {shown} lets any AWS account (or "
            "anyone) assume the role, whatever its conditions; name the principals"
        ]

    return plant


def _trust_not_principal(p: Plan) -> list[str]:
    urn = add_trust_statement(
        p,
        "bastion-iam-role",
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        },
    )
    return [
        f"{urn}  trust Statement[1]: Allow with NotPrincipal lets every principal it does not "
        "list assume the role; name the principals"
    ]


def _trust_not_action_web_identity(p: Plan) -> list[str]:
    # B4: NotAction sts:AssumeRole allows sts:AssumeRoleWithWebIdentity with no condition.
    provider = json.loads(state(p, ROLE, "pod-role")["inputs"]["assumeRolePolicy"])
    federated = provider["Statement"][0]["Principal"]["Federated"]
    urn = add_trust_statement(
        p,
        "pod-role",
        {"Effect": "Allow", "Principal": {"Federated": federated}, "NotAction": "sts:AssumeRole"},
    )
    irsa = "iam-irsa-trust-conditions"
    return [
        f"{urn}  trust Statement[1]: Allow with NotAction lets its principals assume the role in "
        "every way it does not list (sts:AssumeRoleWithWebIdentity, sts:AssumeRoleWithSAML, ...), "
        "past the conditions those need; name the actions",
        f"{irsa}  {urn}  trust Statement[1]: the trust of {ISSUER} must condition "
        f"`{ISSUER}:aud` with StringEquals 'sts.amazonaws.com' (found none)",
        f"{irsa}  {urn}  trust Statement[1]: the trust of {ISSUER} does not condition "
        f"`{ISSUER}:sub` with StringEquals (or StringLike): any service account of the cluster "
        "could assume the role",
    ]


def _trust_not_action(p: Plan) -> list[str]:
    urn = add_trust_statement(
        p,
        "bastion-iam-role",
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "NotAction": "sts:TagSession",
        },
    )
    return [
        f"{urn}  trust Statement[1]: Allow with NotAction lets its principals assume the role in "
        "every way it does not list (sts:AssumeRoleWithWebIdentity, sts:AssumeRoleWithSAML, ...), "
        "past the conditions those need; name the actions"
    ]


def _trust_web_identity_pattern(p: Plan) -> list[str]:
    provider = json.loads(state(p, ROLE, "pod-role")["inputs"]["assumeRolePolicy"])
    federated = provider["Statement"][0]["Principal"]["Federated"]
    urn = add_trust_statement(
        p,
        "inference-role",
        {"Effect": "Allow", "Principal": {"Federated": federated}, "Action": "sts:AssumeRole*"},
    )
    return [
        f"{urn}  trust Statement[1]: the trust of {ISSUER} must condition `{ISSUER}:aud` with "
        "StringEquals 'sts.amazonaws.com' (found none)",
        f"{urn}  trust Statement[1]: the trust of {ISSUER} does not condition `{ISSUER}:sub` "
        "with StringEquals (or StringLike): any service account of the cluster could assume the "
        "role",
    ]


def _trust_foreign(principal: Any, account: str) -> Callable[[Plan], list[str]]:
    def plant(p: Plan) -> list[str]:
        urn = add_trust_statement(
            p,
            "bastion-iam-role",
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"},
        )
        return [
            f"{urn}  trust Statement[1]: Principal {json.dumps({'AWS': principal})} is in account "
            f"{account}, not the stack's (123456789012): name a principal of this account, or "
            "allowlist it with the reason in policy/iam_allowlist.py"
        ]

    return plant


def _trust_no_account(p: Plan) -> list[str]:
    urn = add_trust_statement(
        p,
        "bastion-iam-role",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::*:role/deployer"},
            "Action": "sts:AssumeRole",
        },
    )
    return [
        f'{urn}  trust Statement[1]: Principal {{"AWS": "arn:aws:iam::*:role/deployer"}} names '
        "no account: name a principal of the stack's account"
    ]


def _trust_account_unknown(p: Plan) -> list[str]:
    """Without the stack's `accountId` export, every IRSA role's provider is undecided."""
    del p["outputs"]["accountId"]
    provider = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
    return [
        f"{state(p, ROLE, name)['urn']}  trust Statement[0] (ServiceAccountsOfThisCluster): "
        f"Principal {json.dumps({'Federated': provider})}: the stack's account cannot be told "
        "(the stack exports no `accountId` and the role's ARN is not known), so neither can "
        "whether 123456789012 is foreign"
        for name in (
            "aws-load-balancer-controller-role",
            "ebs-csi-role",
            "inference-role",
            "pod-role",
            "vpc-cni-role",
        )
    ]


def _trust_account_from_the_role_arn(p: Plan) -> list[str]:
    """Without the export, a role whose own ARN is known (the real engine's outputs at
    `pulumi up`) is judged by the account in it: the pod role is decided, the others are not."""
    del p["outputs"]["accountId"]
    pod = state(p, ROLE, "pod-role")
    pod["inputs"]["arn"] = "arn:aws:iam::123456789012:role/poolside-dev-eks-pod-role"
    provider = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
    return [
        f"{state(p, ROLE, name)['urn']}  trust Statement[0] (ServiceAccountsOfThisCluster): "
        f"Principal {json.dumps({'Federated': provider})}: the stack's account cannot be told "
        "(the stack exports no `accountId` and the role's ARN is not known), so neither can "
        "whether 123456789012 is foreign"
        for name in (
            "aws-load-balancer-controller-role",
            "ebs-csi-role",
            "inference-role",
            "vpc-cni-role",
        )
    ]


def _verbless_action(action: str, matching: str) -> Callable[[Plan], list[str]]:
    def plant(p: Plan) -> list[str]:
        urn = set_policy(p, "pod-pod-s3-access", allow(action, f"arn:aws:s3:::{DATA_BUCKET}/*"))
        return [
            f"{urn}  policy Statement[0]: allows {action!r} (matching {matching}), whose action "
            "name has a wildcard in its first 3 characters: it fixes no verb, so it spans reads "
            "and writes; list the actions the principal needs, or begin the pattern with its "
            "verb (`Get*`)"
        ]

    return plant


def _typeless_resource(action: str, resource: str) -> Callable[[Plan], list[str]]:
    def plant(p: Plan) -> list[str]:
        urn = set_policy(p, "pod-pod-s3-access", allow(action, resource))
        return [
            f"{urn}  policy Statement[0]: Resource {resource!r} (as good as '*') on {action!r}, "
            "which takes resource ARNs: scope it to them, or allowlist it with the reason in "
            "policy/iam_allowlist.py"
        ]

    return plant


# -- AWS-managed policies


def _attach(p: Plan, name: str, role: str | None, policy: str, partition: str = "aws") -> str:
    """A RolePolicyAttachment of `arn:<partition>:iam::aws:policy/<policy>` to the stack's role
    `role` (by its name and a dependency, as the program wires it) or to a role by name only."""
    if role is None:
        return add_state(
            p,
            ATTACHMENT,
            name,
            {
                "role": "someone-elses-role",
                "policyArn": f"arn:{partition}:iam::aws:policy/{policy}",
            },
        )
    role_urn, role_inputs = inputs(p, ROLE, role)
    return add_state(
        p,
        ATTACHMENT,
        name,
        {"role": role_inputs["name"], "policyArn": f"arn:{partition}:iam::aws:policy/{policy}"},
        {"role": [role_urn]},
    )


NOT_LISTED = (
    "is an AWS-managed policy policy/iam_allowlist.py does not list: grant the actions needed "
    "in a customer-managed policy, or list it with the role it is for and the reason"
)


def _administrator_access(p: Plan) -> list[str]:
    urn = _attach(p, "pod-admin", "pod-role", "AdministratorAccess")
    return [f"{urn}  'arn:aws:iam::aws:policy/AdministratorAccess' {NOT_LISTED}"]


def _power_user_in_role(p: Plan) -> list[str]:
    urn, role = inputs(p, ROLE, "inference-role")
    role["managedPolicyArns"] = ["arn:aws:iam::aws:policy/PowerUserAccess"]
    return [f"{urn}  managedPolicyArns: 'arn:aws:iam::aws:policy/PowerUserAccess' {NOT_LISTED}"]


def _iam_full_access_exclusively(p: Plan) -> list[str]:
    role_urn, role = inputs(p, ROLE, "bastion-iam-role")
    arn = "arn:aws:iam::aws:policy/IAMFullAccess"
    urn = add_state(
        p,
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "bastion-exclusive",
        {"roleName": role["name"], "policyArns": ["arn:aws:iam::123456789012:policy/x", arn]},
        {"roleName": [role_urn]},
    )
    return [f"{urn}  {arn!r} {NOT_LISTED}"]


def _node_policy_on_pod_role(p: Plan) -> list[str]:
    urn = _attach(p, "pod-node-policy", "pod-role", "AmazonEKSWorkerNodePolicy")
    return [
        f"{urn}  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy' is for a role only service "
        "ec2 assumes; the trust of poolside-dev-eks-pod-role admits service account "
        "poolside:core-api-sa"
    ]


def _cni_policy_on_node_role(p: Plan) -> list[str]:
    urn = _attach(p, "node-cni", "cluster-node-role", "AmazonEKS_CNI_Policy")
    return [
        f"{urn}  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' is for a role only service "
        "account kube-system:aws-node assumes; the trust of poolside-dev-eks-node-role admits "
        "service ec2"
    ]


def _node_role_trusting_an_account(p: Plan) -> list[str]:
    """The node role's own policies, once its trust admits more than EC2."""
    add_trust_statement(
        p,
        "cluster-node-role",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        },
    )
    return [
        f"{state(p, ATTACHMENT, f'cluster-node-{name}')['urn']}  'arn:aws:iam::aws:policy/{name}' "
        "is for a role only service ec2 assumes; the trust of poolside-dev-eks-node-role admits "
        "AWS arn:aws:iam::123456789012:root"
        for name in ("AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy")
    ]


def _listed_policy_on_a_role_outside(p: Plan) -> list[str]:
    urn = _attach(p, "outside-cluster-policy", None, "AmazonEKSClusterPolicy")
    return [
        f"{urn}  'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' is for a role only service eks "
        "assumes, not for a role this stack does not define"
    ]


def _listed_policy_on_a_user(p: Plan) -> list[str]:
    arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    urn = add_state(
        p,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "ci-user-pull",
        {"user": "ci", "policyArn": arn},
    )
    return [f"{urn}  {arn!r} is for a role only service ec2 assumes, not for a user or a group"]


def _large_policy(p: Plan) -> list[str]:
    statements = [
        allow(
            "s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/prefix-{index:04d}/*", Sid=f"Read{index}"
        )
        for index in range(70)
    ]
    urn = set_policy(p, "pod-pod-s3-access", *statements)
    size = len(document(*statements).replace(" ", ""))
    assert size > 6144
    return [
        f"{urn}  the policy is {size:,} characters without whitespace; IAM allows 6,144 per "
        "managed policy: split it"
    ]


def _large_trust(p: Plan) -> list[str]:
    subjects = [f"system:serviceaccount:poolside:service-account-{i:03d}" for i in range(40)]
    urn = set_trust(
        p,
        "pod-role",
        {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subjects}},
    )
    size = iam_size(state(p, ROLE, "pod-role")["inputs"]["assumeRolePolicy"])
    assert size > 2048
    return [
        f"{urn}  the trust policy is {size:,} characters without whitespace; IAM allows 2,048 "
        "(the default quota)"
    ]


def _large_inline_policies(p: Plan) -> list[str]:
    role_urn, role = inputs(p, ROLE, "pod-role")
    sizes = []
    for part in range(2):
        text = document(
            *(
                allow("s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/p{part}-{index:04d}/*")
                for index in range(55)
            )
        )
        sizes.append(len(text.replace(" ", "")))
        add_state(
            p,
            "aws:iam/rolePolicy:RolePolicy",
            f"pod-inline-{part}",
            {"role": role["name"], "name": f"inline-{part}", "policy": text},
            {"role": [role_urn]},
        )
    total = sum(sizes)
    assert max(sizes) <= 6144 and total > 10240  # each alone would be a valid managed policy
    return [
        f"{role_urn}  its 2 inline policies are {total:,} characters without whitespace; IAM "
        "allows 10,240 per role: move some to managed policies"
    ]


def _many_managed_policies(p: Plan) -> list[str]:
    role_urn, role = inputs(p, ROLE, "bastion-iam-role")
    # The bastion has 8; three more by name only (no property dependency), as a literal would.
    for name in ("s3-read", "ec2-read", "read-only"):
        add_state(
            p,
            ATTACHMENT,
            f"bastion-{name}",
            {"role": role["name"], "policyArn": f"arn:aws:iam::123456789012:policy/{name}"},
        )
    return [
        f"{role_urn}  11 managed policies are attached; IAM allows 10 per role (the default "
        "quota): merge some"
    ]


# -- S3, KMS, ECR ---------------------------------------------------------------------------------


def _bucket_urn(p: Plan, name: str = "data-bucket") -> str:
    return str(state(p, "aws:s3/bucket:Bucket", name)["urn"])


def _steps_without(p: Plan, name: str) -> None:
    p["steps"] = [s for s in p["steps"] if not s["urn"].endswith(f"::{name}")]


def _no_encryption(p: Plan) -> list[str]:
    _steps_without(p, "data-encryption")
    return [
        f"{_bucket_urn(p)}  no BucketServerSideEncryptionConfiguration refers to the bucket: "
        "encrypt it with SSE-KMS (aws:kms) and the deployment's key"
    ]


def _aes_encryption(p: Plan) -> list[str]:
    _, encryption = inputs(
        p,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "models-encryption",
    )
    encryption["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    return [
        f"{_bucket_urn(p, 'models-bucket')}  models-encryption rules[0] encrypts with 'AES256': "
        "use aws:kms with the deployment's key"
    ]


def _aws_managed_key(p: Plan) -> list[str]:
    _, encryption = inputs(
        p,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "data-encryption",
    )
    del encryption["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    return [
        f"{_bucket_urn(p)}  data-encryption rules[0] names no kmsMasterKeyId: the AWS-managed "
        "aws/s3 key's policy cannot be scoped; use the deployment's key"
    ]


def _suspended_versioning(p: Plan) -> list[str]:
    _, versioning = inputs(p, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning")
    versioning["versioningConfiguration"]["status"] = "Suspended"
    return [f"{_bucket_urn(p)}  data-versioning sets versioning 'Suspended': it must be 'Enabled'"]


def _no_versioning(p: Plan) -> list[str]:
    _steps_without(p, "models-versioning")
    return [
        f"{_bucket_urn(p, 'models-bucket')}  no BucketVersioning refers to the bucket: enable "
        "versioning"
    ]


def _versioning_of_another_bucket(p: Plan) -> list[str]:
    # The models bucket's versioning, pointed at the data bucket by name: models has none.
    _, versioning = inputs(p, "aws:s3/bucketVersioning:BucketVersioning", "models-versioning")
    versioning["bucket"] = DATA_BUCKET
    state(p, "aws:s3/bucketVersioning:BucketVersioning", "models-versioning")[
        "propertyDependencies"
    ] = {}
    return [
        f"{_bucket_urn(p, 'models-bucket')}  no BucketVersioning refers to the bucket: enable "
        "versioning"
    ]


def _public_access(p: Plan) -> list[str]:
    _, block = inputs(
        p, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access-block"
    )
    block["ignorePublicAcls"] = False
    del block["restrictPublicBuckets"]
    return [
        f"{_bucket_urn(p)}  data-public-access-block leaves ignorePublicAcls, "
        "restrictPublicBuckets off: set all four"
    ]


def _no_public_access_block(p: Plan) -> list[str]:
    _steps_without(p, "data-public-access-block")
    return [
        f"{_bucket_urn(p)}  no BucketPublicAccessBlock refers to the bucket: block all four "
        "kinds of access"
    ]


TLS_MESSAGE = (
    "no bucket policy denies requests without TLS: Deny s3:* to everyone when "
    "aws:SecureTransport is false, on the bucket and its objects"
)


def _tls_condition_inverted(p: Plan) -> list[str]:
    _, bucket_policy = inputs(p, "aws:s3/bucketPolicy:BucketPolicy", "data-policy")
    bucket_policy["policy"] = bucket_policy["policy"].replace('"false"', '"true"')
    return [f"{_bucket_urn(p)}  {TLS_MESSAGE}"]


def _tls_objects_only(p: Plan) -> list[str]:
    _, bucket_policy = inputs(p, "aws:s3/bucketPolicy:BucketPolicy", "models-policy")
    policy = json.loads(bucket_policy["policy"])
    policy["Statement"][0]["Resource"] = [
        "arn:aws:s3:::poolside-dev-models-123456789012/checkpoints/*"
    ]
    bucket_policy["policy"] = json.dumps(policy)
    return [f"{_bucket_urn(p, 'models-bucket')}  {TLS_MESSAGE}"]


def _no_bucket_policy(p: Plan) -> list[str]:
    _steps_without(p, "data-policy")
    return [f"{_bucket_urn(p)}  {TLS_MESSAGE}"]


def _encryption_of_another_bucket(p: Plan) -> list[str]:
    """The data bucket's encryption names the models bucket, though its value came from the data
    bucket (a property dependency): the name decides, and the data bucket has none."""
    _, encryption = inputs(
        p,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "data-encryption",
    )
    encryption["bucket"] = state(p, "aws:s3/bucket:Bucket", "models-bucket")["inputs"]["bucket"]
    assert state(p, ENCRYPTION, "data-encryption")["propertyDependencies"]["bucket"] == [
        _bucket_urn(p)
    ]
    return [
        f"{_bucket_urn(p)}  no BucketServerSideEncryptionConfiguration refers to the bucket: "
        "encrypt it with SSE-KMS (aws:kms) and the deployment's key"
    ]


BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
LOGS_BUCKET = "poolside-dev-logs-123456789012"


def _add_bucket_v2(p: Plan, *, encryption: str | None) -> str:
    """A `BucketV2` with the V2 settings (`...V2` types where pulumi-aws 7 has them), each tied
    by its name and a dependency; `encryption`: its algorithm, or None for no encryption."""
    bucket = add_state(p, BUCKET_V2, "logs-bucket", {"bucket": LOGS_BUCKET})
    tie = {"bucket": [bucket]}
    add_state(
        p,
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "logs-versioning",
        {"bucket": LOGS_BUCKET, "versioningConfiguration": {"status": "Enabled"}},
        tie,
    )
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    add_state(
        p,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "logs-public-access-block",
        {"bucket": LOGS_BUCKET, **dict.fromkeys(flags, True)},
        tie,
    )
    deny = state(p, "aws:s3/bucketPolicy:BucketPolicy", "data-policy")["inputs"]["policy"]
    add_state(
        p,
        "aws:s3/bucketPolicy:BucketPolicy",
        "logs-policy",
        {"bucket": LOGS_BUCKET, "policy": deny.replace(DATA_BUCKET, LOGS_BUCKET)},
        tie,
    )
    if encryption is not None:
        default = {"sseAlgorithm": encryption}
        if encryption == "aws:kms":
            default["kmsMasterKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/logs"
        add_state(
            p,
            "aws:s3/bucketServerSideEncryptionConfigurationV2:"
            "BucketServerSideEncryptionConfigurationV2",
            "logs-encryption",
            {"bucket": LOGS_BUCKET, "rules": [{"applyServerSideEncryptionByDefault": default}]},
            tie,
        )
    return bucket


def _bucket_v2_unencrypted(p: Plan) -> list[str]:
    bucket = _add_bucket_v2(p, encryption=None)
    return [
        f"{bucket}  no BucketServerSideEncryptionConfiguration refers to the bucket: encrypt it "
        "with SSE-KMS (aws:kms) and the deployment's key"
    ]


def _bucket_v2_aes(p: Plan) -> list[str]:
    bucket = _add_bucket_v2(p, encryption="AES256")
    return [
        f"{bucket}  logs-encryption rules[0] encrypts with 'AES256': use aws:kms with the "
        "deployment's key"
    ]


def _no_rotation(p: Plan) -> list[str]:
    urn, key = inputs(p, "aws:kms/key:Key", "kms-key")
    key["enableKeyRotation"] = False
    return [f"{urn}  enableKeyRotation is not true: a symmetric key must rotate its key material"]


def _no_scan_on_push(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-web")
    repository["imageScanningConfiguration"] = {"scanOnPush": False}
    return [f"{urn}  images are not scanned on push: set imageScanningConfiguration.scanOnPush"]


def _aes_repository(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-api")
    del repository["encryptionConfigurations"]
    return [
        f"{urn}  encryptionType is AES256 (the default): encrypt with KMS and the deployment's key"
    ]


def _repository_aws_managed_key(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-inference")
    repository["encryptionConfigurations"] = [{"encryptionType": "KMS"}]
    return [f"{urn}  encryption names no kmsKey: use the deployment's key, not the AWS-managed one"]


# -- EC2 ------------------------------------------------------------------------------------------

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _imdsv1_instance(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["metadataOptions"]["httpTokens"] = "optional"
    return [
        f"{urn}  metadataOptions.httpTokens is 'optional': set 'required' (IMDSv2 only; IMDSv1 "
        "answers any request that reaches it)"
    ]


def _imds_unset_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    del template["metadataOptions"]
    return [
        f"{urn}  metadataOptions.httpTokens is None: set 'required' (IMDSv2 only; IMDSv1 "
        "answers any request that reaches it)"
    ]


def _public_instance(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    del instance["associatePublicIpAddress"]
    return [
        f"{urn}  associatePublicIpAddress is not false: set it, or the subnet's default may "
        "give the instance a public address"
    ]


def _public_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    template["networkInterfaces"] = [
        {"associatePublicIpAddress": "false"},
        {"associatePublicIpAddress": "true"},
    ]
    return [f"{urn}  networkInterfaces[1] asks for a public address"]


def _unencrypted_root(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["rootBlockDevice"]["encrypted"] = False
    instance["ebsBlockDevices"] = [{"deviceName": "/dev/sdf", "volumeSize": 10}]
    return [
        f"{urn}  rootBlockDevice.encrypted is not true: encrypt the root volume",
        f"{urn}  ebsBlockDevices[0].encrypted is not true",
    ]


def _unencrypted_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    template["blockDeviceMappings"][0]["ebs"]["encrypted"] = "false"
    return [f"{urn}  blockDeviceMappings[0].ebs.encrypted is not true"]


def _template_without_volumes(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    del template["blockDeviceMappings"]
    return [
        f"{urn}  no blockDeviceMappings: the root volume would be the AMI's, encrypted only if "
        "the account encrypts by default; map it with ebs.encrypted"
    ]


FIX = (
    "internet-wide (a prefix shorter than /8, or /16 for IPv6); name the sources (a security "
    "group, or the networks that need it)"
)


def _world_ingress_group(p: Plan) -> list[str]:
    urn, group = inputs(p, "aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    group["ingress"] = [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]},
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
    ]
    # Egress to everywhere is the bastion's design (HTTPS to AWS APIs): not this rule's.
    assert group["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]
    return [f"{urn}  ingress[1] admits 0.0.0.0/0: {FIX}"]


def _world_ingress_ipv6_rule(p: Plan) -> list[str]:
    urn, rule = inputs(
        p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bastion-cluster-api"
    )
    del rule["referencedSecurityGroupId"]
    rule["cidrIpv6"] = "::/0"
    return [f"{urn}  the ingress rule admits ::/0: {FIX}"]


def _world_ingress_group_rule(p: Plan) -> list[str]:
    ingress = add_state(
        p,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "https-from-anywhere",
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroupId": "sg-17c0d60690f3efc77",
            "cidrBlocks": ["10.0.0.0/16"],
            "ipv6CidrBlocks": ["0::0/0"],
        },
    )
    add_state(  # the same to everywhere as egress is not ingress
        p,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "https-to-anywhere",
        {
            "type": "egress",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroupId": "sg-17c0d60690f3efc77",
            "cidrBlocks": ["0.0.0.0/0"],
        },
    )
    return [f"{ingress}  the ingress rule admits 0::0/0: {FIX}"]


def _template_root_without_ebs(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    del template["blockDeviceMappings"][0]["ebs"]
    return [
        f"{urn}  blockDeviceMappings[0] (/dev/xvda) has no ebs: the volume would be the AMI's, "
        "encrypted only if the account encrypts by default; give it ebs.encrypted"
    ]


def _template_root_unmapped(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    template["blockDeviceMappings"][0]["deviceName"] = "/dev/xvdb"  # a data volume, encrypted
    return [
        f"{urn}  no blockDeviceMappings entry maps the root device (/dev/xvda or /dev/sda1): the "
        "root volume would be the AMI's, encrypted only if the account encrypts by default; map "
        "it with ebs.encrypted"
    ]


def _template_device_left_to_the_ami(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    template["blockDeviceMappings"].append({"deviceName": "/dev/xvdb"})
    return [
        f"{urn}  blockDeviceMappings[1] (/dev/xvdb) has no ebs: the volume would be the AMI's, "
        "encrypted only if the account encrypts by default; give it ebs.encrypted"
    ]


SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"


def _spot_request(p: Plan, change: Callable[[dict[str, Any]], None]) -> str:
    """A spot instance request with the bastion instance's arguments, changed by `change`."""
    spot = json.loads(json.dumps(state(p, INSTANCE, "bastion-instance")["inputs"]))
    spot["spotPrice"] = "0.05"
    change(spot)
    return add_state(p, SPOT, "bastion-spot", spot)


def _spot_unencrypted(p: Plan) -> list[str]:
    urn = _spot_request(p, lambda spot: spot["rootBlockDevice"].update(encrypted=False))
    return [f"{urn}  rootBlockDevice.encrypted is not true: encrypt the root volume"]


def _spot_imdsv1(p: Plan) -> list[str]:
    urn = _spot_request(p, lambda spot: spot["metadataOptions"].update(httpTokens="optional"))
    return [
        f"{urn}  metadataOptions.httpTokens is 'optional': set 'required' (IMDSv2 only; IMDSv1 "
        "answers any request that reaches it)"
    ]


def _spot_public(p: Plan) -> list[str]:
    urn = _spot_request(p, lambda spot: spot.pop("associatePublicIpAddress"))
    return [
        f"{urn}  associatePublicIpAddress is not false: set it, or the subnet's default may "
        "give the instance a public address"
    ]


def _world_ingress_default_group(p: Plan) -> list[str]:
    urn = add_state(
        p,
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "default-security-group",
        {
            "vpcId": "vpc-0a1b2c3d4e5f60718",
            "ingress": [
                {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
            ],
        },
    )
    return [f"{urn}  ingress[0] admits 0.0.0.0/0: {FIX}"]


def _world_ingress_in_halves(p: Plan) -> list[str]:
    urn, group = inputs(p, "aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    group["ingress"] = [
        {
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
        }
    ]
    return [f"{urn}  ingress[0] admits 0.0.0.0/1, 128.0.0.0/1: {FIX}"]


def _wide_ipv6_ingress_rule(p: Plan) -> list[str]:
    urn, rule = inputs(
        p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bastion-cluster-api"
    )
    del rule["referencedSecurityGroupId"]
    rule["cidrIpv6"] = "2000::/3"  # every global unicast address
    return [f"{urn}  the ingress rule admits 2000::/3: {FIX}"]


PLANTED = [
    Planted("iam-no-wildcard-actions", "a service's every action", _service_wildcard),
    Planted("iam-no-wildcard-actions", "every action", _every_action),
    Planted("iam-no-wildcard-actions", "NotAction in an Allow", _not_action),
    Planted("iam-no-wildcard-actions", "in a role's inline policy", _inline_wildcard),
    Planted("iam-no-wildcard-actions", "iam:**", _action_pattern("iam:**", "iam")),
    Planted("iam-no-wildcard-actions", "iam:?*", _action_pattern("iam:?*", "iam")),
    Planted("iam-no-wildcard-actions", "*?", _action_pattern("*?", "every service")),
    Planted("iam-no-wildcard-actions", "?*", _action_pattern("?*", "every service")),
    Planted("iam-no-wildcard-actions", "*:*", _action_pattern("*:*", "every service")),
    Planted(
        "iam-no-wildcard-actions", "s3*", _action_pattern("S3*", "every service matching 's3*'")
    ),
    Planted("iam-no-wildcard-actions", "a wildcard service prefix", _wildcard_service_prefix),
    Planted(
        "iam-no-wildcard-actions",
        "iam:*e",
        _verbless_action(
            "iam:*e",
            "iam:AddRoleToInstanceProfile, iam:CreateInstanceProfile, iam:CreateLoginProfile, "
            "iam:CreateRole, iam:CreateServiceLinkedRole, ... (40 in all)",
        ),
    ),
    Planted(
        "iam-no-wildcard-actions", "s3:?etObject", _verbless_action("s3:?etObject", "s3:GetObject")
    ),
    Planted(
        "iam-no-wildcard-actions",
        "iam:De*",
        _verbless_action(
            "iam:De*",
            "iam:DeactivateMFADevice, iam:DeleteAccessKey, iam:DeleteAccountAlias, "
            "iam:DeleteAccountPasswordPolicy, iam:DeleteCloudFrontPublicKey, ... (28 in all)",
        ),
    ),
    Planted(
        "iam-star-resource-scoped",
        "a bucket pattern",
        _typeless_resource("s3:GetObject", "arn:aws:s3:::*a*/*"),
    ),
    Planted(
        "iam-star-resource-scoped",
        "a resource type pattern",
        _typeless_resource("iam:PassRole", "arn:aws:iam::123456789012:*e*"),
    ),
    Planted("iam-star-resource-scoped", "actions that take a key ARN", _star_on_scoped_actions),
    Planted("iam-star-resource-scoped", "a wildcard action", _star_on_wildcard_action),
    Planted("iam-star-resource-scoped", "an action IAM does not know", _star_on_unknown_action),
    Planted("iam-star-resource-scoped", "NotResource in an Allow", _not_resource),
    Planted("iam-star-resource-scoped", "arn:*", _star_like_resource("arn:*")),
    Planted("iam-star-resource-scoped", "arn:aws:*", _star_like_resource("arn:aws:*")),
    Planted("iam-star-resource-scoped", "arn:*:*:*:*:*", _star_like_resource("arn:*:*:*:*:*")),
    Planted(
        "iam-star-resource-scoped",
        "every resource of a service",
        _star_like_resource("arn:aws:kms:us-east-1:123456789012:*"),
    ),
    Planted("iam-star-resource-scoped", "every object", _objects_of_every_bucket),
    Planted("iam-star-resource-scoped", "a wildcard account", _any_account),
    Planted(
        "iam-star-resource-scoped",
        "an allowlisted pattern, another action",
        _any_account_other_action,
    ),
    Planted("iam-irsa-trust-conditions", "no audience", _no_audience),
    Planted("iam-irsa-trust-conditions", "an audience pattern", _audience_pattern),
    Planted("iam-irsa-trust-conditions", "no subject", _no_subject),
    Planted("iam-irsa-trust-conditions", "StringLike, no wildcard", _subject_like_without_pattern),
    Planted("iam-irsa-trust-conditions", "a negative subject", _subject_other_operator),
    Planted("iam-irsa-trust-conditions", "any subject", _subject_pattern("*")),
    Planted(
        "iam-irsa-trust-conditions",
        "any namespace",
        _subject_pattern("system:serviceaccount:*:core-api-sa"),
    ),
    Planted(
        "iam-irsa-trust-conditions",
        "a namespace pattern",
        _subject_pattern("system:serviceaccount:pool*:core-api-sa"),
    ),
    Planted("iam-trust-no-wildcard-principal", "Principal *", _trust_everyone("*", '"*"')),
    Planted(
        "iam-trust-no-wildcard-principal",
        "AWS *",
        _trust_everyone({"AWS": ["arn:aws:iam::123456789012:root", "*"]}, '{"AWS": "*"}'),
    ),
    Planted("iam-trust-no-wildcard-principal", "NotPrincipal", _trust_not_principal),
    Planted("iam-trust-no-wildcard-principal", "NotAction", _trust_not_action),
    Planted(
        "iam-trust-no-wildcard-principal",
        "NotAction past IRSA",
        _trust_not_action_web_identity,
        also=("iam-irsa-trust-conditions",),
    ),
    Planted("iam-irsa-trust-conditions", "sts:AssumeRole*", _trust_web_identity_pattern),
    Planted(
        "iam-trust-own-account",
        "a foreign root",
        _trust_foreign("arn:aws:iam::999999999999:root", "999999999999"),
    ),
    Planted(
        "iam-trust-own-account",
        "a foreign role",
        _trust_foreign("arn:aws:iam::210987654321:role/ci", "210987654321"),
    ),
    Planted(
        "iam-trust-own-account",
        "a foreign account ID",
        _trust_foreign("999999999999", "999999999999"),
    ),
    Planted("iam-trust-own-account", "no account", _trust_no_account),
    Planted("iam-trust-own-account", "the stack's account unknown", _trust_account_unknown),
    Planted(
        "iam-trust-own-account", "the account from the role's ARN", _trust_account_from_the_role_arn
    ),
    Planted("iam-aws-managed-policies", "AdministratorAccess", _administrator_access),
    Planted("iam-aws-managed-policies", "PowerUserAccess in the role", _power_user_in_role),
    Planted("iam-aws-managed-policies", "IAMFullAccess, exclusive", _iam_full_access_exclusively),
    Planted("iam-aws-managed-policies", "a node policy on a pod role", _node_policy_on_pod_role),
    Planted(
        "iam-aws-managed-policies", "the CNI policy on the node role", _cni_policy_on_node_role
    ),
    Planted(
        "iam-aws-managed-policies", "a node role trusting more", _node_role_trusting_an_account
    ),
    Planted("iam-aws-managed-policies", "a role outside", _listed_policy_on_a_role_outside),
    Planted("iam-aws-managed-policies", "a user", _listed_policy_on_a_user),
    Planted("iam-managed-policy-size", "70 statements", _large_policy),
    Planted("iam-trust-policy-size", "40 service accounts", _large_trust),
    Planted("iam-role-inline-policies-size", "two large inline policies", _large_inline_policies),
    Planted("iam-role-managed-policy-count", "11 attached", _many_managed_policies),
    Planted("s3-bucket-kms-encryption", "no encryption", _no_encryption),
    Planted("s3-bucket-kms-encryption", "AES256", _aes_encryption),
    Planted("s3-bucket-kms-encryption", "the AWS-managed key", _aws_managed_key),
    Planted("s3-bucket-kms-encryption", "another bucket's, by name", _encryption_of_another_bucket),
    Planted("s3-bucket-kms-encryption", "a BucketV2 with none", _bucket_v2_unencrypted),
    Planted("s3-bucket-kms-encryption", "a BucketV2 with AES256", _bucket_v2_aes),
    Planted("s3-bucket-versioning", "suspended", _suspended_versioning),
    Planted("s3-bucket-versioning", "none", _no_versioning),
    Planted("s3-bucket-versioning", "another bucket's", _versioning_of_another_bucket),
    Planted("s3-bucket-public-access-block", "two flags off", _public_access),
    Planted("s3-bucket-public-access-block", "none", _no_public_access_block),
    Planted("s3-bucket-tls-only", "TLS required to be off", _tls_condition_inverted),
    Planted("s3-bucket-tls-only", "some objects only", _tls_objects_only),
    Planted("s3-bucket-tls-only", "no bucket policy", _no_bucket_policy),
    Planted("kms-key-rotation", "rotation off", _no_rotation),
    Planted("ecr-scan-on-push", "scan off", _no_scan_on_push),
    Planted("ecr-kms-encryption", "AES256", _aes_repository),
    Planted("ecr-kms-encryption", "the AWS-managed key", _repository_aws_managed_key),
    Planted("ec2-imdsv2-required", "an instance with IMDSv1", _imdsv1_instance),
    Planted("ec2-imdsv2-required", "a template with no options", _imds_unset_template),
    Planted("ec2-imdsv2-required", "a spot request with IMDSv1", _spot_imdsv1),
    Planted("ec2-no-public-ip", "an instance left to the subnet", _public_instance),
    Planted("ec2-no-public-ip", "a template's interface", _public_template),
    Planted("ec2-no-public-ip", "a spot request left to the subnet", _spot_public),
    Planted("ec2-encrypted-volumes", "an instance's volumes", _unencrypted_root),
    Planted("ec2-encrypted-volumes", "a template's volume", _unencrypted_template),
    Planted("ec2-encrypted-volumes", "a template without volumes", _template_without_volumes),
    Planted("ec2-encrypted-volumes", "a template's root without ebs", _template_root_without_ebs),
    Planted("ec2-encrypted-volumes", "a template's root unmapped", _template_root_unmapped),
    Planted("ec2-encrypted-volumes", "a device left to the AMI", _template_device_left_to_the_ami),
    Planted("ec2-encrypted-volumes", "a spot request's root", _spot_unencrypted),
    Planted("ec2-no-world-ingress", "a group's ingress block", _world_ingress_group),
    Planted("ec2-no-world-ingress", "a VPC ingress rule, IPv6", _world_ingress_ipv6_rule),
    Planted("ec2-no-world-ingress", "a group rule", _world_ingress_group_rule),
    Planted("ec2-no-world-ingress", "the default group", _world_ingress_default_group),
    Planted("ec2-no-world-ingress", "the internet in halves", _world_ingress_in_halves),
    Planted("ec2-no-world-ingress", "an IPv6 range wider than /16", _wide_ipv6_ingress_rule),
]


@pytest.mark.parametrize("planted", PLANTED, ids=lambda c: f"{c.rule}: {c.what}")
def test_the_rule_fires_on_its_planted_violation_alone(planted: Planted) -> None:
    p = plan("dev")
    expected = sorted(planted.expected(planted.plant(p)))
    check = check_plan(p)
    assert check.lines == expected
    assert check.exit_code == 1


def test_every_rule_has_a_planted_violation() -> None:
    assert {c.rule for c in PLANTED} == {rule.name for rule in RULES}


# Planted together (they touch different resources, or the same one compatibly).
TOGETHER = [
    _service_wildcard,
    _star_on_scoped_actions,
    _no_subject,
    _many_managed_policies,
    _no_encryption,
    _suspended_versioning,
    _public_access,
    _no_rotation,
    _no_scan_on_push,
    _aes_repository,
    _imdsv1_instance,
    _unencrypted_template,
    _world_ingress_group,
    _administrator_access,
    _trust_not_principal,
    _bucket_v2_aes,
    _template_root_unmapped,
    _spot_imdsv1,
    _world_ingress_default_group,
]


def _together() -> tuple[Plan, list[str]]:
    p = plan("dev")
    expected = []
    for plant in TOGETHER:
        [rule] = [c.rule for c in PLANTED if c.plant is plant]
        expected += [f"{rule}  {line}" for line in plant(p)]
    return p, sorted(expected)


def test_all_planted_violations_at_once_are_each_reported() -> None:
    """Planted together, none hides another."""
    p, expected = _together()
    check = check_plan(p)
    assert check.lines == expected
    assert check.exit_code == 1


def test_the_same_plan_gives_the_same_bytes_in_other_processes() -> None:
    """The violations planted together, checked by two processes with different hash seeds:
    nothing in the output depends on the order of a set."""
    p, expected = _together()
    runs = [
        subprocess.run(
            [sys.executable, "-m", "policy.check", "-"],
            input=json.dumps(p),
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=False,
        )
        for seed in ("1", "2")
    ]
    assert [r.returncode for r in runs] == [1, 1]
    assert runs[0].stdout == runs[1].stdout == "".join(f"{line}\n" for line in expected)


# -- What is allowed ------------------------------------------------------------------------------


def _clean(p: Plan) -> None:
    check = check_plan(p)
    assert (check.exit_code, check.lines) == (0, [])


def test_a_subject_pattern_may_use_string_like() -> None:
    p = plan("dev")
    set_trust(
        p,
        "pod-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:poolside:*"},
        },
    )
    _clean(p)


def test_an_allowlisted_action_may_take_star_and_so_may_one_that_takes_no_resource() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-kms-access",
        allow(["ec2:CreateSecurityGroup", "ec2:DescribeInstances", "kms:ListKeys"], "*"),
    )
    _clean(p)


def test_deny_statements_may_name_every_action() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-kms-access",
        allow("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/*"),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "kms:Decrypt", "NotResource": "arn:aws:kms:*:*:key/*"},
    )
    _clean(p)


def test_a_bucket_setting_tied_by_name_alone_counts() -> None:
    """A literal bucket name (no property dependency) ties the setting to its bucket."""
    p = plan("dev")
    for name in ("data-encryption", "data-versioning", "data-public-access-block", "data-policy"):
        [found] = [s for s in p["steps"] if s["urn"].endswith(f"::{name}")]
        found["newState"]["propertyDependencies"] = {}
    _clean(p)


def test_an_asymmetric_key_is_not_asked_to_rotate() -> None:
    p = plan("dev")
    _, key = inputs(p, "aws:kms/key:Key", "kms-key")
    key.update(customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY", enableKeyRotation=False)
    _clean(p)


def test_an_instance_without_a_metadata_service_needs_no_imdsv2() -> None:
    p = plan("dev")
    _, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["metadataOptions"] = {"httpEndpoint": "disabled"}
    _clean(p)


def test_a_role_listing_its_attached_policies_again_counts_each_once() -> None:
    """Once a role exists, its outputs list the policies its attachments and RolePolicy
    resources gave it (`managedPolicyArns`, `inlinePolicies`): the stack rules, which the engine
    runs on outputs, count each policy once."""
    p = plan("dev")
    role_urn, role = inputs(p, ROLE, "bastion-iam-role")
    attached = [
        s["inputs"]["policyArn"]
        for s in p["steps"]
        for s in [s["newState"]]
        if s["type"] == ATTACHMENT and s["inputs"]["role"] == role["name"]
    ]
    assert len(attached) == 8
    role["managedPolicyArns"] = attached
    text = document(
        *(allow("s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/p-{i:04d}/*") for i in range(55))
    )
    assert 5120 < len(text.replace(" ", "")) <= 6144  # twice would pass 10,240
    add_state(
        p,
        "aws:iam/rolePolicy:RolePolicy",
        "bastion-inline",
        {"role": role["name"], "name": "inline", "policy": text},
        {"role": [role_urn]},
    )
    role["inlinePolicies"] = [{"name": "inline", "policy": text}]
    _clean(p)


def test_every_rule_is_documented_once() -> None:
    """docs/policy-pack.md's table has a row per rule, and no row for a rule that is gone."""
    text = (PROJECT_ROOT / "docs" / "policy-pack.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert rows == [rule.name for rule in RULES]


def test_a_wildcard_region_or_a_named_resource_type_is_a_scope() -> None:
    """Bedrock's foundation models are in every region and owned by no account; a key of any
    region of the account, and `role/*` of the account, name what they reach."""
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-kms-access",
        allow("kms:Decrypt", "arn:aws:kms:*:123456789012:key/*"),
        allow("bedrock:InvokeModel", "arn:aws:bedrock:*::foundation-model/*"),
        allow("iam:GetRole", "arn:aws:iam::123456789012:role/*"),
    )
    _clean(p)


def test_an_allowlisted_action_may_take_a_pattern_as_good_as_star() -> None:
    p = plan("dev")
    set_policy(p, "pod-pod-kms-access", allow(["ec2:CreateSecurityGroup", "kms:ListKeys"], "arn:*"))
    _clean(p)


def test_a_narrower_action_pattern_is_not_every_action() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-s3-access",
        allow(["s3:Get*", "s3:GetObject?ersion", "s3:Get?bject"], f"arn:aws:s3:::{DATA_BUCKET}/*"),
    )
    _clean(p)


def test_a_prefix_after_the_resource_type_or_the_bucket_is_a_scope() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-s3-access",
        allow("s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/models/*"),
        allow("iam:PassRole", "arn:aws:iam::123456789012:role/poolside-dev-*"),
    )
    _clean(p)


def test_an_allowlisted_foreign_principal_and_the_stacks_own_are_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(FOREIGN_PRINCIPALS, "iam::999999999999:role/ci", "a test's reason")
    p = plan("dev")
    add_trust_statement(
        p,
        "bastion-iam-role",
        {
            "Effect": "Allow",
            "Principal": {
                "AWS": [
                    "arn:aws:iam::999999999999:role/ci",
                    "arn:aws:iam::123456789012:root",
                    "123456789012",
                ]
            },
            "Action": "sts:AssumeRole",
        },
    )
    _clean(p)


@pytest.mark.parametrize("stack", ["govcloud", "china"])
def test_aws_managed_policies_are_judged_in_every_partition(stack: str) -> None:
    p = plan(stack)
    partition = {"govcloud": "aws-us-gov", "china": "aws-cn"}[stack]
    admin = _attach(p, "pod-admin", "pod-role", "AdministratorAccess", partition)
    cni = _attach(p, "node-cni", "cluster-node-role", "AmazonEKS_CNI_Policy", partition)
    node_role = state(p, ROLE, "cluster-node-role")["inputs"]["name"]
    service = "ec2.amazonaws.com.cn" if stack == "china" else "ec2.amazonaws.com"
    assert service in state(p, ROLE, "cluster-node-role")["inputs"]["assumeRolePolicy"]
    check = check_plan(p)
    assert check.lines == sorted(
        [
            f"iam-aws-managed-policies  {admin}  'arn:{partition}:iam::aws:policy/AdministratorAccess' "
            f"{NOT_LISTED}",
            f"iam-aws-managed-policies  {cni}  'arn:{partition}:iam::aws:policy/AmazonEKS_CNI_Policy' "
            "is for a role only service account kube-system:aws-node assumes; the trust of "
            f"{node_role} admits service ec2",
        ]
    )


def test_an_open_subject_also_loses_the_roles_aws_managed_policy() -> None:
    p = plan("dev")
    role = set_trust(p, "vpc-cni-role", {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}})
    attachment = state(p, ATTACHMENT, "vpc-cni-AmazonEKS_CNI_Policy")["urn"]
    provider = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
    assert check_plan(p).lines == [
        f"iam-aws-managed-policies  {attachment}  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' "
        "is for a role only service account kube-system:aws-node assumes; the trust of "
        f"poolside-dev-eks-vpc-cni-role admits every service account of {provider}",
        f"iam-irsa-trust-conditions  {role}  trust Statement[0] (ServiceAccountsOfThisCluster): "
        f"the trust of {ISSUER} does not condition `{ISSUER}:sub` with StringEquals (or "
        "StringLike): any service account of the cluster could assume the role",
    ]


UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_an_unknown_policy_arn_from_a_policy_of_the_stack_is_customer_managed() -> None:
    """A first preview does not know a new policy's ARN; its dependency says where it came
    from. Without one, the rule cannot tell."""
    p = plan("dev")
    attachment = state(p, ATTACHMENT, "pod-pod-s3-access")
    attachment["inputs"]["policyArn"] = UNKNOWN_STRING
    _clean(p)
    attachment["propertyDependencies"]["policyArn"] = []
    assert check_plan(p).lines == [
        f"iam-aws-managed-policies  {attachment['urn']}  not checked: policyArn is unknown until "
        "the resources it depends on exist"
    ]


def test_a_complete_bucket_v2_passes() -> None:
    p = plan("dev")
    _add_bucket_v2(p, encryption="aws:kms")
    _clean(p)


def test_private_networks_and_narrow_ranges_may_be_admitted() -> None:
    p = plan("dev")
    _, group = inputs(p, "aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    group["ingress"] = [
        {
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks": ["10.0.0.0/8", "172.16.0.0/12", "203.0.113.7/32"],
            "ipv6CidrBlocks": ["2600:1f18::/16", "2600:1f18:4c1::/56"],
        }
    ]
    _clean(p)


def test_a_template_may_leave_out_an_ami_device_or_map_an_instance_store() -> None:
    p = plan("dev")
    _, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    template["blockDeviceMappings"] += [
        {"deviceName": "/dev/xvdb", "noDevice": ""},
        {"deviceName": "/dev/xvdc", "virtualName": "ephemeral0"},
    ]
    _clean(p)


def test_a_complete_spot_request_passes() -> None:
    p = plan("dev")
    _spot_request(p, lambda spot: None)
    _clean(p)
