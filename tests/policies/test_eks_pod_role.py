"""The pod role's policies and the Bedrock customization role's two documents, exactly.

Each test builds the real `KmsKey` and `Bucket` (and a role for the customization role) under the
mock engine, renders the policy documents as the resources would receive them, and compares
every statement: Sid, Effect, Action, Resource and Condition, with ARNs in the partition, region
and account of the stack. Every document also passes the offline IAM lint and IAM's size limits.
The pod role has six policies, five in aws-cn (no AWS Marketplace there, so no metering policy).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from aws_environment import AwsEnvironment
from policies.bedrock_customization_role import bedrock_customization_service_policy
from policies.documents import render
from policies.eks_pod_role import (
    aws_marketplace_metering_policy,
    bedrock_customization_job_policy,
    bedrock_model_invocation_policy,
    bedrock_read_only_policy,
    kms_access_policy,
    marketplace_offered,
    profile_model_arns,
    s3_access_policy,
)
from policies.trust import bedrock_customization_trust
from stack_config import BedrockConfig, InferenceProfileConfig
from tests.support.harness import (
    ACCOUNT_ID,
    PARTITIONS,
    REGIONS,
    build_key_and_bucket,
    environment,
    run_stack,
)
from tests.support.iam_allowlist import STAR_ALLOWLIST
from tests.support.iam_lint import actions_requiring_star, lint_policy
from tests.support.policies import MANAGED_POLICY_MAX, TRUST_POLICY_MAX, iam_match

# The project's one allowlist. The pod role needs none of it: MeterUsage and the two Bedrock List
# actions are on `*` because they have no resource type at all, which the lint knows.


BUCKET_NAME = "poolside-acme-123456789012"
ROLE_NAME = "poolside-acme-bedrock-customization"
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
POD_POLICIES = (
    "s3",
    "marketplace",
    "kms",
    "bedrockReadOnly",
    "bedrockInvocation",
    "bedrockCustomizationJob",
)
CUSTOMIZATION_POLICIES = ("customizationTrust", "customizationService")
# AWS Marketplace is offered in the commercial and GovCloud partitions, not in China.
MARKETPLACE_PARTITIONS = ("aws", "aws-us-gov")


def pod_policies(partition: str) -> tuple[str, ...]:
    """The pod role's documents in `partition`: no metering policy where there is no Marketplace."""
    return tuple(
        name
        for name in POD_POLICIES
        if name != "marketplace" or partition in MARKETPLACE_PARTITIONS
    )


SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
TITAN = "amazon.titan-text-express-v1"
LLAMA = "meta.llama3-1-8b-instruct-v1:0"
GOV_SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
# Realistic system-defined profiles per partition (Bedrock offers none in the China regions).
PROFILES: dict[str, list[dict[str, Any]]] = {
    "aws": [{"id": f"us.{SONNET}"}, {"id": f"us.{HAIKU}"}],
    "aws-us-gov": [{"id": f"us-gov.{GOV_SONNET}"}],
}


def bedrock_config(**keys: Any) -> BedrockConfig:
    return BedrockConfig.model_validate(keys)


def invocation_policy(env: AwsEnvironment, bedrock: BedrockConfig) -> dict[str, Any]:
    """The invocation policy for a parsed `bedrock` section, as the program calls it."""
    return bedrock_model_invocation_policy(
        env,
        models=bedrock.models,
        inference_profiles=[p.id for p in bedrock.inference_profiles],
    )


def build(partition: str, bedrock: BedrockConfig) -> None:
    """The key, the bucket and the customization role, then every document, rendered."""
    env = environment(partition)
    tags = {"poolside:deployment": "acme"}
    key, bucket = build_key_and_bucket(
        env, prefix="poolside-acme", bucket_name=BUCKET_NAME, tags=tags
    )
    role = aws.iam.Role(
        "customization",
        name=ROLE_NAME,
        assume_role_policy=render(bedrock_customization_trust(env)),
    )
    documents = {
        "s3": s3_access_policy(bucket),
        "kms": kms_access_policy(key),
        "bedrockReadOnly": bedrock_read_only_policy(env),
        "bedrockInvocation": invocation_policy(env, bedrock),
        "bedrockCustomizationJob": bedrock_customization_job_policy(
            env, role.arn, base_models=bedrock.customization_base_models
        ),
        "customizationTrust": bedrock_customization_trust(env),
        "customizationService": bedrock_customization_service_policy(bucket),
    }
    if marketplace_offered(partition):  # as the program decides whether to create it
        documents["marketplace"] = aws_marketplace_metering_policy()
    for name, doc in documents.items():
        pulumi.export(name, render(doc))
    pulumi.export("keyArn", key.arn)
    pulumi.export("roleTrust", role.assume_role_policy)


