"""The bastion host: an SSM-managed EC2 instance that runs the deployment's operations.

It is reached through SSM Session Manager only: no key pair, a security group without a single
ingress rule, a private subnet. Its role carries the six policies of the spec's "Bastion Host
Policies" (`policies/bastion.py`) plus what the SSM agent needs for Session Manager (instead of
AWS's broader `AmazonSSMManagedInstanceCore`), and an EKS access
entry makes it a cluster administrator. The component also creates the state-lock table the
Terraform State Policy names (unless an existing one is given). The bastion writes no IAM: it
cannot create, change, tag or pass a role or policy (`policies/bastion.py` says why).

Choices:

* AMI: the latest Amazon Linux 2023 from AWS's public SSM parameter, looked up with an invoke
  (`aws.ssm.getParameter`) rather than passed as `resolve:ssm:...`: the plan then shows the AMI
  id that will boot, and the provider replaces an instance whose `ami` is a `resolve:ssm:` string
  on every run (hashicorp/terraform-provider-aws#43364, #22912). A looked-up AMI is ignored
  after creation (`ignore_changes`), so a new Amazon Linux release does not replace the bastion
  in the middle of someone's session or lock; `pulumi up --replace <urn>` or `amiId` moves it.
* Egress: HTTPS (443) to anywhere, nothing else. The SSM agent, `kubectl`/`helm` to the EKS API,
  ECR, S3, STS, Cognito, the package repositories and the tool downloads are all HTTPS, to public
  endpoints or interface VPC endpoints whose addresses are not fixed. DNS (the VPC resolver),
  the instance metadata service and the Time Sync Service are never filtered by security groups.
* IMDSv2 required with a hop limit of 1: the bastion runs no containers, so nothing needs a
  second hop, and a token can never be fetched from a container or forwarded off the host.
* User data (on by default) installs pinned `kubectl` and `helm`, each checked against its
  SHA-256 digest; the AWS CLI and the SSM agent come with Amazon Linux 2023.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from aws_environment import AwsEnvironment, is_arm64_instance_type
from components.bucket import Bucket, ExistingBucket
from components.ecr_repositories import EcrRepositories
from components.iam_role import IamRole, IamRoleArgs
from components.kms_key import ExistingKey, KmsKey
from components.replacement import data, delete_first
from naming import BASTION_POLICIES, Names, Role
from policies import bastion as bastion_policies
from policies.documents import Document
from policies.trust import service_trust

AMAZON_LINUX_2023_PARAMETER = (
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
)
EKS_CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"

# Pinned tools, x86_64 (the AMI above); kubectl 1.34 talks to clusters 1.33 to 1.35 (the
# project's default is 1.34). Digests: helm's from the v3.20.2 release notes ("Linux amd64
# (checksum / ...)", the `helm-v3.20.2-linux-amd64.tar.gz` archive); kubectl's is the one several
# independent public projects pin for the same dl.k8s.io URL (a Renovate-managed Makefile among
# them). When bumping, take both from the published `.sha256` files
# (`https://dl.k8s.io/release/<v>/bin/linux/amd64/kubectl.sha256`). A wrong digest fails closed:
# the script stops before installing anything unverified.
KUBECTL_VERSION = "v1.34.8"
KUBECTL_SHA256 = "f6249132865c13abe3c9dd5038f5da65849cb86eee1608c001831504e481aa8c"
HELM_VERSION = "v3.20.2"
HELM_SHA256 = "258e830a9e613c8a7a302d6059b4bb3b9758f2f3e1bb8ea0d707ce10a9a72fea"


@dataclass(frozen=True)
class BastionArgs:
    env: AwsEnvironment
    names: Names
    """The deployment's names: `<prefix>-bastion-role`, `<prefix>-bastion-<purpose>`, ..."""
    key: KmsKey | ExistingKey
    """The deployment's key: root volume, lock table, and the bastion's encrypt-decrypt grant."""
    bucket: Bucket | ExistingBucket
    """The deployment's bucket: the bastion reads and writes it (state, artifacts)."""
    repositories: EcrRepositories
    """The deployment's repositories: the ECR Access Policy is scoped to their namespace."""
    cluster_name: pulumi.Input[str]
    """The managed or existing EKS cluster the access entry is made in."""
    cluster_security_group_id: pulumi.Input[str]
    """The cluster security group EKS attaches to the API endpoint: it admits the bastion."""
    subnet_id: str
    """A private subnet (the config's `bastion_subnet_id`)."""
    vpc_id: str | None = None
    """The subnet's VPC (`cluster.vpcId`); None looks it up from the subnet (existing cluster)."""
    instance_type: str = "t3.medium"
    ami_id: str | None = None
    """None: the latest Amazon Linux 2023 (x86_64) from AWS's public SSM parameter."""
    install_tools: bool = True
    root_volume_size_gib: int = 30
    existing_lock_table_name: str | None = None
    """Use this state-lock table instead of creating `<prefix>-terraform-locks`."""
    iam_role_arns: Sequence[pulumi.Input[str]] = ()
    """The deployment's other IAM roles: the bastion may read them (and its own role)."""
    iam_policy_arns: Sequence[pulumi.Input[str]] = ()
    """The deployment's other customer-managed policies: readable (as its own six are)."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """The cluster's IAM OIDC provider: readable."""
    tags: dict[str, str] = field(default_factory=dict)


