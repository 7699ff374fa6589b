"""`diff --fail-on-widening` errs one way only: every way a plan can grant access is read (a role,
user or group and its policies, a key, bucket or repository policy, an EKS access entry), and
every other type that grants access (`offline_preview.iam_types.UNMODELLED`) is widening when
HEAD adds or changes one. Each case here printed `No IAM changes.` and exited 0 before it was
read: a plan of the dev stack, changed the way a pull request could change it."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi_aws
import pulumi_eks
import pulumi_kubernetes
import pytest

from offline_preview.iam_entries import AccessEntryGrant, AccessPolicyGrant, read_plan_iam
from offline_preview.iam_plan import UNKNOWN
from offline_preview.iam_types import (
    ACCESS_ENTRY,
    ACCESS_POLICY,
    ATTACHMENT,
    BUCKET_POLICY,
    GROUP_ATTACHMENT,
    KEY,
    KEY_POLICY,
    MODELLED,
    NO_GRANT,
    POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    UNMODELLED,
    USER,
    USER_ATTACHMENT,
    USER_POLICY,
    unmodelled,
)
from offline_preview.render import to_preview_json
from tests.support.examples import EXAMPLE_STACKS
from tests.support.harness import PROJECT_ROOT
from tests.support.plans import add_state, diff_plans, plan, state, states
from tests.support.preview import Preview
from tests.test_deployment_wiring import STACKS as WIRING_STACKS
from tests.test_deployment_wiring import stack as wiring_stack

Plan = dict[str, Any]

ACCOUNT = "123456789012"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
POD_ROLE = "poolside-dev-eks-pod-role"
VPC_CNI_ROLE = "poolside-dev-eks-vpc-cni-role"
DATA_BUCKET = "poolside-dev-123456789012"
KEY_ID = "c0f7aa90-c895-5304-8986-1bac593c7888"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
CLUSTER = "poolside-dev"
BASTION_ARN = f"arn:aws:iam::{ACCOUNT}:role/poolside-dev-bastion-role"
ACCESS_POLICIES = "arn:aws:eks::aws:cluster-access-policy"
CLUSTER_ADMIN = f"{ACCESS_POLICIES}/AmazonEKSClusterAdminPolicy"
OUTSIDER = "arn:aws:iam::999999999999:role/outsider"
NOT_MODELLED = "not modelled: treated as widening"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}


def public_read(bucket: str) -> str:
    return document({**PUBLIC_READ, "Resource": f"arn:aws:s3:::{bucket}/*"})


def named(planned: Plan, type_: str, name: str) -> dict[str, Any]:
    """The inputs (mutable, in `planned`) of the one resource of `type_` whose `name` is `name`."""
    [found] = [
        s["inputs"]
        for s in states(planned)
        if s["type"] == type_ and s["inputs"].get("name") == name
    ]
    assert isinstance(found, dict)
    return found


def inputs(planned: Plan, type_: str, logical_name: str) -> dict[str, Any]:
    found = state(planned, type_, logical_name)["inputs"]
    assert isinstance(found, dict)
    return found


def without(planned: Plan, logical_name: str) -> None:
    planned["steps"] = [s for s in planned["steps"] if not s["urn"].endswith(f"::{logical_name}")]


def changed(planned: Plan, *edits: Callable[[Plan], None]) -> Plan:
    head: Plan = json.loads(json.dumps(planned))
    for edit in edits:
        edit(head)
    return head


def widened(tmp_path: Path, base: Plan, head: Plan) -> Preview:
    result = diff_plans(tmp_path, base, head, "--fail-on-widening")
    assert result.exit_code == 1, result.stdout
    return result


def assert_widening(result: Preview, finding: str) -> None:
    """`finding` (`<title>: <line>`) is on stderr, and a line of its section's Widening."""
    assert f"widening: {finding}" in result.lines, result.stderr
    title, _, line = finding.partition(": ")
    section = result.stdout.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    widening = section.split("Widening:\n\n", 1)[1].split("\n\n", 1)[0]
    assert f"- {line}" in widening.splitlines()


# -- B1: every type that grants access is read, or fails closed ----------------------------------


def iam_user(p: Plan) -> None:
    add_state(p, USER, "deploy", {"name": "deploy"})
    add_state(p, USER_ATTACHMENT, "deploy-admin", {"user": "deploy", "policyArn": ADMIN_ARN})
    add_state(p, "aws:iam/accessKey:AccessKey", "deploy-key", {"user": "deploy"})


def key_policy_resource(p: Plan) -> None:
    """An `aws:kms/keyPolicy` for the deployment's key (its `keyId` computed from the key),
    beside the key's own `policy`: which one holds depends on the order they are applied."""
    key = state(p, KEY, "kms-key")["urn"]
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    add_state(
        p,
        KEY_POLICY,
        "kms-key-policy",
        {"keyId": KEY_ID, "policy": document(everyone)},
        property_dependencies={"keyId": [key]},
    )


