"""Support for `tests/iam/test_requests.py`: one whole-program run read back as a deployment's IAM.

`read_deployment` turns a recording of the program (`tests.support.harness.run_stack`) into the facts the
request matrix needs: every role with its trust policy and the ARNs attached to it (followed from
the `RolePolicyAttachment`s, never assumed), the customer-managed policies by ARN, and the ARNs
and names of the deployment's resources as the recording reports them (bucket, key, repository,
cluster, node group, lock table, OIDC provider, parameter path).

AWS-managed policies are not in a recording. `AWS_MANAGED_COPIES` carries test copies of those
the program attaches to roles whose permissions the matrix evaluates, each exactly as the AWS
Managed Policy Reference publishes its default version, and complete at that version (a request
denied against a partial copy would prove nothing). A role with an attached AWS-managed policy
that has no copy here cannot have its identity requests judged: `identity_policies` raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offline_preview.engine import RecordedResource, Recording

Document = dict[str, Any]

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
REPOSITORY = "aws:ecr/repository:Repository"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "eks:index:ManagedNodeGroup"
TABLE = "aws:dynamodb/table:Table"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
PARAMETER = "aws:ssm/parameter:Parameter"

ALL_PARTITIONS = frozenset({"aws", "aws-us-gov", "aws-cn"})

# An AWS-managed policy's name is the last part of its ARN, after its path (`service-role/`).
_AWS_MANAGED_ARN = re.compile(
    r"arn:(?P<partition>[a-z-]+):iam::aws:policy/(?:[\w+=,.@-]+/)*(?P<name>[^/]+)"
)


# ---------------------------------------------------------------------------------------------
# AWS-managed policies, as test copies


@dataclass(frozen=True)
class ManagedPolicyCopy:
    """An AWS-managed policy's default version, copied from the AWS Managed Policy Reference."""

    name: str
    source: str
    document: Document
    partitions: frozenset[str]
    """Where the copy is used. The reference publishes the commercial (`aws`) text. A copy whose
    text names no partition (every Resource is `*`) is assumed to read the same in GovCloud and
    China; a copy whose text names the `aws` partition in an ARN is used in `aws` only."""


def _copy(
    name: str, version: str, edited: str, statements: list[Document], partitions: frozenset[str]
) -> ManagedPolicyCopy:
    source = (
        f"AWS Managed Policy Reference, {name}, policy version {version} (default), edited "
        f"{edited}: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/{name}.html"
    )
    document = {"Version": "2012-10-17", "Statement": statements}
    return ManagedPolicyCopy(name, source, document, partitions)