def tools_user_data() -> str:
    """First-boot script: install the pinned kubectl and helm, each verified by its digest."""
    return textwrap.dedent(
        f"""\
        #!/bin/bash
        # Poolside bastion: install pinned kubectl and helm (x86_64), verified by SHA-256.
        set -euo pipefail
        workdir="$(mktemp -d)"
        cd "$workdir"
        curl -fsSL --retry 5 -o kubectl \\
          "https://dl.k8s.io/release/{KUBECTL_VERSION}/bin/linux/amd64/kubectl"
        echo "{KUBECTL_SHA256}  kubectl" | sha256sum --check --strict
        install -o root -g root -m 0755 kubectl /usr/local/bin/kubectl
        curl -fsSL --retry 5 -o helm.tar.gz \\
          "https://get.helm.sh/helm-{HELM_VERSION}-linux-amd64.tar.gz"
        echo "{HELM_SHA256}  helm.tar.gz" | sha256sum --check --strict
        tar -xzf helm.tar.gz linux-amd64/helm
        install -o root -g root -m 0755 linux-amd64/helm /usr/local/bin/helm
        cd /
        rm -rf "$workdir"
        """
    )


def cluster_access_policy_arn(env: AwsEnvironment, policy_name: str) -> str:
    """An EKS access policy: `arn:<partition>:eks::aws:cluster-access-policy/<name>`."""
    return env.arn("eks", f"cluster-access-policy/{policy_name}", account="aws")


def start_session_command(instance_id: str, region: str) -> str:
    return f"aws ssm start-session --target {instance_id} --region {region}"