def cluster_admin_for_an_outsider(p: Plan) -> None:
    add_state(
        p,
        ACCESS_ENTRY,
        "outsider",
        {"clusterName": CLUSTER, "principalArn": OUTSIDER, "type": "STANDARD"},
    )
    add_state(
        p,
        ACCESS_POLICY,
        "outsider-admin",
        {
            "clusterName": CLUSTER,
            "principalArn": OUTSIDER,
            "policyArn": CLUSTER_ADMIN,
            "accessScope": {"type": "cluster"},
        },
    )


def added(type_: str, logical_name: str, **given: Any) -> Callable[[Plan], None]:
    def add(p: Plan) -> None:
        add_state(p, type_, logical_name, given)

    return add


def unreviewed(type_: str, logical_name: str, *names: str) -> str:
    """The finding for a type no list names: compared as written, its grant-like inputs named."""
    listed = ", ".join(f"`{n}`" for n in names)
    return (
        f"resource `{type_}` `{logical_name}`: added: {NOT_MODELLED} "
        f"(a type not reviewed; inputs that look like grants: {listed})"
    )


GRANTS: dict[str, tuple[Callable[[Plan], None], list[str]]] = {
    "an IAM user with AdministratorAccess and an access key": (
        iam_user,
        [
            "IAM user `deploy`: a new IAM user",
            f"IAM user `deploy`: AWS-managed `{ADMIN_ARN}` attached",
            f"resource `aws:iam/accessKey:AccessKey` `deploy-key`: added: {NOT_MODELLED}",
        ],
    ),
    "a user's inline policy allowing everything": (
        added(USER_POLICY, "alice-admin", user="alice", name="admin", policy=ADMIN),
        ["IAM user `alice`: inline `admin`: `*` on `*`: a new action"],
    ),
    "a group policy attachment": (
        added(GROUP_ATTACHMENT, "admins-admin", group="admins", policyArn=ADMIN_ARN),
        [f"IAM group `admins`: AWS-managed `{ADMIN_ARN}` attached"],
    ),
    "a policy attachment naming users and groups": (
        added(
            POLICY_ATTACHMENT,
            "everyone-admin",
            name="everyone-admin",
            users=["alice"],
            groups=["admins"],
            policyArn=ADMIN_ARN,
        ),
        [
            f"IAM user `alice`: AWS-managed `{ADMIN_ARN}` attached",
            f"IAM group `admins`: AWS-managed `{ADMIN_ARN}` attached",
        ],
    ),
    "a KMS grant to another account": (
        added(
            "aws:kms/grant:Grant",
            "partner-decrypt",
            keyId=KEY_ARN,
            granteePrincipal="arn:aws:iam::999999999999:root",
            operations=["Decrypt"],
        ),
        [f"resource `aws:kms/grant:Grant` `partner-decrypt`: added: {NOT_MODELLED}"],
    ),
    "a key policy resource open to everyone": (
        key_policy_resource,
        [
            "KMS key `kms-key`: key policy (`aws:kms/keyPolicy`): `*` may `kms:*` on `*`: "
            "a new principal",
            "KMS key `kms-key`: two key policies for one key: whichever is applied last is the "
            "key's: treated as widening",
        ],
    ),
    "the bucket's own policy made public": (
        lambda p: inputs(p, "aws:s3/bucket:Bucket", "data-bucket").update(
            policy=public_read(DATA_BUCKET)
        ),
        [
            f"S3 bucket `{DATA_BUCKET}`: bucket policy (the bucket's `policy`): `*` may "
            f"`s3:GetObject` on `arn:aws:s3:::{DATA_BUCKET}/*`: a new principal",
            f"S3 bucket `{DATA_BUCKET}`: two bucket policy documents for one S3 bucket: "
            "whichever is applied last holds: treated as widening",
        ],
    ),
    "a new BucketV2 with a public policy": (
        added(
            "aws:s3/bucketV2:BucketV2", "open", bucket="open-data", policy=public_read("open-data")
        ),
        [
            "S3 bucket `open-data`: bucket policy (the bucket's `policy`): `*` may "
            "`s3:GetObject` on `arn:aws:s3:::open-data/*`: a new principal"
        ],
    ),
    "a public bucket ACL": (
        lambda p: inputs(p, "aws:s3/bucket:Bucket", "data-bucket").update(acl="public-read"),
        [f"resource `aws:s3/bucket:Bucket` `data-bucket`: `acl` set: {NOT_MODELLED}"],
    ),
    "a public access block switched off": (
        lambda p: inputs(
            p, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access-block"
        ).update(blockPublicPolicy=False, restrictPublicBuckets=False),
        [
            "resource `aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock` "
            "`data-public-access-block`: `blockPublicPolicy`, `restrictPublicBuckets` changed: "
            f"{NOT_MODELLED}"
        ],
    ),
    "an ECR registry policy": (
        added("aws:ecr/registryPolicy:RegistryPolicy", "registry", policy=ADMIN),
        [f"resource `aws:ecr/registryPolicy:RegistryPolicy` `registry`: added: {NOT_MODELLED}"],
    ),
    "cluster admin for another principal": (
        cluster_admin_for_an_outsider,
        [
            f"EKS cluster `{CLUSTER}`: `{OUTSIDER}` may `{CLUSTER_ADMIN}` on the cluster: "
            "a new principal",
            f"EKS cluster `{CLUSTER}`: `{OUTSIDER}` may authenticate (access entry `STANDARD`): "
            "a new principal",
        ],
    ),
    "a pod identity association": (
        added(
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "default-as-bastion",
            clusterName=CLUSTER,
            namespace="default",
            serviceAccount="default",
            roleArn=BASTION_ARN,
        ),
        [
            "resource `aws:eks/podIdentityAssociation:PodIdentityAssociation` "
            f"`default-as-bastion`: added: {NOT_MODELLED}"
        ],
    ),
    "an SQS queue policy": (
        added("aws:sqs/queuePolicy:QueuePolicy", "jobs", queueUrl="https://sqs/jobs", policy=ADMIN),
        [f"resource `aws:sqs/queuePolicy:QueuePolicy` `jobs`: added: {NOT_MODELLED}"],
    ),
    "a Lambda permission": (
        added(
            "aws:lambda/permission:Permission",
            "anyone",
            function="f",
            action="lambda:InvokeFunction",
            principal="*",
        ),
        [f"resource `aws:lambda/permission:Permission` `anyone`: added: {NOT_MODELLED}"],
    ),
    "a secret's policy": (
        added("aws:secretsmanager/secret:Secret", "token", name="token", policy=ADMIN),
        [f"resource `aws:secretsmanager/secret:Secret` `token`: `policy` set: {NOT_MODELLED}"],
    ),
    "a VPC endpoint's policy allowing everything": (
        added("aws:ec2/vpcEndpoint:VpcEndpoint", "s3-endpoint", vpcId="vpc-1", policy=ADMIN),
        [unreviewed("aws:ec2/vpcEndpoint:VpcEndpoint", "s3-endpoint", "policy")],
    ),
    "an OpenSearch domain's access policies": (
        added("aws:opensearch/domain:Domain", "search", domainName="s", accessPolicies=ADMIN),
        [unreviewed("aws:opensearch/domain:Domain", "search", "accessPolicies")],
    ),
    "an Elasticsearch domain's access policies": (
        added("aws:elasticsearch/domain:Domain", "search", domainName="s", accessPolicies=ADMIN),
        [unreviewed("aws:elasticsearch/domain:Domain", "search", "accessPolicies")],
    ),
    "a REST API's policy": (
        added("aws:apigateway/restApi:RestApi", "api", name="api", policy=ADMIN),
        [unreviewed("aws:apigateway/restApi:RestApi", "api", "policy")],
    ),
    "an SSM document shared with every account": (
        added(
            "aws:ssm/document:Document",
            "doc",
            name="doc",
            documentType="Command",
            permissions={"type": "Share", "accountIds": "All"},
        ),
        [unreviewed("aws:ssm/document:Document", "doc", "permissions")],
    ),
    "a VPC endpoint service allowing every principal": (
        added(
            "aws:ec2/vpcEndpointService:VpcEndpointService",
            "service",
            acceptanceRequired=False,
            allowedPrincipals=["*"],
        ),
        [
            unreviewed(
                "aws:ec2/vpcEndpointService:VpcEndpointService", "service", "allowedPrincipals"
            )
        ],
    ),
    "a public-read S3 object": (
        added(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "object",
            bucket=DATA_BUCKET,
            key="x",
            acl="public-read",
        ),
        [unreviewed("aws:s3/bucketObjectv2:BucketObjectv2", "object", "acl")],
    ),
    "cluster admin bound to every authenticated user": (
        added(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "everyone-admin",
            roleRef={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            subjects=[{"kind": "Group", "name": "system:authenticated"}],
        ),
        [
            "resource `kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding` "
            f"`everyone-admin`: added: {NOT_MODELLED}"
        ],
    ),
    "the aws-auth ConfigMap": (
        added(
            "kubernetes:core/v1:ConfigMap",
            "aws-auth",
            metadata={"name": "aws-auth", "namespace": "kube-system"},
            data={"mapRoles": f"- rolearn: {OUTSIDER}\n  groups: [system:masters]\n"},
        ),
        [f"resource `kubernetes:core/v1:ConfigMap` `aws-auth`: added: {NOT_MODELLED}"],
    ),
    "an add-on given another role": (
        lambda p: inputs(p, "aws:eks/addon:Addon", "cluster-vpc-cni").update(
            serviceAccountRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{POD_ROLE}"
        ),
        [
            "resource `aws:eks/addon:Addon` `cluster-vpc-cni`: `serviceAccountRoleArn` "
            f"changed: {NOT_MODELLED}"
        ],
    ),
    "a type no list names, without grant-like inputs": (
        added("aws:sqs/queueRedriveAllowPolicy:Unlisted", "q", queueUrl="u"),
        [
            "resource `aws:sqs/queueRedriveAllowPolicy:Unlisted` `q`: added: "
            f"{NOT_MODELLED} (a type not reviewed; no input looks like a grant)"
        ],
    ),
    "an IAM type the list does not name": (
        added("aws:iam/virtualMfaDevice:VirtualMfaDevice", "mfa", virtualMfaDeviceName="mfa"),
        [f"resource `aws:iam/virtualMfaDevice:VirtualMfaDevice` `mfa`: added: {NOT_MODELLED}"],
    ),
}


@pytest.mark.parametrize("kind", sorted(GRANTS))
def test_each_grant_is_read_or_fails_closed(tmp_path: Path, kind: str) -> None:
    edit, findings = GRANTS[kind]
    base = plan("dev")
    result = widened(tmp_path, base, changed(base, edit))
    for finding in findings:
        assert_widening(result, finding)
    assert len(result.lines) == len(findings), result.stderr


def test_a_key_policy_moved_to_a_key_policy_resource_is_no_widening(tmp_path: Path) -> None:
    """The key's `policy` as an `aws:kms/keyPolicy` of the key: the same key policy."""

    def move(p: Plan) -> None:
        key = state(p, KEY, "kms-key")
        policy = key["inputs"].pop("policy")
        add_state(
            p,
            KEY_POLICY,
            "kms-key-policy",
            {"keyId": KEY_ID, "policy": policy},
            property_dependencies={"keyId": [key["urn"]]},
        )

    base = plan("dev")
    result = diff_plans(tmp_path, base, changed(base, move), "--fail-on-widening")
    assert (result.exit_code, result.stderr) == (0, "")
    assert "- policies added: key policy (`aws:kms/keyPolicy`)" in result.stdout.splitlines()
    assert "- policies removed: key policy" in result.stdout.splitlines()


def test_a_removed_guard_widens_unless_aws_keeps_it(tmp_path: Path) -> None:
    """A public access block removed from the plan is deleted (widening), unless the plan keeps
    it in AWS on delete (`retainOnDelete`, as the program does)."""
    block = "data-public-access-block"
    title = f"resource `aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock` `{block}`"
    base = plan("dev")
    kept = diff_plans(
        tmp_path, base, changed(base, lambda p: without(p, block)), "--fail-on-widening"
    )
    assert (kept.exit_code, kept.stderr) == (0, "")
    assert kept.stdout.endswith(
        f"### {title}\n\nChanges:\n\n- removed from the plan: kept in AWS (`retainOnDelete`)\n"
    )
    state(base, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", block)[
        "retainOnDelete"
    ] = False
    result = widened(tmp_path, base, changed(base, lambda p: without(p, block)))
    assert result.lines == [
        f"widening: {title}: removed, and it guarded against access granted elsewhere: "
        f"{NOT_MODELLED}"
    ]


# -- EKS access: a new principal, a wider access policy or scope --------------------------------


def bastion_association(p: Plan) -> dict[str, Any]:
    return inputs(p, ACCESS_POLICY, "bastion-cluster-admin")


def view(p: Plan) -> None:
    bastion_association(p).update(policyArn=f"{ACCESS_POLICIES}/AmazonEKSViewPolicy")


def edit(p: Plan) -> None:
    bastion_association(p).update(policyArn=f"{ACCESS_POLICIES}/AmazonEKSEditPolicy")


def namespaces(*names: str) -> Callable[[Plan], None]:
    scope = {"type": "namespace", "namespaces": list(names)}
    return lambda p: bastion_association(p).update(accessScope=scope)


def bastion_line(policy: str, on: str, reason: str) -> str:
    return f"EKS cluster `{CLUSTER}`: `{BASTION_ARN}` may `{ACCESS_POLICIES}/{policy}` on {on}: {reason}"


# (base's edits, head's edits, the widening)
CLUSTER_ACCESS: dict[
    str, tuple[list[Callable[[Plan], None]], list[Callable[[Plan], None]], str]
] = {
    "view to cluster admin": (
        [view],
        [],
        bastion_line("AmazonEKSClusterAdminPolicy", "the cluster", "a wider access policy"),
    ),
    "view to edit": (
        [view],
        [edit],
        bastion_line("AmazonEKSEditPolicy", "the cluster", "another access policy"),
    ),
    "a namespace to the cluster": (
        [namespaces("poolside")],
        [],
        bastion_line("AmazonEKSClusterAdminPolicy", "the cluster", "a wider scope"),
    ),
    "a namespace to a prefix of namespaces": (
        [namespaces("poolside")],
        [namespaces("pool*")],
        bastion_line("AmazonEKSClusterAdminPolicy", "namespaces `pool*`", "a wider scope"),
    ),
    "a namespace to another": (
        [namespaces("poolside")],
        [namespaces("kube-system")],
        bastion_line("AmazonEKSClusterAdminPolicy", "namespaces `kube-system`", "another scope"),
    ),
    "system:masters for the access entry": (
        [],
        [
            lambda p: inputs(p, ACCESS_ENTRY, "bastion-access-entry").update(
                kubernetesGroups=["system:masters"]
            )
        ],
        f"EKS cluster `{CLUSTER}`: `{BASTION_ARN}` may authenticate (access entry `STANDARD`, "
        "Kubernetes groups `system:masters`): Kubernetes groups `system:masters` added",
    ),
}


@pytest.mark.parametrize("kind", sorted(CLUSTER_ACCESS))
def test_a_wider_cluster_access_widens(tmp_path: Path, kind: str) -> None:
    base_edits, head_edits, finding = CLUSTER_ACCESS[kind]
    base = changed(plan("dev"), *base_edits)
    result = widened(tmp_path, base, changed(plan("dev"), *head_edits))
    assert_widening(result, finding)
    assert len(result.lines) == 1, result.stderr
    # the other way round it is narrowing only, but for a swap (another policy, another scope)
    back = diff_plans(tmp_path, changed(plan("dev"), *head_edits), base, "--fail-on-widening")
    assert back.exit_code == (1 if "another" in finding else 0), back.stdout


@pytest.mark.parametrize(
    ("stack", "deployment", "partition"),
    [("dev", "dev", "aws"), ("govcloud", "gov", "aws-us-gov"), ("china", "china", "aws-cn")],
)
def test_the_bastion_s_cluster_admin_is_read_from_every_example_plan(
    stack: str, deployment: str, partition: str
) -> None:
    iam = read_plan_iam(plan(stack), stack)
    [cluster] = [e for (kind, _), e in iam.entries.items() if kind == "EKS cluster"]
    assert cluster.name == f"poolside-{deployment}"
    bastion = f"arn:{partition}:iam::{ACCOUNT}:role/poolside-{deployment}-bastion-role"
    assert cluster.access_entries == {AccessEntryGrant(bastion, "STANDARD", "", ())}
    assert cluster.access_policies == {
        AccessPolicyGrant(
            bastion,
            f"arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            None,
        )
    }


# -- B2: a principal (or bucket) the plan stops creating still holds what HEAD grants it --------


def vpc_cni_role_gone_and_admin(p: Plan) -> None:
    without(p, "vpc-cni-role")
    inputs(
        p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "vpc-cni-AmazonEKS_CNI_Policy"
    ).update(policyArn=ADMIN_ARN)


def test_an_attachment_to_a_role_the_plan_stops_creating_is_a_grant(tmp_path: Path) -> None:
    base = plan("dev")
    result = widened(tmp_path, base, changed(base, vpc_cni_role_gone_and_admin))
    assert result.lines == [f"widening: role `{VPC_CNI_ROLE}`: AWS-managed `{ADMIN_ARN}` attached"]
    section = result.stdout.split(f"### role `{VPC_CNI_ROLE}`\n", 1)[1]
    assert "\nNarrowing:\n\n- the role is no longer created by the plan\n" in section
    assert "- AWS-managed `arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy` detached" in section


def test_a_role_named_by_arn_or_urn_is_the_same_role(tmp_path: Path) -> None:
    def by_arn_and_urn(p: Plan) -> None:
        attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
        inputs(p, attachment, "vpc-cni-AmazonEKS_CNI_Policy").update(
            role=f"arn:aws:iam::{ACCOUNT}:role/{VPC_CNI_ROLE}"
        )
        urn = state(p, ROLE, "pod-role")["urn"]
        inputs(p, attachment, "pod-pod-s3-access").update(role=f"<resource {urn}>")

    base = plan("dev")
    result = diff_plans(tmp_path, base, changed(base, by_arn_and_urn), "--fail-on-widening")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "No IAM changes.\n", "")