def rendered(partition: str, bedrock: BedrockConfig | None = None) -> dict[str, Any]:
    """Every rendered document parsed, plus `raw` (the JSON strings) and `keyArn`."""
    config = bedrock or bedrock_config()
    outputs = run_stack(
        partition=partition,
        program=lambda: build(partition, config),
        key=f"pod role documents {config.model_dump_json()}",
    ).stack_outputs
    names = pod_policies(partition) + CUSTOMIZATION_POLICIES
    assert set(outputs) == {*names, "keyArn", "roleTrust"}
    result: dict[str, Any] = {name: json.loads(outputs[name]) for name in names}
    result["raw"] = {name: outputs[name] for name in names}
    result["keyArn"] = outputs["keyArn"]
    result["roleTrust"] = outputs["roleTrust"]
    return result


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    assert doc["Version"] == "2012-10-17"
    assert set(doc) == {"Version", "Statement"}
    result: list[dict[str, Any]] = doc["Statement"]
    return result


def bedrock_arn(partition: str, resource: str, *, region: str = "", account: str = "") -> str:
    return f"arn:{partition}:bedrock:{region}:{account}:{resource}"


def regional(partition: str, resource: str) -> str:
    return bedrock_arn(partition, resource, region=REGIONS[partition], account=ACCOUNT_ID)


def model(partition: str, model_id: str, region: str | None = None) -> str:
    return bedrock_arn(
        partition,
        f"foundation-model/{model_id}",
        region=REGIONS[partition] if region is None else region,
    )


# -- S3, Marketplace, KMS ----------------------------------------------------------------------


@pytest.mark.parametrize("partition", PARTITIONS)
def test_pod_may_list_the_bucket_and_get_put_its_objects_and_nothing_else_on_s3(
    partition: str,
) -> None:
    docs = rendered(partition)
    bucket = f"arn:{partition}:s3:::{BUCKET_NAME}"
    assert statements(docs["s3"]) == [
        {
            "Sid": "PoolsideBucketList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket],
        },
        {
            "Sid": "PoolsideBucketReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket}/*"],
        },
    ]


@pytest.mark.parametrize("partition", MARKETPLACE_PARTITIONS)
def test_marketplace_metering_is_meter_usage_on_star_only(partition: str) -> None:
    docs = rendered(partition)
    assert statements(docs["marketplace"]) == [
        {
            "Sid": "MarketplaceMeterUsage",
            "Effect": "Allow",
            "Action": ["aws-marketplace:MeterUsage"],
            "Resource": "*",
        }
    ]


def test_marketplace_metering_exists_in_commercial_and_govcloud_but_not_in_china() -> None:
    assert {p: marketplace_offered(p) for p in PARTITIONS} == {
        "aws": True,
        "aws-us-gov": True,
        "aws-cn": False,
    }
    assert marketplace_offered("aws-iso") is False  # a partition it does not know: not offered


@pytest.mark.parametrize("partition", PARTITIONS)
def test_kms_access_is_envelope_encryption_on_the_deployment_key_only(partition: str) -> None:
    docs = rendered(partition)
    key_arn = docs["keyArn"]
    assert re.fullmatch(
        rf"arn:{partition}:kms:{REGIONS[partition]}:{ACCOUNT_ID}:key/[0-9a-f-]{{36}}", key_arn
    )
    assert statements(docs["kms"]) == [
        {
            "Sid": "UseDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [key_arn],
        }
    ]


# -- Bedrock read-only and invocation -----------------------------------------------------------