class Bastion(pulumi.ComponentResource):
    """The bastion's role, instance profile, security group, instance and cluster access."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    instance_profile_name: pulumi.Output[str]
    instance_profile_arn: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    start_session_command: pulumi.Output[str]
    lock_table_name: pulumi.Output[str]
    lock_table_arn: pulumi.Output[str]
    policy_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: BastionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if is_arm64_instance_type(args.instance_type) and (
            args.ami_id is None or args.install_tools
        ):
            # The stack config refuses this first, with its other problems; this guards callers.
            raise ValueError(
                f"poolside:bastion.instanceType {args.instance_type!r} is arm64 (Graviton), but "
                "the default AMI and the tools of poolside:bastion.installTools are x86_64: choose "
                "an x86_64 instance type, or set poolside:bastion.amiId to an arm64 AMI and "
                "poolside:bastion.installTools to false"
            )
        super().__init__("poolside:aws:Bastion", name, None, opts)
        self._name, self._args, self._tags = name, args, dict(args.tags)
        self._lock_table()
        self._role()
        self._network()
        self._instance()
        self._cluster_access()
        self.register_outputs(
            {
                "roleArn": self.role_arn,
                "instanceProfileName": self.instance_profile_name,
                "instanceProfileArn": self.instance_profile_arn,
                "instanceId": self.instance_id,
                "startSessionCommand": self.start_session_command,
                "lockTableName": self.lock_table_name,
            }
        )

    def _lock_table(self) -> None:
        """The state-lock table of the Terraform State Policy, unless an existing one is named."""
        args = self._args
        self.lock_table: aws.dynamodb.Table | None = None
        if args.existing_lock_table_name is not None:
            self.lock_table_name = pulumi.Output.from_input(args.existing_lock_table_name)
            self.lock_table_arn = pulumi.Output.from_input(
                bastion_policies.lock_table_arn(args.env, args.existing_lock_table_name)
            )
            return
        self.lock_table = aws.dynamodb.Table(
            f"{self._name}-lock-table",
            name=args.names.lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attributes=[{"name": "LockID", "type": "S"}],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": args.key.arn},
            tags=self._tags,
            # Locks guard state held elsewhere; a destroy must not pull them from under a running
            # operation, so the table stays (like the deployment's data).
            # data, protected from a replacement that would collide with the kept table
            opts=data(self, retain=True),
        )
        self.lock_table_name = self.lock_table.name
        self.lock_table_arn = self.lock_table.arn

    def _policy_documents(self) -> dict[str, Document]:
        """The six spec policies (the default one in two parts) and the Session Manager one, by
        purpose (`BASTION_POLICIES`)."""
        args = self._args
        env, names = args.env, args.names
        deployment_iam = bastion_policies.DeploymentIam(
            role_arns=[
                env.global_arn("iam", f"role/{names.role(Role.BASTION)}"),
                *args.iam_role_arns,
            ],
            policy_arns=[
                *(
                    env.global_arn("iam", f"policy/{names.bastion_policy(p)}")
                    for p in BASTION_POLICIES
                ),
                *args.iam_policy_arns,
            ],
            instance_profile_arn=env.global_arn(
                "iam", f"instance-profile/{names.bastion_instance_profile}"
            ),
            oidc_provider_arn=args.oidc_provider_arn,
        )
        documents = {
            "ecr-access": bastion_policies.ecr_access_policy(
                args.repositories.namespace_arn_pattern
            ),
            "cognito-management": bastion_policies.cognito_management_policy(
                env, names.deployment_name
            ),
            "ssm-parameters": bastion_policies.ssm_parameter_store_management_policy(
                env, names.deployment_name
            ),
            "acm-read": bastion_policies.acm_read_policy(env),
            "terraform-state": bastion_policies.terraform_state_policy(self.lock_table_arn),
            "default": bastion_policies.bastion_host_default_policy(
                env,
                cluster_name=args.cluster_name,
                key_arn=args.key.arn,
                data_grants=[
                    *args.bucket.grant_read_write("DeploymentBucket", key_sid=None),
                    *args.key.grant_encrypt_decrypt("UseDeploymentKey"),
                    *args.bucket.grant_key_beside(args.key.arn, "UseBucketKey"),
                ],
            ),
            "default-iam-read": bastion_policies.bastion_host_default_iam_read_policy(
                env, deployment_iam
            ),
            "session-manager": bastion_policies.session_manager_policy(env),
        }
        assert tuple(documents) == BASTION_POLICIES
        return documents

    def _role(self) -> None:
        """The role (8 of IAM's 10 managed policies) and its instance profile."""
        args = self._args
        names = args.names
        self.iam = IamRole(
            f"{self._name}-iam",
            IamRoleArgs(
                role_name=names.role(Role.BASTION),
                trust_policy=service_trust(
                    args.env.service_principal("ec2"), sid="Ec2InstanceProfile"
                ),
                description=f"Poolside deployment {names.deployment_name}: the bastion host",
                policy_name_prefix=names.bastion_policy_prefix,
                policies=self._policy_documents(),
                tags=self._tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = self.iam.arn
        self.role_name = self.iam.role_name
        self.policy_arns = self.iam.policy_arns
        self.instance_profile = aws.iam.InstanceProfile(
            f"{self._name}-instance-profile",
            name=names.bastion_instance_profile,
            role=self.iam.role_name,
            tags=self._tags,
            opts=delete_first(self),
        )
        self.instance_profile_name = self.instance_profile.name
        self.instance_profile_arn = self.instance_profile.arn

    def _network(self) -> None:
        """A security group with no ingress and HTTPS out, and the cluster API's door for it."""
        args = self._args
        vpc_id: pulumi.Input[str]
        if args.vpc_id is not None:
            vpc_id = args.vpc_id
        else:
            vpc_id = aws.ec2.get_subnet_output(
                id=args.subnet_id, opts=pulumi.InvokeOutputOptions(parent=self)
            ).vpc_id
        self.security_group = aws.ec2.SecurityGroup(
            f"{self._name}-security-group",
            # A name that changes with a replacement (`<prefix>-bastion-<suffix>`): the instance
            # moves to the new group before the old one can be deleted.
            name_prefix=f"{args.names.bastion_security_group}-",
            description="Poolside bastion: no ingress (SSM Session Manager only), HTTPS egress",
            vpc_id=vpc_id,
            ingress=[],
            egress=[
                {
                    "description": "HTTPS: SSM, EKS, ECR, S3, STS and other AWS APIs; tools",
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_blocks": ["0.0.0.0/0"],
                }
            ],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group_id = self.security_group.id
        # The API endpoint is private: its cluster security group must admit the bastion, or
        # `kubectl` from the bastion times out whatever the access entry allows.
        self.cluster_api_ingress = aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-cluster-api",
            security_group_id=args.cluster_security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description=f"Poolside bastion of {args.names.deployment_name}: Kubernetes API",
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _instance(self) -> None:
        """The instance: SSM only, IMDSv2 with hop limit 1, encrypted root, pinned tools."""
        args = self._args
        ami: pulumi.Input[str]
        if args.ami_id is not None:
            ami = args.ami_id
        else:
            ami = aws.ssm.get_parameter_output(
                name=AMAZON_LINUX_2023_PARAMETER, opts=pulumi.InvokeOutputOptions(parent=self)
            ).insecure_value  # a public AMI id, not a secret (`value` is always marked secret)
        self.instance = aws.ec2.Instance(
            f"{self._name}-instance",
            ami=ami,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[self.security_group.id],
            associate_public_ip_address=False,
            iam_instance_profile=self.instance_profile.name,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            root_block_device={
                "encrypted": True,
                "kms_key_id": args.key.arn,
                "volume_type": "gp3",
                "volume_size": args.root_volume_size_gib,
                "delete_on_termination": True,
                "tags": self._tags,
            },
            user_data=tools_user_data() if args.install_tools else None,
            # The bastion holds no state of its own: new tools mean a fresh instance.
            user_data_replace_on_change=True,
            tags={**self._tags, "Name": args.names.bastion_instance},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The SSM agent registers with the role's permissions at first boot.
                depends_on=[self.iam],
                ignore_changes=["ami"] if args.ami_id is None else None,
            ),
        )
        self.instance_id = self.instance.id
        region = args.env.region
        self.start_session_command = self.instance.id.apply(
            lambda instance_id: start_session_command(instance_id, region)
        )

    def _cluster_access(self) -> None:
        """Cluster administrator through an access entry (API authentication mode)."""
        args = self._args
        self.access_entry = aws.eks.AccessEntry(
            f"{self._name}-access-entry",
            cluster_name=args.cluster_name,
            principal_arn=self.iam.arn,
            type="STANDARD",
            tags=self._tags,
            opts=delete_first(self),
        )
        self.access_policy_association = aws.eks.AccessPolicyAssociation(
            f"{self._name}-cluster-admin",
            cluster_name=self.access_entry.cluster_name,
            principal_arn=self.access_entry.principal_arn,
            policy_arn=cluster_access_policy_arn(args.env, EKS_CLUSTER_ADMIN_POLICY),
            access_scope={"type": "cluster"},
            opts=delete_first(self),
        )
