"""The bastion host's role and instance profile, instance, network, cluster access and
state-lock table, in every partition, under the mock engine (its policies: policies/test_bastion.py)."""

from __future__ import annotations

import re

import pulumi
import pytest

from components.bastion import (
    HELM_SHA256,
    HELM_VERSION,
    KUBECTL_SHA256,
    KUBECTL_VERSION,
)
from offline_preview.engine import Recording
from tests.support.bastion import (
    ACCESS_ENTRY,
    AL2023_PARAMETER,
    ASSOCIATION,
    ATTACHMENT,
    CLUSTER_SECURITY_GROUP,
    GET_PARAMETER,
    INSTANCE,
    POLICY,
    PREFIX,
    PURPOSES,
    ROLE,
    SECURITY_GROUP,
    SUBNET,
    TABLE,
    VPC,
    build,
    children_of,
    documents,
    record,
    run,
)
from tests.support.harness import (
    ACCOUNT_ID,
    PARTITIONS,
    REGIONS,
    TAGS,
    run_stack,
)
from tests.support.policies import statements_by_sid

# ---------------------------------------------------------------------------------------------
# Role, trust, instance profile and the seven managed policies


def test_the_cluster_api_admits_the_bastion_on_443_only(
    bastion_stack: tuple[str, Recording],
) -> None:
    _, recording = bastion_stack
    [rule] = recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    group = recording.one("aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    assert rule.inputs["securityGroupId"] == CLUSTER_SECURITY_GROUP
    assert rule.inputs["referencedSecurityGroupId"] == group.id
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert "cidrIpv4" not in rule.inputs


def test_instance_profile_holds_the_role(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    profile = recording.one("aws:iam/instanceProfile:InstanceProfile", "bastion-instance-profile")
    assert profile.inputs == {
        "name": f"{PREFIX}-bastion-instance-profile",
        "role": f"{PREFIX}-bastion-role",
        "tags": TAGS,
    }
    assert recording.stack_outputs["instanceProfileName"] == f"{PREFIX}-bastion-instance-profile"
    assert recording.stack_outputs["instanceProfileArn"] == (
        f"arn:{partition}:iam::{ACCOUNT_ID}:instance-profile/{PREFIX}-bastion-instance-profile"
    )


# ---------------------------------------------------------------------------------------------
# The six policies, exactly


# ---------------------------------------------------------------------------------------------
# Quotas and the IAM lint


# ---------------------------------------------------------------------------------------------
# The instance and its network


def test_instance_is_ssm_only_imdsv2_encrypted_and_keyless(
    bastion_stack: tuple[str, Recording],
) -> None:
    partition, recording = bastion_stack
    instance = recording.one(INSTANCE, "bastion-instance")
    key_arn = recording.stack_outputs["keyArn"]
    assert instance.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert "keyName" not in instance.inputs
    assert instance.inputs["associatePublicIpAddress"] is False
    assert instance.inputs["rootBlockDevice"] == {
        "encrypted": True,
        "kmsKeyId": key_arn,
        "volumeType": "gp3",
        "volumeSize": 30,
        "deleteOnTermination": True,
        "tags": TAGS,
    }
    assert instance.inputs["iamInstanceProfile"] == f"{PREFIX}-bastion-instance-profile"
    assert instance.inputs["subnetId"] == SUBNET
    assert instance.inputs["instanceType"] == "t3.medium"
    group = recording.one(SECURITY_GROUP, "bastion-security-group")
    assert instance.inputs["vpcSecurityGroupIds"] == [group.id]
    assert instance.inputs["tags"] == {**TAGS, "Name": f"{PREFIX}-bastion"}
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance.id)
    assert recording.stack_outputs["instanceId"] == instance.id
    assert recording.stack_outputs["startSessionCommand"] == (
        f"aws ssm start-session --target {instance.id} --region {REGIONS[partition]}"
    )
    # The SSM agent registers with the role's policies, so they are attached first.
    [session_manager] = [
        p for p in recording.by_type(POLICY) if p.inputs["name"].endswith("-session-manager")
    ]
    [attachment] = [
        a
        for a in recording.by_type(ATTACHMENT)
        if a.inputs["policyArn"] == session_manager.outputs["arn"]
    ]
    assert attachment.urn in instance.dependencies


def test_default_ami_is_amazon_linux_2023_from_the_public_parameter() -> None:
    bastion = record("aws")
    instance = bastion.recording.one(INSTANCE, "bastion-instance")
    assert re.fullmatch(r"ami-[0-9a-f]{17}", instance.inputs["ami"])
    # AWS's public parameter of the latest Amazon Linux 2023 (x86_64), looked up once ...
    assert [args for token, args in bastion.calls if token == GET_PARAMETER] == [
        {"name": AL2023_PARAMETER}
    ]
    # ... and kept after creation: a new release does not replace a running bastion.
    assert instance.ignore_changes == ["ami"]


def test_given_ami_wins() -> None:
    bastion = record("aws", ami_id="ami-0123456789abcdef0")
    instance = bastion.recording.one(INSTANCE, "bastion-instance")
    assert instance.inputs["ami"] == "ami-0123456789abcdef0"
    # nothing looked up, nothing ignored: changing `amiId` replaces the instance
    assert GET_PARAMETER not in [token for token, _ in bastion.calls]
    assert instance.ignore_changes == []


def test_user_data_installs_pinned_and_verified_kubectl_and_helm() -> None:
    user_data = run("aws").one(INSTANCE, "bastion-instance").inputs["userData"]
    assert user_data.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in user_data
    assert f"https://dl.k8s.io/release/{KUBECTL_VERSION}/bin/linux/amd64/kubectl" in user_data
    assert f'echo "{KUBECTL_SHA256}  kubectl" | sha256sum --check --strict' in user_data
    assert f"https://get.helm.sh/helm-{HELM_VERSION}-linux-amd64.tar.gz" in user_data
    assert f'echo "{HELM_SHA256}  helm.tar.gz" | sha256sum --check --strict' in user_data
    assert re.fullmatch(r"v\d+\.\d+\.\d+", KUBECTL_VERSION)
    assert re.fullmatch(r"v3\.\d+\.\d+", HELM_VERSION)
    assert re.fullmatch(r"[0-9a-f]{64}", KUBECTL_SHA256)
    assert re.fullmatch(r"[0-9a-f]{64}", HELM_SHA256)


def test_tools_can_be_left_out() -> None:
    instance = run("aws", install_tools=False).one(INSTANCE, "bastion-instance")
    assert "userData" not in instance.inputs


def test_root_volume_size_is_configurable() -> None:
    instance = run("aws", root_volume_size_gib=64).one(INSTANCE, "bastion-instance")
    assert instance.inputs["rootBlockDevice"]["volumeSize"] == 64


def test_an_arm64_instance_type_is_refused_with_the_x86_64_ami_and_tools() -> None:
    with pytest.raises(Exception, match=r"poolside:bastion.instanceType 't4g.medium' is arm64"):
        run("aws", instance_type="t4g.medium")


def test_security_group_has_no_ingress_and_only_https_egress(
    bastion_stack: tuple[str, Recording],
) -> None:
    partition, recording = bastion_stack
    group = recording.one(SECURITY_GROUP, "bastion-security-group")
    assert group.inputs["ingress"] == []
    assert group.inputs["egress"] == [
        {
            "description": "HTTPS: SSM, EKS, ECR, S3, STS and other AWS APIs; tools",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["0.0.0.0/0"],
        }
    ]
    assert group.inputs["vpcId"] == VPC
    # a name that changes with a replacement (components/replacement.py)
    assert group.inputs["namePrefix"] == f"{PREFIX}-bastion-"
    assert "name" not in group.inputs
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group.id)
    assert group.outputs["arn"] == (
        f"arn:{partition}:ec2:{REGIONS[partition]}:{ACCOUNT_ID}:security-group/{group.id}"
    )
    # The only ingress rule the bastion makes opens the cluster's API to it, never the reverse.
    assert not [
        r
        for r in recording.resources
        if "SecurityGroupIngressRule" in r.type and r.inputs["securityGroupId"] == group.id
    ]
    assert not [
        r for r in recording.resources if r.type == "aws:ec2/securityGroupRule:SecurityGroupRule"
    ]