@pytest.mark.parametrize("partition", PARTITIONS)
def test_read_only_gets_the_regions_foundation_models_and_lists_on_star(partition: str) -> None:
    docs = rendered(partition, bedrock_config(models=[SONNET]))
    # The allowlist of invocable models does not narrow discovery.
    assert statements(docs["bedrockReadOnly"]) == [
        {
            "Sid": "GetFoundationModels",
            "Effect": "Allow",
            "Action": ["bedrock:GetFoundationModel"],
            "Resource": [model(partition, "*")],
        },
        {
            "Sid": "ListModels",
            "Effect": "Allow",
            "Action": ["bedrock:ListFoundationModels", "bedrock:ListCustomModels"],
            "Resource": "*",
        },
    ]


def invoke_custom_models(partition: str) -> dict[str, Any]:
    return {
        "Sid": "InvokeCustomModels",
        "Effect": "Allow",
        "Action": INVOKE,
        "Resource": [
            regional(partition, "provisioned-model/*"),
            regional(partition, "custom-model-deployment/*"),
            regional(partition, "imported-model/*"),
        ],
    }


@pytest.mark.parametrize("partition", PARTITIONS)
def test_invocation_by_default_reaches_every_foundation_model_of_the_region(
    partition: str,
) -> None:
    docs = rendered(partition)
    assert statements(docs["bedrockInvocation"]) == [
        {
            "Sid": "InvokeFoundationModels",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [model(partition, "*")],
        },
        invoke_custom_models(partition),
    ]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_invocation_with_a_model_allowlist_reaches_only_those_models(partition: str) -> None:
    docs = rendered(partition, bedrock_config(models=[SONNET, TITAN]))
    assert statements(docs["bedrockInvocation"]) == [
        {
            "Sid": "InvokeFoundationModels",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [model(partition, SONNET), model(partition, TITAN)],
        },
        invoke_custom_models(partition),
    ]


def any_region_model(partition: str, model_id: str) -> str:
    """The model in every region: `arn:<partition>:bedrock:*::foundation-model/<model>`."""
    return model(partition, model_id, region="*")


def region_less_model(partition: str, model_id: str) -> str:
    """The model with no region, as Bedrock authorises it for a global profile."""
    return model(partition, model_id, region="")


@pytest.mark.parametrize("partition", sorted(PROFILES))
def test_inference_profiles_reach_their_model_in_every_region_through_the_profile_only(
    partition: str,
) -> None:
    profiles = PROFILES[partition]
    docs = rendered(partition, bedrock_config(models=[TITAN], inferenceProfiles=profiles))
    profile_arns = [regional(partition, f"inference-profile/{p['id']}") for p in profiles]
    expected = [
        {
            "Sid": "InvokeFoundationModels",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [model(partition, TITAN)],
        },
        invoke_custom_models(partition),
        {
            "Sid": "InvokeInferenceProfiles",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": profile_arns,
        },
    ]
    for number, (profile, profile_arn) in enumerate(zip(profiles, profile_arns, strict=True), 1):
        model_id = profile["id"].split(".", 1)[1]
        expected.append(
            {
                "Sid": f"InvokeModelsThroughProfile{number}",
                "Effect": "Allow",
                "Action": INVOKE,
                "Resource": [any_region_model(partition, model_id)],
                "Condition": {"ArnLike": {"bedrock:InferenceProfileArn": profile_arn}},
            }
        )
    assert statements(docs["bedrockInvocation"]) == expected


def test_the_us_profiles_of_the_commercial_stack_written_out() -> None:
    docs = rendered("aws", bedrock_config(models=[TITAN], inferenceProfiles=PROFILES["aws"]))
    profile_arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
    assert statements(docs["bedrockInvocation"])[2:] == [
        {
            "Sid": "InvokeInferenceProfiles",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [f"{profile_arn}us.{SONNET}", f"{profile_arn}us.{HAIKU}"],
        },
        {
            "Sid": "InvokeModelsThroughProfile1",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [f"arn:aws:bedrock:*::foundation-model/{SONNET}"],
            "Condition": {"ArnLike": {"bedrock:InferenceProfileArn": f"{profile_arn}us.{SONNET}"}},
        },
        {
            "Sid": "InvokeModelsThroughProfile2",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [f"arn:aws:bedrock:*::foundation-model/{HAIKU}"],
            "Condition": {"ArnLike": {"bedrock:InferenceProfileArn": f"{profile_arn}us.{HAIKU}"}},
        },
    ]