AWS_MANAGED_COPIES: dict[str, ManagedPolicyCopy] = {
    copy.name: copy
    for copy in (
        # The VPC CNI's IRSA role. Its second statement names the `aws` partition.
        _copy(
            "AmazonEKS_CNI_Policy",
            "v5",
            "2024-03-04",
            [
                {
                    "Sid": "AmazonEKSCNIPolicy",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:AttachNetworkInterface",
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeInstances",
                        "ec2:DescribeTags",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeSubnets",
                        "ec2:DetachNetworkInterface",
                        "ec2:ModifyNetworkInterfaceAttribute",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "AmazonEKSCNIPolicyENITag",
                    "Effect": "Allow",
                    "Action": ["ec2:CreateTags"],
                    "Resource": ["arn:aws:ec2:*:*:network-interface/*"],
                },
            ],
            frozenset({"aws"}),
        ),
        # The node role's two policies.
        _copy(
            "AmazonEKSWorkerNodePolicy",
            "v3",
            "2023-11-27",
            [
                {
                    "Sid": "WorkerNodePermissions",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:DescribeInstances",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeRouteTables",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVolumes",
                        "ec2:DescribeVolumesModifications",
                        "ec2:DescribeVpcs",
                        "eks:DescribeCluster",
                        "eks-auth:AssumeRoleForPodIdentity",
                    ],
                    "Resource": "*",
                }
            ],
            ALL_PARTITIONS,
        ),
        _copy(
            "AmazonEC2ContainerRegistryReadOnly",
            "v3",
            "2019-12-10",
            [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ecr:GetAuthorizationToken",
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:GetRepositoryPolicy",
                        "ecr:DescribeRepositories",
                        "ecr:ListImages",
                        "ecr:DescribeImages",
                        "ecr:BatchGetImage",
                        "ecr:GetLifecyclePolicy",
                        "ecr:GetLifecyclePolicyPreview",
                        "ecr:ListTagsForResource",
                        "ecr:DescribeImageScanFindings",
                    ],
                    "Resource": "*",
                }
            ],
            ALL_PARTITIONS,
        ),
        # The EBS CSI controller's IRSA role (`policy/service-role/AmazonEBSCSIDriverPolicy`).
        # Its volume and snapshot ARNs name the `aws` partition. (The text is v15's, as
        # zoph-io/IAMTrail records GetPolicyVersion; the reference lists v15 as the default.)
        _copy(
            "AmazonEBSCSIDriverPolicy",
            "v15",
            "2026-05-13",
            [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2:DescribeAvailabilityZones",
                        "ec2:DescribeInstances",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeSnapshots",
                        "ec2:DescribeTags",
                        "ec2:DescribeVolumes",
                        "ec2:DescribeVolumesModifications",
                        "ec2:DescribeVolumeStatus",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateSnapshot", "ec2:ModifyVolume"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CopyVolumes"],
                    "Resource": ["arn:aws:ec2:*:*:volume/vol-*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
                    "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:instance/*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateVolume", "ec2:EnableFastSnapshotRestores"],
                    "Resource": "arn:aws:ec2:*:*:snapshot/*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateTags"],
                    "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"],
                    "Condition": {
                        "StringEquals": {
                            "ec2:CreateAction": ["CreateVolume", "CreateSnapshot", "CopyVolumes"]
                        }
                    },
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteTags"],
                    "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateVolume", "ec2:CopyVolumes"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                    "Condition": {"StringLike": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateVolume", "ec2:CopyVolumes"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                    "Condition": {"StringLike": {"aws:RequestTag/CSIVolumeName": "*"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteVolume"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                    "Condition": {
                        "StringLike": {"ec2:ResourceTag/ebs.csi.aws.com/cluster": "true"}
                    },
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteVolume"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                    "Condition": {"StringLike": {"ec2:ResourceTag/CSIVolumeName": "*"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteVolume"],
                    "Resource": "arn:aws:ec2:*:*:volume/*",
                    "Condition": {
                        "StringLike": {"ec2:ResourceTag/kubernetes.io/created-for/pvc/name": "*"}
                    },
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateSnapshot"],
                    "Resource": "arn:aws:ec2:*:*:snapshot/*",
                    "Condition": {"StringLike": {"aws:RequestTag/CSIVolumeSnapshotName": "*"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:CreateSnapshot"],
                    "Resource": "arn:aws:ec2:*:*:snapshot/*",
                    "Condition": {"StringLike": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteSnapshot", "ec2:LockSnapshot"],
                    "Resource": "arn:aws:ec2:*:*:snapshot/*",
                    "Condition": {"StringLike": {"ec2:ResourceTag/CSIVolumeSnapshotName": "*"}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["ec2:DeleteSnapshot", "ec2:LockSnapshot"],
                    "Resource": "arn:aws:ec2:*:*:snapshot/*",
                    "Condition": {
                        "StringLike": {"ec2:ResourceTag/ebs.csi.aws.com/cluster": "true"}
                    },
                },
            ],
            frozenset({"aws"}),
        ),
        # AmazonEKSClusterPolicy (the cluster role's) is not carried: the matrix judges only
        # that role's trust.
    )
}


def aws_managed_policy_name(arn: str) -> str | None:
    """`AmazonEKS_CNI_Policy` for `arn:<partition>:iam::aws:policy/AmazonEKS_CNI_Policy`."""
    found = _AWS_MANAGED_ARN.fullmatch(arn)
    return found["name"] if found else None