def test_a_bucket_policy_on_a_bucket_the_plan_stops_creating_is_a_grant(tmp_path: Path) -> None:
    def public(p: Plan) -> None:
        without(p, "data-bucket")
        inputs(p, BUCKET_POLICY, "data-policy").update(policy=public_read(DATA_BUCKET))

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, public))
    assert_widening(
        result,
        f"S3 bucket `{DATA_BUCKET}`: bucket policy: `*` may `s3:GetObject` on "
        f"`arn:aws:s3:::{DATA_BUCKET}/*`: a new principal",
    )
    assert "\nNarrowing:\n\n- the S3 bucket is no longer created by the plan\n" in result.stdout


# -- B5: a policy is found by name, prefix or auto-name; what is not found fails closed ----------


def pod_s3_policy(p: Plan) -> dict[str, Any]:
    return inputs(p, POLICY, "pod-pod-s3-access")


def name_prefix(prefix: str) -> Callable[[Plan], None]:
    def edit(p: Plan) -> None:
        policy = pod_s3_policy(p)
        del policy["name"]
        policy["namePrefix"] = prefix

    return edit


def auto_named(p: Plan) -> None:
    """No name: Pulumi names it after its logical name; the attachment names that ARN."""
    del pod_s3_policy(p)["name"]
    inputs(p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "pod-pod-s3-access").update(
        policyArn=f"arn:aws:iam::{ACCOUNT}:policy/pod-pod-s3-access-0a1b2c3"
    )