@pytest.mark.parametrize("partition", sorted(PROFILES))
def test_profile_model_arns_are_the_model_in_every_region_plus_region_less_for_global(
    partition: str,
) -> None:
    env = environment(partition)
    geography = "us" if partition == "aws" else "us-gov"
    regional_profile = InferenceProfileConfig.model_validate({"id": f"{geography}.{SONNET}"})
    assert profile_model_arns(env, regional_profile.id) == [
        f"arn:{partition}:bedrock:*::foundation-model/{SONNET}"
    ]
    global_profile = InferenceProfileConfig.model_validate({"id": f"global.{SONNET}"})
    assert profile_model_arns(env, global_profile.id) == [
        f"arn:{partition}:bedrock:*::foundation-model/{SONNET}",
        f"arn:{partition}:bedrock:::foundation-model/{SONNET}",
    ]


def test_a_profiles_model_is_granted_outside_the_stacks_region_only_through_that_profile() -> None:
    docs = rendered("aws", bedrock_config(models=[TITAN], inferenceProfiles=PROFILES["aws"]))
    invocation = statements(docs["bedrockInvocation"])
    sonnet_profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.{SONNET}"
    haiku_profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.{HAIKU}"
    # The source region, today's destinations, a region AWS may add later, another geography,
    # and the region-less form: the `*` region reaches the model in all of them, through Sonnet's
    # profile only.
    sonnet_anywhere = [
        f"arn:aws:bedrock:{region}::foundation-model/{SONNET}"
        for region in ("us-east-1", "us-east-2", "us-west-2", "us-west-9", "eu-west-1", "")
    ]

    def granting(arn: str) -> list[tuple[str, Any]]:
        """(Sid, Condition) of every statement whose resources match `arn`."""
        return [
            (s["Sid"], s.get("Condition"))
            for s in invocation
            if any(iam_match(pattern, arn) for pattern in s["Resource"])
        ]

    for arn in sonnet_anywhere:
        assert granting(arn) == [
            (
                "InvokeModelsThroughProfile1",
                {"ArnLike": {"bedrock:InferenceProfileArn": sonnet_profile}},
            )
        ], arn
    assert granting(f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}") == [
        ("InvokeModelsThroughProfile2", {"ArnLike": {"bedrock:InferenceProfileArn": haiku_profile}})
    ]
    # A model no profile routes to and `models` does not list: nothing grants it, anywhere.
    assert granting(f"arn:aws:bedrock:us-east-1::foundation-model/{LLAMA}") == []
    assert granting(f"arn:aws:bedrock:us-east-2::foundation-model/{LLAMA}") == []
    # The allowlisted model directly, in the stack's region only, with no condition.
    assert granting(f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN}") == [
        ("InvokeFoundationModels", None)
    ]
    assert granting(f"arn:aws:bedrock:us-east-2::foundation-model/{TITAN}") == []
    # Every statement that reaches outside the stack's region carries exactly one condition: an
    # ArnLike on one exact profile ARN (no wildcard in it), never a pattern of profiles.
    for s in invocation:
        regions = {arn.split(":")[3] for arn in s["Resource"]}
        if regions == {REGIONS["aws"]}:
            assert "Condition" not in s, s["Sid"]
        else:
            assert set(s["Condition"]) == {"ArnLike"}, s["Sid"]
            [(key, value)] = s["Condition"]["ArnLike"].items()
            assert key == "bedrock:InferenceProfileArn"
            assert value in (sonnet_profile, haiku_profile)
            assert "*" not in value and "?" not in value


def test_the_invocation_policy_names_no_region_but_the_stacks_and_the_wildcard() -> None:
    profiles = [*PROFILES["aws"], {"id": f"global.{LLAMA}"}]
    docs = rendered("aws", bedrock_config(models=[TITAN], inferenceProfiles=profiles))
    outside = {
        (s["Sid"], arn.split(":")[3])
        for s in statements(docs["bedrockInvocation"])
        for arn in s["Resource"]
        if arn.split(":")[3] != REGIONS["aws"]
    }
    # `*` in each profile statement, the region-less form in the global profile's; no other
    # statement and no region written out.
    assert outside == {
        ("InvokeModelsThroughProfile1", "*"),
        ("InvokeModelsThroughProfile2", "*"),
        ("InvokeModelsThroughProfile3", "*"),
        ("InvokeModelsThroughProfile3", ""),
    }