def aws_managed_policy_partition(arn: str) -> str | None:
    found = _AWS_MANAGED_ARN.fullmatch(arn)
    return found["partition"] if found else None


# ---------------------------------------------------------------------------------------------
# The deployment, as the recording reports it


@dataclass(frozen=True)
class BedrockFacts:
    """What the stack config says about Bedrock (inputs of the test, not read from the program)."""

    model: str
    """An id in `bedrock.models`."""
    profile_id: str
    """The id in `bedrock.inferenceProfiles`."""
    profile_model: str
    """The foundation model that profile routes to."""
    other_regions: tuple[str, ...]
    """Regions of the partition other than the stack's, one of them not yet launched."""


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    trust: Document
    attached: tuple[str, ...]
    """The ARNs of the policies attached to the role, customer- and AWS-managed."""
    boundary: str | None


@dataclass(frozen=True)
class Deployment:
    """One run of the program: its roles and policies and its resources' ARNs."""

    config_id: str
    partition: str
    region: str
    account: str
    deployment_name: str
    prefix: str
    roles: Mapping[str, Role]
    """By role name."""
    policies: Mapping[str, Document]
    """Customer-managed policies by ARN (the recorded `arn` output)."""
    policy_names: Mapping[str, str]
    bucket_arn: str
    models_bucket_arn: str
    """The model checkpoints bucket the inference role reads."""
    key_arn: str
    repository_arn: str
    """The deployment's `api` repository."""
    cluster_name: str
    cluster_arn: str
    node_group_name: str
    lock_table_arn: str
    oidc_provider_arn: str
    issuer: str
    """The cluster's OIDC issuer without `https://`: the prefix of its condition keys."""
    parameter_path_arn: str
    """The parameter path every recorded parameter lives under (no trailing `/`)."""
    bedrock_facts: BedrockFacts | None

    # -- ARNs the test writes itself (other accounts', neighbours', AWS's) ---------------------

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`, this stack's by default."""
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def iam_arn(self, resource: str, *, account: str | None = None) -> str:
        return self.arn("iam", resource, region="", account=account)

    def object_arn(self, key: str) -> str:
        return f"{self.bucket_arn}/{key}"

    @property
    def repository_namespace_arn(self) -> str:
        """`arn:...:repository/poolside-<deploymentName>`: the recorded repository's namespace."""
        return self.repository_arn.rsplit("/", 1)[0]

    @property
    def bedrock(self) -> BedrockFacts:
        if self.bedrock_facts is None:
            raise AssertionError(f"{self.config_id}: Bedrock is not configured in this stack")
        return self.bedrock_facts

    def foundation_model_arn(self, model: str, *, region: str | None = None) -> str:
        return self.arn("bedrock", f"foundation-model/{model}", region=region, account="")

    @property
    def profile_arn(self) -> str:
        """The configured system-defined inference profile, as this account sees it here."""
        return self.arn("bedrock", f"inference-profile/{self.bedrock.profile_id}")

    # -- roles ---------------------------------------------------------------------------------

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise AssertionError(
                f"{self.config_id}: no role {name!r} in the recording ({sorted(self.roles)})"
            ) from None

    def _document(self, arn: str) -> tuple[str, Document]:
        if arn in self.policies:
            return self.policy_names[arn], self.policies[arn]
        name = aws_managed_policy_name(arn)
        copy = AWS_MANAGED_COPIES.get(name or "")
        if copy is None or self.partition not in copy.partitions:
            raise AssertionError(
                f"{self.config_id}: {arn} is neither a recorded policy nor an AWS-managed "
                f"policy with a test copy for partition {self.partition}: identity requests of "
                "a role it is attached to cannot be judged"
            )
        if aws_managed_policy_partition(arn) != self.partition:
            raise AssertionError(f"{self.config_id}: {arn} is not of partition {self.partition}")
        return copy.name, copy.document

    def identity_policies(self, role: Role) -> list[tuple[str, Document]]:
        """(policy name, document) of every policy attached to `role`."""
        return [self._document(arn) for arn in role.attached]

    def boundary(self, role: Role) -> Document | None:
        return None if role.boundary is None else self._document(role.boundary)[1]


def _one(recording: Recording, type_: str, config_id: str) -> RecordedResource:
    found = recording.by_type(type_)
    if len(found) != 1:
        raise AssertionError(f"{config_id}: expected one {type_}, recorded {len(found)}")
    return found[0]


def _bucket_arn(recording: Recording, name: str, config_id: str) -> str:
    found = [b for b in recording.by_type(BUCKET) if b.name == name]
    if len(found) != 1:
        raise AssertionError(f"{config_id}: expected one bucket {name}, recorded {len(found)}")
    return str(found[0].outputs["arn"])


def _roles(recording: Recording) -> dict[str, Role]:
    attached: dict[str, list[str]] = {}
    for attachment in recording.by_type(ATTACHMENT):
        role_name = str(attachment.inputs["role"])
        attached.setdefault(role_name, []).append(str(attachment.inputs["policyArn"]))
    roles: dict[str, Role] = {}
    for resource in recording.by_type(ROLE):
        name = str(resource.outputs["name"])
        boundary = resource.inputs.get("permissionsBoundary")
        roles[name] = Role(
            name=name,
            arn=str(resource.outputs["arn"]),
            trust=json.loads(resource.inputs["assumeRolePolicy"]),
            attached=tuple(attached.pop(name, [])),
            boundary=str(boundary) if boundary else None,
        )
    if attached:
        raise AssertionError(f"attachments to roles that were not recorded: {sorted(attached)}")
    return roles


def read_deployment(
    recording: Recording,
    *,
    config_id: str,
    partition: str,
    region: str,
    account: str,
    deployment_name: str,
    prefix: str,
    bedrock: BedrockFacts | None,
) -> Deployment:
    """The deployment's IAM and resource ARNs, from a whole-program recording."""
    policies = recording.by_type(POLICY)
    repositories = [
        r for r in recording.by_type(REPOSITORY) if str(r.outputs["name"]).endswith("/api")
    ]
    if len(repositories) != 1:
        raise AssertionError(f"{config_id}: expected one `api` repository")
    node_groups = recording.by_type(NODE_GROUP)
    if len(node_groups) != 1:
        raise AssertionError(f"{config_id}: expected one node group")
    parameter_paths = {
        str(p.outputs["arn"]).rsplit("/", 1)[0] for p in recording.by_type(PARAMETER)
    }
    if len(parameter_paths) != 1:
        raise AssertionError(f"{config_id}: parameters under several paths: {parameter_paths}")
    cluster = _one(recording, CLUSTER, config_id)
    oidc = _one(recording, OIDC_PROVIDER, config_id)
    return Deployment(
        config_id=config_id,
        partition=partition,
        region=region,
        account=account,
        deployment_name=deployment_name,
        prefix=prefix,
        roles=_roles(recording),
        policies={str(p.outputs["arn"]): json.loads(p.inputs["policy"]) for p in policies},
        policy_names={str(p.outputs["arn"]): str(p.outputs["name"]) for p in policies},
        bucket_arn=_bucket_arn(recording, "data-bucket", config_id),
        models_bucket_arn=_bucket_arn(recording, "models-bucket", config_id),
        key_arn=str(_one(recording, KEY, config_id).outputs["arn"]),
        repository_arn=str(repositories[0].outputs["arn"]),
        cluster_name=str(cluster.outputs["name"]),
        cluster_arn=str(cluster.outputs["arn"]),
        node_group_name=str(node_groups[0].inputs["nodeGroupName"]),
        lock_table_arn=str(_one(recording, TABLE, config_id).outputs["arn"]),
        oidc_provider_arn=str(oidc.outputs["arn"]),
        issuer=str(oidc.outputs["url"]).removeprefix("https://"),
        parameter_path_arn=parameter_paths.pop(),
        bedrock_facts=bedrock,
    )