def allow_everything(p: Plan) -> None:
    pod_s3_policy(p)["policy"] = ADMIN


POLICY_NAMES: dict[str, tuple[Callable[[Plan], None], str]] = {
    "by its name prefix": (
        name_prefix("poolside-dev-pod-s3-"),
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-s3-access`: `*` on `*`: a new action",
    ),
    "by its auto-name": (
        auto_named,
        f"role `{POD_ROLE}`: customer-managed `pod-pod-s3-access-0a1b2c3`: `*` on `*`: a new action",
    ),
    "not at all (a prefix the attached ARN does not begin with)": (
        name_prefix("pod-s3-"),
        "unattached policy `pod-s3-*`: customer-managed `pod-s3-*`: `*` on `*`: a new action",
    ),
}


@pytest.mark.parametrize("kind", sorted(POLICY_NAMES))
def test_a_changed_policy_widens_however_it_is_named(tmp_path: Path, kind: str) -> None:
    naming, finding = POLICY_NAMES[kind]
    base = changed(plan("dev"), naming)
    unchanged = diff_plans(tmp_path, base, base, "--fail-on-widening")
    assert (unchanged.exit_code, unchanged.stdout) == (0, "No IAM changes.\n")
    result = widened(tmp_path, base, changed(base, allow_everything))
    assert result.lines == [f"widening: {finding}"]


def test_an_attached_policy_the_plan_cannot_resolve_fails_closed(tmp_path: Path) -> None:
    """Two policies whose prefixes both begin the attached ARN (and name them alike), and an ARN
    unknown until the update: each is widening, even in a plan against itself."""

    def ambiguous(p: Plan) -> None:
        name_prefix("poolside-dev-pod-")(p)
        kms = inputs(p, POLICY, "pod-pod-kms-access")
        kms["namePrefix"] = kms.pop("name")[: len("poolside-dev-pod-")]

    def unknown(p: Plan) -> None:
        inputs(p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "pod-pod-s3-access").update(
            policyArn=UNKNOWN
        )

    head = changed(plan("dev"), ambiguous, unknown)
    result = widened(tmp_path, head, head)
    assert result.lines == [
        f"widening: role `{POD_ROLE}`: customer-managed `arn:aws:iam::{ACCOUNT}:policy/"
        "poolside-dev-pod-kms-access`: several policies of the plan may be it: treated as widening",
        f"widening: role `{POD_ROLE}`: policy `{UNKNOWN}`: not a policy ARN the plan can resolve: "
        "treated as widening",
        "widening: unattached policy `poolside-dev-pod-*`: several policies of the plan are named "
        "customer-managed `poolside-dev-pod-*`: treated as widening",
    ]


def test_a_role_created_twice_fails_closed(tmp_path: Path) -> None:
    """Two roles of one name (AWS allows one): which trust policy holds is unknown."""

    def twice(p: Plan) -> None:
        role = state(p, ROLE, "pod-role")
        add_state(p, ROLE, "pod-role-again", dict(role["inputs"]))

    head = changed(plan("dev"), twice)
    result = widened(tmp_path, plan("dev"), head)
    urns = sorted(s["urn"] for s in states(head) if s["inputs"].get("name") == POD_ROLE)
    assert result.lines == [
        f"widening: role `{POD_ROLE}`: two roles named `{POD_ROLE}`: {urns[0]} and {urns[1]}: "
        "treated as widening"
    ]


def test_the_report_is_byte_identical_whatever_the_order_of_the_steps(tmp_path: Path) -> None:
    base = changed(plan("dev"), name_prefix("pod-s3-"))
    head = changed(
        base,
        iam_user,
        cluster_admin_for_an_outsider,
        key_policy_resource,
        vpc_cni_role_gone_and_admin,
        allow_everything,
        GRANTS["a policy attachment naming users and groups"][0],
        GRANTS["a public access block switched off"][0],
    )
    first = diff_plans(tmp_path, base, head)
    for seed in (1, 2):
        base_shuffled, head_shuffled = changed(base), changed(head)
        for planned in (base_shuffled, head_shuffled):
            random.Random(seed).shuffle(planned["steps"])
        again = diff_plans(tmp_path, base_shuffled, head_shuffled)
        assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    # three principals new, the vpc-cni role, the cluster, the key, the access key, the public
    # access block, the policy the attachment cannot be tied to
    assert first.stdout.count("\n### ") == 9


# -- the summary, and the wording of a resource swapped ------------------------------------------


def test_a_plan_without_steps_counts_no_more_changes_than_entries(tmp_path: Path) -> None:
    result = diff_plans(tmp_path, plan("dev"), {"steps": []}, "--fail-on-widening")
    assert result.exit_code == 0
    summary = result.stdout.splitlines()[2]
    assert summary == (
        "No widening: HEAD allows no request BASE did not. Narrowing: 23. Changed: 26 of 26 "
        "IAM entries."
    )
    assert len(re.findall(r"^### ", result.stdout, re.MULTILINE)) == 26
    assert "### ECR repository" not in result.stdout  # a repository without a policy grants none


def test_another_bucket_is_another_resource_not_a_wider_one(tmp_path: Path) -> None:
    def swap(p: Plan) -> None:
        policy = named(p, POLICY, "poolside-dev-inference-models-read")
        policy["policy"] = policy["policy"].replace("poolside-dev-models-123456789012", "other")

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, swap))
    assert_widening(
        result,
        "role `poolside-dev-eks-inference-role`: customer-managed "
        "`poolside-dev-inference-models-read`: `s3:GetObject` on `arn:aws:s3:::other/*`: "
        "another resource",
    )