def test_without_a_vpc_id_the_vpc_is_looked_up_from_the_subnet() -> None:
    """An existing cluster: no `cluster.vpcId`, so the subnet says which VPC it is in."""
    recording = run("aws", vpc_id=None)
    vpc_id = recording.one(SECURITY_GROUP, "bastion-security-group").inputs["vpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id)
    assert vpc_id != VPC


# ---------------------------------------------------------------------------------------------
# Cluster access, lock table, components


def test_access_entry_makes_the_role_cluster_admin(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    role_arn = f"arn:{partition}:iam::{ACCOUNT_ID}:role/{PREFIX}-bastion-role"
    assert recording.stack_outputs["roleArn"] == role_arn
    entry = recording.one(ACCESS_ENTRY, "bastion-access-entry")
    assert entry.inputs == {
        "clusterName": PREFIX,
        "principalArn": role_arn,
        "type": "STANDARD",
        "tags": TAGS,
    }
    association = recording.one(ASSOCIATION, "bastion-cluster-admin")
    assert association.inputs == {
        "clusterName": PREFIX,
        "principalArn": role_arn,
        "policyArn": (
            f"arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        ),
        "accessScope": {"type": "cluster"},
    }
    assert entry.urn in association.dependencies


def test_access_entry_for_an_existing_cluster_and_a_cluster_name_output() -> None:
    def program() -> None:
        cluster_name = pulumi.Output.from_input("customer-eks").apply(lambda name: name)
        build("aws", cluster_name=cluster_name)

    recording = run_stack(program=program)
    assert recording.one(ACCESS_ENTRY, "bastion-access-entry").inputs["clusterName"] == (
        "customer-eks"
    )
    default = statements_by_sid(documents(recording)[f"{PREFIX}-bastion-default"])
    assert default["ReadDeploymentCluster"]["Resource"] == [
        f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/customer-eks"
    ]


def test_lock_table_is_pay_per_request_recoverable_encrypted_and_retained(
    bastion_stack: tuple[str, Recording],
) -> None:
    _, recording = bastion_stack
    table = recording.one(TABLE, "bastion-lock-table")
    assert table.inputs == {
        "name": f"{PREFIX}-terraform-locks",
        "billingMode": "PAY_PER_REQUEST",
        "hashKey": "LockID",
        "attributes": [{"name": "LockID", "type": "S"}],
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": recording.stack_outputs["keyArn"]},
        "tags": TAGS,
    }
    assert table.retain_on_delete is True


@pytest.mark.parametrize("partition", PARTITIONS)
def test_an_existing_lock_table_is_used_by_name(partition: str) -> None:
    recording = run(partition, existing_lock_table_name="customer-terraform-locks")
    assert recording.by_type(TABLE) == []
    arn = (
        f"arn:{partition}:dynamodb:{REGIONS[partition]}:{ACCOUNT_ID}:table/customer-terraform-locks"
    )
    doc = documents(recording)[f"{PREFIX}-bastion-terraform-state"]
    assert statements_by_sid(doc)["StateLocks"]["Resource"] == [arn]
    assert recording.stack_outputs["lockTableName"] == "customer-terraform-locks"
    assert recording.stack_outputs["lockTableArn"] == arn


def test_everything_belongs_to_the_bastion_component() -> None:
    recording = run("aws")
    component = recording.one("poolside:aws:Bastion", "bastion")
    children = {(r.type, r.name) for r in children_of(recording, component)}
    assert children == {
        (TABLE, "bastion-lock-table"),
        ("poolside:aws:IamRole", "bastion-iam"),
        ("aws:iam/instanceProfile:InstanceProfile", "bastion-instance-profile"),
        (SECURITY_GROUP, "bastion-security-group"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bastion-cluster-api"),
        (INSTANCE, "bastion-instance"),
        (ACCESS_ENTRY, "bastion-access-entry"),
        (ASSOCIATION, "bastion-cluster-admin"),
    }
    iam = recording.one("poolside:aws:IamRole", "bastion-iam")
    iam_children = children_of(recording, iam)
    assert {r.type for r in iam_children} == {ROLE, POLICY, ATTACHMENT}
    assert len([r for r in iam_children if r.type == POLICY]) == len(PURPOSES)
    assert len([r for r in iam_children if r.type == ATTACHMENT]) == len(PURPOSES)


# ---------------------------------------------------------------------------------------------
# The deployment's SSM parameters