def test_a_global_profile_also_reaches_the_region_less_model_arn() -> None:
    profile = {"id": f"global.{SONNET}"}
    docs = rendered("aws", bedrock_config(inferenceProfiles=[profile]))
    profile_arn = regional("aws", f"inference-profile/global.{SONNET}")
    assert (
        profile_arn == f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/global.{SONNET}"
    )
    assert statements(docs["bedrockInvocation"])[2:] == [
        {
            "Sid": "InvokeInferenceProfiles",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [profile_arn],
        },
        {
            "Sid": "InvokeModelsThroughProfile1",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [
                f"arn:aws:bedrock:*::foundation-model/{SONNET}",
                f"arn:aws:bedrock:::foundation-model/{SONNET}",
            ],
            "Condition": {"ArnLike": {"bedrock:InferenceProfileArn": profile_arn}},
        },
    ]
    # The IAM database knows foundation models only with a region, so the lint flags the
    # region-less ARN (which AWS documents for global profiles), once per action, and nothing
    # else: the `*` region passes.
    problems = lint_policy(
        docs["bedrockInvocation"],
        partition="aws",
        region="us-east-1",
        account_id=ACCOUNT_ID,
        star_allowlist=STAR_ALLOWLIST,
    )
    assert len(problems) == 2, problems
    for problem, action in zip(problems, INVOKE, strict=True):
        assert problem.startswith(
            "Statement[3] (InvokeModelsThroughProfile1): resource "
            f"'arn:aws:bedrock:::foundation-model/{SONNET}' matches no resource type of "
            f"'{action}' (accepted: "
        ), problem


def test_a_regional_profile_does_not_add_the_region_less_model_arn() -> None:
    docs = rendered("aws", bedrock_config(inferenceProfiles=[{"id": f"us.{SONNET}"}]))
    [through] = [
        s
        for s in statements(docs["bedrockInvocation"])
        if s["Sid"].startswith("InvokeModelsThrough")
    ]
    assert through["Resource"] == [f"arn:aws:bedrock:*::foundation-model/{SONNET}"]
    assert region_less_model("aws", SONNET) not in through["Resource"]


# -- Bedrock customization ----------------------------------------------------------------------


def customization_job_statements(partition: str, base_models: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "CreateCustomizationJobs",
            "Effect": "Allow",
            "Action": ["bedrock:CreateModelCustomizationJob"],
            "Resource": [
                regional(partition, "custom-model/*"),
                *[model(partition, m) for m in base_models],
            ],
        },
        {
            "Sid": "ManageCustomizationJobs",
            "Effect": "Allow",
            "Action": ["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
            "Resource": [regional(partition, "model-customization-job/*")],
        },
        {
            "Sid": "PassCustomizationRoleToBedrock",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [f"arn:{partition}:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"],
            "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
        },
    ]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_customization_jobs_start_from_any_foundation_model_by_default(partition: str) -> None:
    docs = rendered(partition)
    assert statements(docs["bedrockCustomizationJob"]) == customization_job_statements(
        partition, ["*"]
    )


@pytest.mark.parametrize("partition", PARTITIONS)
def test_customization_jobs_start_only_from_the_configured_base_models(partition: str) -> None:
    docs = rendered(partition, bedrock_config(customizationBaseModels=[TITAN, LLAMA]))
    assert statements(docs["bedrockCustomizationJob"]) == customization_job_statements(
        partition, [TITAN, LLAMA]
    )