# -- the plans the program makes: no change against themselves, however their steps are ordered -


def _wiring_plan(name: str) -> Plan:
    printed: Plan = json.loads(json.dumps(to_preview_json(wiring_stack(name).recording)))
    return printed


@pytest.mark.parametrize("name", [*EXAMPLE_STACKS, *sorted(WIRING_STACKS)])
def test_the_program_s_plans_are_no_iam_changes_against_themselves(
    tmp_path: Path, name: str
) -> None:
    base = plan(name) if name in EXAMPLE_STACKS else _wiring_plan(name)
    shuffled = changed(base)
    random.Random(11).shuffle(shuffled["steps"])
    for head in (base, shuffled):
        result = diff_plans(tmp_path, base, head, "--fail-on-widening")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "No IAM changes.\n", "")


def test_the_dev_plan_s_entries() -> None:
    """What the dev plan grants, entry by entry kind: nothing unreadable, no policy unattached."""
    iam = read_plan_iam(plan("dev"), "dev")
    kinds: dict[str, int] = {}
    for kind, _ in iam.entries:
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {
        "role": 9,
        "KMS key": 1,
        "S3 bucket": 2,
        "ECR repository": 3,
        "EKS cluster": 1,
        "resource `aws:eks/cluster:Cluster`": 1,
        "resource `eks:index:Cluster`": 1,
        "resource `aws:iam/instanceProfile:InstanceProfile`": 1,
        "resource `aws:iam/openIdConnectProvider:OpenIdConnectProvider`": 1,
        "resource `aws:s3/bucketOwnershipControls:BucketOwnershipControls`": 2,
        "resource `aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock`": 2,
        "resource `aws:eks/addon:Addon`": 2,  # the VPC CNI's and EBS CSI driver's roles
        "resource `aws:ec2/instance:Instance`": 1,  # the bastion's instance profile
        "resource `eks:index:ManagedNodeGroup`": 2,  # the node role
    }
    assert not any(entry.unreadable for entry in iam.entries.values())


