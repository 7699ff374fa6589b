"""The config model alone: each value, section and cross-section rule, valid and invalid, and the
messages users see."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from naming import MAX_PREFIX_LENGTH, Names
from stack_config import (
    StackConfigError,
    parse_stack_config,
)
from tests.support.config import parse, problems
from tests.support.harness import CLUSTER, PROJECT_ROOT, SONNET_4


def test_minimal_config_takes_documented_defaults() -> None:
    config = parse({"deploymentName": "acme"})
    assert config.prefix == "poolside-acme"
    assert config.names == Names("poolside-acme", "acme")
    assert config.names.ecr_namespace == "poolside-acme"
    assert config.kms.deletion_window_in_days == 30
    assert config.kms.alias is None
    assert config.kms.retain_on_delete is True
    assert config.bucket.name is None
    assert config.bucket.noncurrent_version_expiration_days == 90
    assert config.bucket.retain_on_delete is True
    assert config.ecr.repositories == []
    assert config.ecr.image_tag_mutability == "IMMUTABLE"
    assert config.ecr.scan_on_push is True
    assert config.ecr.untagged_image_expiration_days == 14
    assert config.resource_tags == {"poolside:deployment": "acme"}


def test_values_arrive_as_engine_strings_and_json_objects() -> None:
    config = parse(
        {
            "deploymentName": "acme",
            "deploymentPrefix": "ps-acme",
            "tags": '{"owner": "platform"}',
            "kms": '{"deletionWindowInDays": 7, "alias": "alias/acme-data", "retainOnDelete": false}',
            "ecr": '{"repositories": ["api", "web"], "scanOnPush": "false"}',
        }
    )
    assert config.prefix == "ps-acme"
    assert config.resource_tags == {"owner": "platform", "poolside:deployment": "acme"}
    assert config.kms.deletion_window_in_days == 7
    assert config.kms.alias == "alias/acme-data"
    assert config.kms.retain_on_delete is False
    assert config.ecr.repositories == ["api", "web"]
    assert config.ecr.scan_on_push is False


def test_empty_prefix_from_the_project_default_means_the_default_prefix() -> None:
    assert parse({"deploymentName": "acme", "deploymentPrefix": ""}).prefix == ("poolside-acme")


def test_the_issue_example_message() -> None:
    assert problems({"deploymentName": "Acme_Prod"}) == [
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme_Prod")'
    ]


@pytest.mark.parametrize("name", ["ab", "a" * 33, "-acme", "acme-", "ac.me", "ACME", "ac me"])
def test_deployment_name_must_be_a_dns_label(name: str) -> None:
    [line] = problems({"deploymentName": name})
    assert line.startswith("poolside:deploymentName: must be a lowercase DNS label")


@pytest.mark.parametrize("name", ["abc", "a" * 26, "acme-prod-2", "0acme"])
def test_valid_deployment_names(name: str) -> None:
    assert parse({"deploymentName": name}).deployment_name == name


def test_missing_deployment_name_is_required() -> None:
    assert problems({}) == ["poolside:deploymentName: required"]


def test_default_prefix_too_long_for_iam_names_names_both_keys() -> None:
    name = "a" * 32
    [line] = problems({"deploymentName": name})
    assert line.startswith("poolside:deploymentName: the default deploymentPrefix")
    assert "poolside:deploymentPrefix" in line
    assert parse({"deploymentName": name, "deploymentPrefix": "ps-a"}).prefix == "ps-a"


def test_prefix_length_leaves_room_for_the_longest_role_name() -> None:
    assert 64 - len("-aws-load-balancer-controller") == MAX_PREFIX_LENGTH
    ok = "p" * MAX_PREFIX_LENGTH
    assert parse({"deploymentName": "acme", "deploymentPrefix": ok}).prefix == ok
    [line] = problems({"deploymentName": "acme", "deploymentPrefix": ok + "p"})
    assert line.startswith("poolside:deploymentPrefix: must be 3-35 lowercase")


def test_unknown_keys_are_errors_with_did_you_mean() -> None:
    assert problems(
        {"deploymentName": "acme", "deploymentPrefx": "x", "kms": '{"alais": "alias/x"}'}
    ) == [
        "poolside:kms.alais: unknown key; did you mean poolside:kms.alias?",
        "poolside:deploymentPrefx: unknown key; did you mean poolside:deploymentPrefix?",
    ]


def test_unknown_key_without_a_close_match_has_no_suggestion() -> None:
    assert problems({"deploymentName": "acme", "zzz": "1"}) == ["poolside:zzz: unknown key"]


def test_all_problems_are_reported_at_once() -> None:
    lines = problems(
        {
            "deploymentName": "Acme",
            "kms": '{"deletionWindowInDays": 3}',
            "bucket": '{"name": "Bad..Name"}',
            "ecr": '{"imageTagMutability": "SOMETIMES", "repositories": ["ok", "Not OK"]}',
        }
    )
    keys = [line.split(": ", 1)[0] for line in lines]
    assert keys == [
        "poolside:deploymentName",
        "poolside:kms.deletionWindowInDays",
        "poolside:bucket.name",
        "poolside:ecr.repositories[1]",
        "poolside:ecr.imageTagMutability",
    ]
    assert "poolside:kms.deletionWindowInDays: must be 7-30 days (got 3)" in lines
    assert (
        "poolside:ecr.imageTagMutability: must be 'IMMUTABLE' or 'MUTABLE' (got \"SOMETIMES\")"
        in lines
    )


@pytest.mark.parametrize("days", [7, 30])
def test_deletion_window_bounds_are_inclusive(days: int) -> None:
    config = parse({"deploymentName": "acme", "kms": {"deletionWindowInDays": days}})
    assert config.kms.deletion_window_in_days == days


@pytest.mark.parametrize("days", [6, 31])
def test_deletion_window_outside_7_to_30_is_refused(days: int) -> None:
    assert problems({"deploymentName": "acme", "kms": {"deletionWindowInDays": days}}) == [
        f"poolside:kms.deletionWindowInDays: must be 7-30 days (got {days})"
    ]


@pytest.mark.parametrize("alias", ["acme", "alias/aws/s3", "alias/has space"])
def test_kms_alias_rules(alias: str) -> None:
    [line] = problems({"deploymentName": "acme", "kms": {"alias": alias}})
    assert line.startswith("poolside:kms.alias: must be 'alias/<name>'")


@pytest.mark.parametrize(
    "name", ["ab", "UPPER", "a..b", "192.168.1.1", "xn--bucket", "bucket-s3alias", "-bucket"]
)
def test_bucket_name_rules(name: str) -> None:
    [line] = problems({"deploymentName": "acme", "bucket": {"name": name}})
    assert line.startswith("poolside:bucket.name: must be an S3 bucket name")


def test_noncurrent_version_days_bounds() -> None:
    assert problems(
        {"deploymentName": "acme", "bucket": {"noncurrentVersionExpirationDays": 0}}
    ) == ["poolside:bucket.noncurrentVersionExpirationDays: must be 1-3650 days (got 0)"]


def test_repository_names_must_be_unique_and_valid() -> None:
    assert problems({"deploymentName": "acme", "ecr": {"repositories": ["api", "api", "web"]}}) == [
        'poolside:ecr.repositories: must not repeat names (repeated: api) (got ["api", "api", "web"])'
    ]
    assert parse(
        {"deploymentName": "acme", "ecr": {"repositories": ["team/api", "web_ui", "x.y-z"]}}
    ).ecr.repositories == ["team/api", "web_ui", "x.y-z"]


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({"aws:owner": "x"}, "AWS-reserved prefix"),
        ({"poolside:deployment": "other"}, "set by the program"),
        ({"k" * 129: "v"}, "1-128 characters"),
        ({"owner": "v" * 257}, "at most 256 characters"),
        ({f"t{i}": "v" for i in range(41)}, "at most 40 tags"),
    ],
)
def test_tag_rules(tags: dict[str, str], fragment: str) -> None:
    [line] = problems({"deploymentName": "acme", "tags": tags})
    assert line.startswith("poolside:tags: ")
    assert fragment in line


def test_sections_must_be_objects() -> None:
    [line] = problems({"deploymentName": "acme", "kms": "not json"})
    assert line.startswith("poolside:kms: must be a valid dictionary or instance of KmsConfig")


def test_config_is_immutable() -> None:
    config = parse({"deploymentName": "acme"})
    with pytest.raises(ValueError, match="frozen"):
        config.deployment_name = "other"


def test_example_stacks_are_valid() -> None:
    for path in sorted(PROJECT_ROOT.glob("Pulumi.*.yaml")):
        config = yaml.safe_load(path.read_text())["config"]
        raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("poolside:")}
        assert parse(raw).deployment_name, path.name
        assert re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", config["aws:region"]), path.name


# -- cluster, roles, bedrock and bastion sections ---------------------------------------------


def test_cluster_section_is_required() -> None:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config({"deploymentName": "acme"})
    assert caught.value.problems == ["poolside:cluster: required"]


def test_created_cluster_defaults() -> None:
    config = parse({"deploymentName": "acme"})
    cluster = config.cluster
    assert cluster.existing_cluster_name is None
    assert cluster.kubernetes_version == "1.34"
    assert cluster.endpoint_public_access is False
    assert cluster.authentication_mode == "API"
    assert cluster.enabled_log_types == ["api", "audit", "authenticator"]
    assert cluster.create_service_accounts is False
    assert config.pod_role.namespace == "poolside"
    # the core API's service account, as Poolside's chart names it (`poolside/core-api-sa`)
    assert config.pod_role.service_accounts == ["core-api-sa"]
    assert config.pod_role.subjects == ["poolside:core-api-sa"]
    assert config.inference.enabled is True
    assert config.inference.namespace == "poolside-models"
    assert config.inference.service_account == "inference"
    assert config.inference.existing_bucket_name is None
    assert config.inference.existing_bucket_kms_key_arn is None
    assert config.inference.retain_on_delete is True
    assert config.load_balancer_controller.enabled is True
    assert config.load_balancer_controller.namespace == "kube-system"
    assert config.load_balancer_controller.service_account == "aws-load-balancer-controller"
    assert config.bedrock.enabled is True
    assert config.bedrock.models == []
    assert config.bastion.enabled is True
    assert config.bastion_subnet_id == CLUSTER["privateSubnetIds"][0]


def test_creating_a_cluster_needs_a_vpc_and_two_private_subnets() -> None:
    assert problems({"deploymentName": "acme", "cluster": {"privateSubnetIds": []}}) == [
        "poolside:cluster.vpcId: required to create a cluster",
        "poolside:cluster.privateSubnetIds: needs at least two different subnets to create a cluster",
        "poolside:cluster.nodeGroups: needs at least one node group to create a cluster (CoreDNS and the Poolside pods need nodes)",
    ]
    same_subnet_twice = {**CLUSTER, "privateSubnetIds": ["subnet-0000000000000000a"] * 2}
    assert problems({"deploymentName": "acme", "cluster": same_subnet_twice}) == [
        "poolside:cluster.privateSubnetIds: needs at least two different subnets to create a cluster"
    ]


def test_existing_cluster_refuses_settings_of_a_created_one_naming_both_keys() -> None:
    lines = problems(
        {
            "deploymentName": "acme",
            "cluster": {
                "existingClusterName": "customer-eks",
                "vpcId": "vpc-0123456789abcdef0",
                "nodeGroups": [{"name": "system"}],
            },
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        }
    )
    assert lines == [
        "poolside:cluster.vpcId: only applies to a cluster this stack creates; remove it or poolside:cluster.existingClusterName",
        "poolside:cluster.nodeGroups: only applies to a cluster this stack creates; remove it or poolside:cluster.existingClusterName",
    ]


def test_existing_provider_needs_an_existing_cluster() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    [line] = problems(
        {"deploymentName": "acme", "cluster": {**CLUSTER, "existingOidcProviderArn": arn}}
    )
    assert line.startswith("poolside:cluster.existingOidcProviderArn: reuses the provider")
    config = parse(
        {
            "deploymentName": "acme",
            "cluster": {"existingClusterName": "eks", "existingOidcProviderArn": arn},
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        }
    )
    assert config.cluster.existing_oidc_provider_arn == arn


def test_existing_cluster_without_subnets_needs_the_bastion_subnet() -> None:
    assert problems({"deploymentName": "acme", "cluster": {"existingClusterName": "eks"}}) == [
        "poolside:bastion.subnetId: required when poolside:cluster.privateSubnetIds is empty (an existing cluster): name the bastion's private subnet"
    ]
    no_bastion = parse(
        {
            "deploymentName": "acme",
            "cluster": {"existingClusterName": "eks"},
            "bastion": {"enabled": False},
        }
    )
    assert no_bastion.bastion_subnet_id is None


def test_public_endpoint_needs_an_allowlist_without_the_whole_internet() -> None:
    assert problems(
        {"deploymentName": "acme", "cluster": {**CLUSTER, "endpointPublicAccess": True}}
    ) == [
        "poolside:cluster.publicAccessCidrs: required when poolside:cluster.endpointPublicAccess is true"
    ]
    [line] = problems(
        {
            "deploymentName": "acme",
            "cluster": {
                **CLUSTER,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
        }
    )
    assert line == (
        "poolside:cluster.publicAccessCidrs[0]: must not open the API endpoint to the whole "
        'internet (got "0.0.0.0/0")'
    )
    ok = parse(
        {
            "deploymentName": "acme",
            "cluster": {
                **CLUSTER,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["203.0.113.0/24"],
            },
        }
    )
    assert ok.cluster.public_access_cidrs == ["203.0.113.0/24"]


def test_node_group_rules() -> None:
    lines = problems(
        {
            "deploymentName": "acme",
            "cluster": {
                **CLUSTER,
                "nodeGroups": [
                    {"name": "gpu", "minSize": 3, "desiredSize": 1, "maxSize": 4},
                    {"name": "gpu"},
                    {"name": "Bad_Name", "taints": [{"key": "k", "effect": "NoSchedule"}]},
                ],
            },
        }
    )
    assert lines == [
        "poolside:cluster.nodeGroups[0].desiredSize: must lie between minSize (3) and maxSize (4) (got 1)",
        'poolside:cluster.nodeGroups[2].name: must be a Kubernetes name (lowercase DNS label) (got "Bad_Name")',
        "poolside:cluster.nodeGroups[2].taints[0].effect: must be 'NO_SCHEDULE', 'NO_EXECUTE' or 'PREFER_NO_SCHEDULE' (got \"NoSchedule\")",
    ]


def test_unknown_key_inside_a_list_of_sections_gets_a_suggestion() -> None:
    [line] = problems(
        {
            "deploymentName": "acme",
            "cluster": {**CLUSTER, "nodeGroups": [{"name": "a", "instanceType": "x"}]},
        }
    )
    assert line == (
        "poolside:cluster.nodeGroups[0].instanceType: unknown key; "
        "did you mean poolside:cluster.nodeGroups[0].instanceTypes?"
    )


def test_repeated_node_group_names_are_refused() -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "cluster": {**CLUSTER, "nodeGroups": [{"name": "a"}, {"name": "a"}]},
        }
    ) == ["poolside:cluster.nodeGroups: repeats node group names: a"]


REGIONS_REMOVED = (
    "is no longer used: the policy now grants the profile's model in every region it routes to "
    "(AWS adds regions over time), only through the profile; delete this key"
)


def test_bedrock_inference_profiles_are_ids_only() -> None:
    config = parse(
        {
            "deploymentName": "acme",
            "bedrock": {
                "models": [SONNET_4],
                "inferenceProfiles": [{"id": f"us.{SONNET_4}"}, {"id": f"global.{SONNET_4}"}],
            },
        }
    )
    assert [p.id for p in config.bedrock.inference_profiles] == [
        f"us.{SONNET_4}",
        f"global.{SONNET_4}",
    ]
    assert [p.geography for p in config.bedrock.inference_profiles] == ["us", "global"]
    assert problems(
        {"deploymentName": "acme", "bedrock": {"inferenceProfiles": [{"id": "anthropic.x"}]}}
    ) == [
        "poolside:bedrock.inferenceProfiles[0].id: must be a system-defined inference profile id "
        'such as us.anthropic.claude-sonnet-4-20250514-v1:0 (got "anthropic.x")'
    ]


@pytest.mark.parametrize("regions", [["us-east-1", "us-west-2"], [], None])
def test_bedrock_inference_profile_regions_are_refused(regions: Any) -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "bedrock": {
                "inferenceProfiles": [
                    {"id": f"us.{SONNET_4}"},
                    {"id": f"eu.{SONNET_4}", "regions": regions},
                ]
            },
        }
    ) == [f"poolside:bedrock.inferenceProfiles[1].regions: {REGIONS_REMOVED}"]


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"podRole": {"serviceAccounts": []}}, "poolside:podRole.serviceAccounts: "),
        (
            {"podRole": {"namespace": "Bad"}},
            "poolside:podRole.namespace: must be a Kubernetes name",
        ),
        (
            {"bastion": {"instanceType": "big"}},
            "poolside:bastion.instanceType: must be an EC2 instance type",
        ),
        ({"bastion": {"amiId": "ami-1"}}, "poolside:bastion.amiId: must be an AMI id"),
        (
            {"bastion": {"existingLockTableName": "x"}},
            "poolside:bastion.existingLockTableName: must be a DynamoDB table name",
        ),
        ({"cluster": {**CLUSTER, "vpcId": "vpc-xyz"}}, "poolside:cluster.vpcId: must be a VPC id"),
    ],
)
def test_section_value_rules(section: dict[str, Any], fragment: str) -> None:
    [line] = problems({"deploymentName": "acme", **section})
    assert line.startswith(fragment)


def test_graviton_bastion_needs_an_arm64_ami_and_no_x86_tools() -> None:
    [line] = problems({"deploymentName": "acme", "bastion": {"instanceType": "t4g.medium"}})
    assert line.startswith("poolside:bastion.instanceType: 't4g.medium' is arm64 (Graviton)")
    ok = parse(
        {
            "deploymentName": "acme",
            "bastion": {
                "instanceType": "t4g.medium",
                "amiId": "ami-0123456789abcdef0",
                "installTools": False,
            },
        }
    )
    assert ok.bastion.instance_type == "t4g.medium"
    # A switched-off bastion's type is not checked for its architecture: it is refused as set.
    assert problems(
        {"deploymentName": "acme", "bastion": {"enabled": False, "instanceType": "m7g.large"}}
    ) == [
        "poolside:bastion.instanceType: only applies when poolside:bastion.enabled is true; "
        "remove it, or set poolside:bastion.enabled to true"
    ]


def test_node_group_architecture_and_name_rules() -> None:
    lines = problems(
        {
            "deploymentName": "acme",
            "deploymentPrefix": "p" * 35,
            "cluster": {
                **CLUSTER,
                "nodeGroups": [
                    {"name": "mixed", "instanceTypes": ["m7g.large", "m6i.large"]},
                    {"name": "gpu-arm", "gpu": True, "instanceTypes": ["g5g.xlarge"]},
                    {"name": "n" * 30},
                ],
            },
        }
    )
    assert lines == [
        "poolside:cluster.nodeGroups[0].instanceTypes: mixes arm64 (Graviton) and x86_64 types; one AMI serves both",
        "poolside:cluster.nodeGroups[1].gpu: GPU node groups use the x86_64 NVIDIA AMI: choose x86_64 GPU instances",
    ]
    [line] = problems(
        {
            "deploymentName": "acme",
            "deploymentPrefix": "p" * 35,
            "cluster": {**CLUSTER, "nodeGroups": [{"name": "n" * 30}]},
        }
    )
    assert line == (
        f"poolside:cluster.nodeGroups[0].name: makes the node group name '{'p' * 35}-{'n' * 30}' "
        "66 characters; EKS allows 63"
    )
    graviton = parse(
        {
            "deploymentName": "acme",
            "cluster": {**CLUSTER, "nodeGroups": [{"name": "arm", "instanceTypes": ["m7g.large"]}]},
        }
    )
    assert graviton.cluster.node_groups[0].arm64 is True


@pytest.mark.parametrize(
    ("group", "key"),
    [
        ({"name": "a", "labels": {"bad label!": "x"}}, "poolside:cluster.nodeGroups[0].labels"),
        ({"name": "a", "labels": {"ok": "bad value!"}}, "poolside:cluster.nodeGroups[0].labels"),
        (
            {"name": "a", "taints": [{"key": "", "effect": "NO_SCHEDULE"}]},
            "poolside:cluster.nodeGroups[0].taints[0].key",
        ),
        (
            {"name": "a", "taints": [{"key": "k", "value": "x y", "effect": "NO_SCHEDULE"}]},
            "poolside:cluster.nodeGroups[0].taints[0].value",
        ),
    ],
)
def test_labels_and_taints_must_be_kubernetes_valid(group: dict[str, Any], key: str) -> None:
    [line] = problems({"deploymentName": "acme", "cluster": {**CLUSTER, "nodeGroups": [group]}})
    assert line.startswith(f"{key}: ")


def test_existing_cluster_refuses_every_setting_it_would_ignore() -> None:
    lines = problems(
        {
            "deploymentName": "acme",
            "cluster": {
                "existingClusterName": "eks",
                "kubernetesVersion": "1.34",
                "enabledLogTypes": ["api"],
                "authenticationMode": "API",
                "endpointPublicAccess": False,
            },
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        }
    )
    assert [line.split(": ")[0] for line in lines] == [
        "poolside:cluster.kubernetesVersion",
        "poolside:cluster.endpointPublicAccess",
        "poolside:cluster.authenticationMode",
        "poolside:cluster.enabledLogTypes",
    ]
    kept = parse(
        {
            "deploymentName": "acme",
            "cluster": {
                "existingClusterName": "eks",
                "privateSubnetIds": ["subnet-0123456789abcdef0"],
            },
        }
    )
    assert kept.bastion_subnet_id == "subnet-0123456789abcdef0"


def test_cross_section_rules_are_reported_beside_errors_in_other_sections() -> None:
    assert problems({"deploymentName": "a" * 32, "kms": {"deletionWindowInDays": 3}}) == [
        "poolside:kms.deletionWindowInDays: must be 7-30 days (got 3)",
        "poolside:deploymentName: the default deploymentPrefix 'poolside-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is 41 characters, more than the 35 IAM role names leave room for: shorten the name or set poolside:deploymentPrefix",
    ]
    assert problems(
        {"deploymentName": "acme", "tags": {"aws:x": "y"}, "bastion": {"instanceType": "t4g.small"}}
    ) == [
        "poolside:tags: tag key 'aws:x' uses the AWS-reserved prefix 'aws:' (got {\"aws:x\": \"y\"})",
        "poolside:bastion.instanceType: 't4g.small' is arm64 (Graviton), but the default AMI and the tools of poolside:bastion.installTools are x86_64: choose an x86_64 type, or set poolside:bastion.amiId to an arm64 AMI and poolside:bastion.installTools to false",
    ]


def test_an_invalid_explicit_prefix_keeps_the_default_prefix_out_of_other_rules() -> None:
    assert problems({"deploymentName": "a" * 32, "deploymentPrefix": "BAD"}) == [
        'poolside:deploymentPrefix: must be 3-35 lowercase letters, digits or hyphens, starting and ending with a letter or digit (IAM role names cap at 64 characters) (got "BAD")'
    ]