@pytest.mark.parametrize("partition", PARTITIONS)
def test_only_bedrock_may_assume_the_customization_role_for_this_accounts_jobs(
    partition: str,
) -> None:
    docs = rendered(partition)
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BedrockCustomizationJobsAssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": regional(partition, "model-customization-job/*")},
                },
            }
        ],
    }
    assert docs["customizationTrust"] == expected
    assert json.loads(docs["roleTrust"]) == expected


@pytest.mark.parametrize("partition", PARTITIONS)
def test_customization_role_reads_and_writes_the_bucket_with_the_key_and_nothing_else(
    partition: str,
) -> None:
    docs = rendered(partition)
    bucket = f"arn:{partition}:s3:::{BUCKET_NAME}"
    assert statements(docs["customizationService"]) == [
        {
            "Sid": "CustomizationDataList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket],
        },
        {
            "Sid": "CustomizationDataReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket}/*"],
        },
        {
            "Sid": "CustomizationDataKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [docs["keyArn"]],
        },
    ]


# -- Lint and size, over every document of every configuration ---------------------------------

# Everything configured at once, per partition: an allowlist, profiles, base models.
FULL_CONFIG: dict[str, dict[str, Any]] = {
    partition: {
        "models": [SONNET, HAIKU, TITAN, LLAMA],
        "inferenceProfiles": PROFILES.get(partition, []),
        "customizationBaseModels": [TITAN, LLAMA],
    }
    for partition in PARTITIONS
}
CONFIGS = ("default", "full")


def config_keys(partition: str, config: str) -> dict[str, Any]:
    return FULL_CONFIG[partition] if config == "full" else {}


def test_no_pod_role_action_on_star_needs_an_allowlist_entry() -> None:
    env = environment("aws")
    bedrock = BedrockConfig.model_validate({})
    documents = [
        aws_marketplace_metering_policy(),
        bedrock_read_only_policy(env),
        invocation_policy(env, bedrock),
    ]
    on_star = {
        action
        for document in documents
        for s in document["Statement"]
        if s["Resource"] == "*"
        for action in s["Action"]
    }
    assert on_star == {
        "aws-marketplace:MeterUsage",
        "bedrock:ListFoundationModels",
        "bedrock:ListCustomModels",
    }
    assert actions_requiring_star(on_star) == on_star


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("partition", PARTITIONS)
def test_every_document_passes_the_iam_lint(partition: str, config: str) -> None:
    keys = config_keys(partition, config)
    assert all(set(p) == {"id"} for p in keys.get("inferenceProfiles", []))  # no `regions`
    docs = rendered(partition, bedrock_config(**keys))
    # The stack's own region only: the profiles' `*` regions need no extra region.
    for name in pod_policies(partition) + CUSTOMIZATION_POLICIES:
        problems = lint_policy(
            docs[name],
            partition=partition,
            region=REGIONS[partition],
            account_id=ACCOUNT_ID,
            star_allowlist=STAR_ALLOWLIST,
        )
        assert problems == [], (name, problems)


def test_the_lint_would_catch_a_model_pinned_to_another_region() -> None:
    # What the `*` region replaced: a destination region written out is outside the stack's.
    docs = rendered("aws", bedrock_config(inferenceProfiles=PROFILES["aws"]))
    pinned = json.loads(
        json.dumps(docs["bedrockInvocation"]).replace(
            "arn:aws:bedrock:*::foundation-model/", "arn:aws:bedrock:us-west-2::foundation-model/"
        )
    )
    problems = lint_policy(
        pinned,
        partition="aws",
        region="us-east-1",
        account_id=ACCOUNT_ID,
        star_allowlist=STAR_ALLOWLIST,
    )
    assert problems == [
        f"Statement[{index}] (InvokeModelsThroughProfile{number}): resource "
        f"'arn:aws:bedrock:us-west-2::foundation-model/{model_id}' has region 'us-west-2', "
        "expected 'us-east-1' (or a wildcard)"
        for index, number, model_id in ((3, 1, SONNET), (4, 2, HAIKU))
    ]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("partition", PARTITIONS)
def test_every_document_fits_iams_size_limits(partition: str, config: str) -> None:
    keys = config_keys(partition, config)
    assert all(set(p) == {"id"} for p in keys.get("inferenceProfiles", []))  # no `regions`
    docs = rendered(partition, bedrock_config(**keys))
    for name in (*pod_policies(partition), "customizationService"):
        minified = json.dumps(json.loads(docs["raw"][name]), separators=(",", ":"))
        assert minified == docs["raw"][name]  # rendered exactly as IAM stores it
        assert not any(c.isspace() for c in minified), name  # so its length is IAM's size
        assert len(minified) <= MANAGED_POLICY_MAX, (name, len(minified))
    trust = docs["raw"]["customizationTrust"]
    assert len(json.dumps(json.loads(trust), separators=(",", ":"))) <= TRUST_POLICY_MAX