# -- the closed lists ----------------------------------------------------------------------------


def _provider_types() -> set[str]:
    """Every resource type token pulumi-aws and pulumi-eks define."""
    found: set[str] = set()
    for package in (pulumi_aws, pulumi_eks, pulumi_kubernetes):
        assert package.__file__ is not None
        for source in Path(package.__file__).parent.rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            found |= set(re.findall(r"'((?:aws|eks|kubernetes):[\w/.]+:[A-Z]\w*)'", text))
    return found


def test_every_listed_type_is_a_provider_s_resource_type() -> None:
    types = _provider_types()
    assert sorted((set(UNMODELLED) | MODELLED) - types) == []
    iam_types = {t for t in types if t.startswith("aws:iam/")}
    assert all(t in MODELLED or unmodelled(t) is not None for t in iam_types)


def test_the_docs_list_every_type() -> None:
    text = (PROJECT_ROOT / "docs" / "iam-diff.md").read_text(encoding="utf-8")
    listed = set(UNMODELLED) | MODELLED | set(NO_GRANT)
    missing = [t for t in sorted(listed) if f"`{t}`" not in text]
    assert missing == []


def test_every_type_of_the_program_s_plans_is_reviewed() -> None:
    """The types reviewed to grant nothing are exactly those the program's plans hold besides
    the modelled and not-modelled ones: a new type in a plan must be reviewed, and a type no
    plan holds any longer leaves the list."""
    held = {s["type"] for name in EXAMPLE_STACKS for s in states(plan(name))}
    held |= {s["type"] for name in sorted(WIRING_STACKS) for s in states(_wiring_plan(name))}
    assert held - MODELLED - set(UNMODELLED) == set(NO_GRANT)
    assert not set(NO_GRANT) & (MODELLED | set(UNMODELLED))
    assert all(unmodelled(t) is None for t in NO_GRANT)
    spec = unmodelled("aws:opensearch/domain:Domain")
    assert spec is not None and spec.inputs is None and not spec.reviewed


# -- review 2: duplicate labels, the account root, types not reviewed, ARNs of another account ---

MODELS = "arn:aws:s3:::poolside-dev-models-123456789012/*"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OVERWRITTEN = (
    "role `poolside-dev-eks-pod-role`: two policies labelled inline `pod-extra`: "
    f"urn:pulumi:dev::poolside::{ROLE_POLICY}::pod-extra and "
    f"urn:pulumi:dev::poolside::{ROLE_POLICY}::pod-extra-b: treated as widening"
)


def two_inline_policies(second_logical: str, second_name: str | None) -> Callable[[Plan], None]:
    """`pod-extra` (no `name`: its logical name) reading and deleting models, then a second
    inline policy of the pod role labelled the same that grants no more than BASE does."""

    def edit(p: Plan) -> None:
        wide = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"]}
        add_state(
            p,
            ROLE_POLICY,
            "pod-extra",
            {"role": POD_ROLE, "policy": document({**wide, "Resource": MODELS})},
        )
        narrow = {"Effect": "Allow", "Action": "s3:GetObject"}
        given = {"name": second_name} if second_name else {}
        add_state(
            p,
            ROLE_POLICY,
            second_logical,
            {
                **given,
                "role": POD_ROLE,
                "policy": document({**narrow, "Resource": f"arn:aws:s3:::{DATA_BUCKET}/*"}),
            },
        )

    return edit


@pytest.mark.parametrize(
    ("second_logical", "second_name"),
    [("pod-extra-b", "pod-extra"), ("pod-extra-c", None)],
    ids=["a name equal to another's logical name", "two policies given one name"],
)
def test_two_inline_policies_of_one_label_are_both_read_and_fail_closed(
    tmp_path: Path, second_logical: str, second_name: str | None
) -> None:
    """The second used to overwrite the first: `s3:DeleteObject` on the models passed."""
    base = plan("dev")
    edit = two_inline_policies(second_logical, second_name)
    if second_name is None:  # both named `pod-extra` explicitly

        def explicit(p: Plan) -> None:
            edit(p)
            inputs(p, ROLE_POLICY, "pod-extra")["name"] = "pod-extra"
            inputs(p, ROLE_POLICY, second_logical)["name"] = "pod-extra"

        result = widened(tmp_path, base, changed(base, explicit))
        overwritten = OVERWRITTEN.replace("pod-extra-b", second_logical)
    else:
        result = widened(tmp_path, base, changed(base, edit))
        overwritten = OVERWRITTEN
    assert_widening(result, overwritten)
    assert_widening(
        result,
        f"role `{POD_ROLE}`: inline `pod-extra`: `s3:DeleteObject` on `{MODELS}`: a new action",
    )


def test_two_inline_policies_of_one_role_s_inline_policies_fail_closed(tmp_path: Path) -> None:
    def twice(p: Plan) -> None:
        same = {
            "name": "extra",
            "policy": document(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{DATA_BUCKET}/*",
                }
            ),
        }
        named(p, ROLE, POD_ROLE)["inlinePolicies"] = [same, dict(same)]

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, twice))
    urn = state(base, ROLE, "pod-role")["urn"]
    assert_widening(
        result,
        f"role `{POD_ROLE}`: two policies labelled inline `extra`: {urn} and {urn}: "
        "treated as widening",
    )


def test_a_role_given_directly_is_not_covered_by_its_account_root(tmp_path: Path) -> None:
    """A key policy's grant to the account root delegates to IAM; a grant to the pod role
    needs no IAM policy of the role's: it is a new principal."""
    pod_arn = f"arn:aws:iam::{ACCOUNT}:role/{POD_ROLE}"

    def direct(p: Plan) -> None:
        key = inputs(p, KEY, "kms-key")
        policy = json.loads(key["policy"])
        policy["Statement"].append(
            {"Effect": "Allow", "Principal": {"AWS": pod_arn}, "Action": "kms:*", "Resource": "*"}
        )
        key["policy"] = json.dumps(policy)

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, direct))
    assert_widening(
        result,
        f"KMS key `kms-key`: key policy: `AWS {pod_arn}` may `kms:*` on `*`: a new principal",
    )
    assert len(result.lines) == 1, result.stderr


POD_S3 = "poolside-dev-pod-s3-access"


@pytest.mark.parametrize(
    "arn",
    [f"arn:aws:iam::999999999999:policy/{POD_S3}", f"arn:aws-cn:iam::{ACCOUNT}:policy/{POD_S3}"],
    ids=["another account", "another partition"],
)
def test_a_policy_arn_of_another_account_is_not_the_plan_s_policy(tmp_path: Path, arn: str) -> None:
    """The plan's account and partition are its own ARNs' (those computed from its policies):
    the same path and name elsewhere is another policy, whose statements the plan lacks."""

    def elsewhere(p: Plan) -> None:
        add_state(p, ATTACHMENT, "pod-elsewhere", {"role": POD_ROLE, "policyArn": arn})

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, elsewhere))
    urn = state(base, POLICY, "pod-pod-s3-access")["urn"]
    assert_widening(
        result,
        f"role `{POD_ROLE}`: customer-managed `{arn}`: named as the plan's {urn}, in another "
        "account or partition than the plan's: treated as widening",
    )
    assert_widening(result, f"role `{POD_ROLE}`: customer-managed `{arn}` attached")


def test_a_role_arn_of_another_account_is_not_the_plan_s_role(tmp_path: Path) -> None:
    other = f"arn:aws:iam::999999999999:role/{POD_ROLE}"

    def elsewhere(p: Plan) -> None:
        add_state(p, ATTACHMENT, "outsider-admin", {"role": other, "policyArn": ADMIN_ARN})

    base = plan("dev")
    result = widened(tmp_path, base, changed(base, elsewhere))
    assert_widening(result, f"role `{other}`: AWS-managed `{ADMIN_ARN}` attached")
    assert f"### role `{POD_ROLE}`" not in result.stdout
