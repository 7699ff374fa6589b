"""IAM's size quotas, the inference profiles' geography, and the metering policy per partition.

Whole-program runs go through the offline preview's `main` in-process (a stack file in a temporary
directory, stdout and stderr captured), exactly as `python -m offline_preview` runs it (its one
subprocess test is in `offline_preview/test_main.py`). The documents whose size grows with
config are rendered here independently of the program (`*_document` below, from the spec of
each statement) and measured as IAM does: characters, whitespace not counted. Those renderings
are compared with what the program plans, so the sizes in the expected messages are the sizes
of the documents IAM would receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from aws_environment import DNS_SUFFIXES, partition_of_region
from naming import MAX_PREFIX_LENGTH
from tests.support.harness import ACCOUNT_ID, CLUSTER, REGIONS
from tests.support.policies import irsa_trust
from tests.support.preview import Preview, run_preview

# "IAM and AWS STS quotas" (IAM User Guide): whitespace is not counted.
MANAGED_POLICY_QUOTA = 6_144
TRUST_POLICY_QUOTA = 2_048

INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"

# The longest names the config allows: a deploymentPrefix of MAX_PREFIX_LENGTH characters and a
# namespace of 63 (a Kubernetes name is a DNS label).
LONGEST_PREFIX = ("poolside-" + "x" * MAX_PREFIX_LENGTH)[:MAX_PREFIX_LENGTH]
LONGEST_NAMESPACE = "n" * 63


# -- Running the offline preview ---------------------------------------------------------------


def stack_file(directory: Path, poolside: Mapping[str, Any], region: str) -> Path:
    """A stack file of deployment `acme` (a created cluster) plus `poolside` keys."""
    config: dict[str, Any] = {
        "aws:region": region,
        "poolside:deploymentName": "acme",
        "poolside:cluster": CLUSTER,
    }
    if partition_of_region(region) == "aws-cn":
        config["poolside:bedrock"] = {"enabled": False}  # Bedrock is not offered in China
    config.update({f"poolside:{key}": value for key, value in poolside.items()})
    path = directory / "Pulumi.quotas.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def preview(directory: Path, poolside: Mapping[str, Any], *, region: str = "us-east-1") -> Preview:
    """`python -m offline_preview --config-file ... --format json`, run in this process."""
    return run_preview(
        "--config-file", str(stack_file(directory, poolside, region)), "--format", "json"
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quotas")


# -- The documents, rendered independently, and IAM's measure ------------------------------------


def iam_characters(document: Mapping[str, Any]) -> int:
    """Characters of the document as JSON, whitespace not counted (IAM's measure)."""
    return sum(1 for c in json.dumps(document, indent=2) if not c.isspace())


def issuer_of(region: str) -> str:
    """An issuer as long as the one EKS gives a created cluster: `.../id/<32 hex digits>`."""
    suffix = DNS_SUFFIXES[partition_of_region(region)]
    return f"oidc.eks.{region}.{suffix}/id/{'A' * 32}"


def pod_trust_document(
    region: str, issuer: str, namespace: str, accounts: list[str]
) -> dict[str, Any]:
    """The pod role's trust: the cluster's provider, for the listed service accounts."""
    partition = partition_of_region(region)
    subjects = [f"system:serviceaccount:{namespace}:{name}" for name in accounts]
    return irsa_trust(partition, issuer, subjects)


def invocation_document(
    region: str, profiles: list[str], models: list[str] | None = None
) -> dict[str, Any]:
    """The pod's Bedrock Model Invocation Policy for `models` and inference `profiles`."""
    partition = partition_of_region(region)
    here = f"arn:{partition}:bedrock:{region}:{ACCOUNT_ID}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "InvokeFoundationModels",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [
                f"arn:{partition}:bedrock:{region}::foundation-model/{m}" for m in models or ["*"]
            ],
        },
        {
            "Sid": "InvokeCustomModels",
            "Effect": "Allow",
            "Action": INVOKE,
            "Resource": [
                f"{here}:provisioned-model/*",
                f"{here}:custom-model-deployment/*",
                f"{here}:imported-model/*",
            ],
        },
    ]
    if profiles:
        statements.append(
            {
                "Sid": "InvokeInferenceProfiles",
                "Effect": "Allow",
                "Action": INVOKE,
                "Resource": [f"{here}:inference-profile/{p}" for p in profiles],
            }
        )
    for number, profile in enumerate(profiles, 1):
        geography, model = profile.split(".", 1)
        resources = [f"arn:{partition}:bedrock:*::foundation-model/{model}"]
        if geography == "global":
            resources.append(f"arn:{partition}:bedrock:::foundation-model/{model}")
        statements.append(
            {
                "Sid": f"InvokeModelsThroughProfile{number}",
                "Effect": "Allow",
                "Action": INVOKE,
                "Resource": resources,
                "Condition": {
                    "ArnLike": {
                        "bedrock:InferenceProfileArn": f"{here}:inference-profile/{profile}"
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def customization_job_document(region: str, prefix: str, base_models: list[str]) -> dict[str, Any]:
    """The pod's Bedrock Customization Job Policy for `base_models`."""
    partition = partition_of_region(region)
    here = f"arn:{partition}:bedrock:{region}:{ACCOUNT_ID}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateCustomizationJobs",
                "Effect": "Allow",
                "Action": ["bedrock:CreateModelCustomizationJob"],
                "Resource": [
                    f"{here}:custom-model/*",
                    *[
                        f"arn:{partition}:bedrock:{region}::foundation-model/{m}"
                        for m in base_models or ["*"]
                    ],
                ],
            },
            {
                "Sid": "ManageCustomizationJobs",
                "Effect": "Allow",
                "Action": ["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
                "Resource": [f"{here}:model-customization-job/*"],
            },
            {
                "Sid": "PassCustomizationRoleToBedrock",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [
                    f"arn:{partition}:iam::{ACCOUNT_ID}:role/{prefix}-bedrock-customization-role"
                ],
                "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            },
        ],
    }


def service_accounts(count: int) -> list[str]:
    return [f"inference-worker-{i:03d}" for i in range(count)]


def profiles(geography: str, count: int) -> list[str]:
    return [f"{geography}.anthropic.claude-model-{i:03d}-20250514-v1:0" for i in range(count)]


def base_models(count: int) -> list[str]:
    return [f"meta.llama3-1-8b-instruct-{i:03d}-v1:0" for i in range(count)]


def models(count: int) -> list[str]:
    return [f"amazon.titan-text-express-{i:03d}-v1" for i in range(count)]


def trust_line(count: int, size: int, prefix: str = "poolside-acme") -> str:
    return (
        f"poolside:podRole.serviceAccounts: {count} service accounts make the trust policy of "
        f"{prefix}-eks-pod-role {size:,} characters; IAM allows 2,048 per trust policy: list "
        "fewer, or match several with a `*` pattern"
    )


def invocation_line(
    key: str, profile_count: int, model_count: int, size: int, prefix: str = "poolside-acme"
) -> str:
    return (
        f"poolside:bedrock.{key}: {profile_count} inference profiles and {model_count} models "
        f"make policy {prefix}-pod-bedrock-model-invocation {size:,} characters; IAM allows "
        "6,144 per managed policy: list fewer"
    )


def customization_line(count: int, size: int, prefix: str = "poolside-acme") -> str:
    return (
        f"poolside:bedrock.customizationBaseModels: {count} base models make policy "
        f"{prefix}-pod-bedrock-customization-job {size:,} characters; IAM allows 6,144 per "
        "managed policy: list fewer, or none (any base model)"
    )


def test_the_measure_counts_every_character_but_whitespace() -> None:
    assert iam_characters({"a": ["b c"]}) == len('{"a":["bc"]}')
    # The renderings name the stack's partition; an issuer is as long as EKS makes it.
    assert issuer_of("us-gov-west-1") == f"oidc.eks.us-gov-west-1.amazonaws.com/id/{'A' * 32}"
    assert issuer_of("cn-north-1") == f"oidc.eks.cn-north-1.amazonaws.com.cn/id/{'A' * 32}"
    assert len(LONGEST_PREFIX) == MAX_PREFIX_LENGTH
    assert LONGEST_PREFIX.startswith("poolside-") and LONGEST_PREFIX.isascii()


# -- Too large: exit 2, one line naming the key ------------------------------------------------


def test_forty_service_accounts_exceed_the_trust_policy_quota(workdir: Path) -> None:
    accounts = service_accounts(40)
    size = iam_characters(
        pod_trust_document("us-east-1", issuer_of("us-east-1"), "poolside", accounts)
    )
    # By hand: 474 characters of statement around the subject list (the issuer is 68), and the
    # list: 40 quoted subjects of 51 characters, comma-separated, in brackets.
    subject = '"system:serviceaccount:poolside:inference-worker-000",'
    assert size == 474 + len("[]") + 40 * len(subject) - len(",") == 2_635
    result = preview(workdir, {"podRole": {"serviceAccounts": accounts}})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [trust_line(40, size)]


def test_a_user_running_the_offline_preview_sees_the_same_single_line(workdir: Path) -> None:
    accounts = service_accounts(40)
    path = stack_file(workdir, {"podRole": {"serviceAccounts": accounts}}, "us-east-1")
    size = iam_characters(
        pod_trust_document("us-east-1", issuer_of("us-east-1"), "poolside", accounts)
    )
    result = run_preview("--config-file", str(path))  # the text plan users see by default
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [trust_line(40, size)]


def test_forty_inference_profiles_exceed_the_managed_policy_quota(workdir: Path) -> None:
    ids = profiles("us", 40)
    size = iam_characters(invocation_document("us-east-1", ids))
    assert size > MANAGED_POLICY_QUOTA
    result = preview(workdir, {"bedrock": {"inferenceProfiles": [{"id": i} for i in ids]}})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [invocation_line("inferenceProfiles", 40, 0, size)]


def test_many_models_exceed_the_managed_policy_quota_and_name_models(workdir: Path) -> None:
    listed = models(150)
    size = iam_characters(invocation_document("us-east-1", [], listed))
    assert size > MANAGED_POLICY_QUOTA
    result = preview(workdir, {"bedrock": {"models": listed}})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [invocation_line("models", 0, 150, size)]


def test_many_base_models_exceed_the_managed_policy_quota(workdir: Path) -> None:
    listed = base_models(120)
    size = iam_characters(customization_job_document("us-east-1", "poolside-acme", listed))
    assert size > MANAGED_POLICY_QUOTA
    result = preview(workdir, {"bedrock": {"customizationBaseModels": listed}})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [customization_line(120, size)]


def test_quota_lines_come_with_the_other_environment_problems(workdir: Path) -> None:
    # A profile of the wrong geography and too many service accounts: both, at once.
    accounts = service_accounts(40)
    size = iam_characters(
        pod_trust_document("us-west-2", issuer_of("us-west-2"), "poolside", accounts)
    )
    result = preview(
        workdir,
        {
            "podRole": {"serviceAccounts": accounts},
            "bedrock": {"inferenceProfiles": [{"id": f"eu.{SONNET}"}]},
        },
        region="us-west-2",
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        "poolside:bedrock.inferenceProfiles[0].id: a 'eu' profile cannot be called from the "
        "stack's region us-west-2 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us., global.) (got "eu.{SONNET}")',
        trust_line(40, size),
    ]


# -- The largest counts that fit, with the longest names ----------------------------------------


def largest_fitting(size_of: Callable[[int], int], quota: int) -> int:
    """The largest count whose document fits `quota` (sizes grow with the count)."""
    count = 1
    assert size_of(count) <= quota
    while size_of(count + 1) <= quota:
        count += 1
    return count


@dataclass(frozen=True)
class Boundary:
    """Per partition: the largest counts that fit, and the documents' sizes at N and N + 1."""

    region: str
    accounts: int
    profiles: int  # 0: Bedrock is off (aws-cn)
    base_models: int
    geography: str

    def trust_size(self, count: int) -> int:
        return iam_characters(
            pod_trust_document(
                self.region, issuer_of(self.region), LONGEST_NAMESPACE, service_accounts(count)
            )
        )

    def invocation_size(self, count: int) -> int:
        return iam_characters(invocation_document(self.region, profiles(self.geography, count)))

    def customization_size(self, count: int) -> int:
        return iam_characters(
            customization_job_document(self.region, LONGEST_PREFIX, base_models(count))
        )

    def config(self, extra: int) -> dict[str, Any]:
        """Every count at its boundary plus `extra`, with the longest prefix and namespace."""
        keys: dict[str, Any] = {
            "deploymentPrefix": LONGEST_PREFIX,
            "podRole": {
                "namespace": LONGEST_NAMESPACE,
                "serviceAccounts": service_accounts(self.accounts + extra),
            },
        }
        if self.profiles:
            keys["bedrock"] = {
                "inferenceProfiles": [
                    {"id": i} for i in profiles(self.geography, self.profiles + extra)
                ],
                "customizationBaseModels": base_models(self.base_models + extra),
            }
        return keys


BEDROCK_GEOGRAPHY = {"aws": "us", "aws-us-gov": "us-gov", "aws-cn": ""}


def boundary(partition: str) -> Boundary:
    region = REGIONS[partition]
    geography = BEDROCK_GEOGRAPHY[partition]
    probe = Boundary(region, 0, 0, 0, geography)
    accounts = largest_fitting(probe.trust_size, TRUST_POLICY_QUOTA)
    if not geography:
        return Boundary(region, accounts, 0, 0, geography)
    return Boundary(
        region,
        accounts,
        largest_fitting(probe.invocation_size, MANAGED_POLICY_QUOTA),
        largest_fitting(probe.customization_size, MANAGED_POLICY_QUOTA),
        geography,
    )


@pytest.fixture(scope="module", params=tuple(REGIONS))
def limits(request: pytest.FixtureRequest, workdir: Path) -> Iterator[tuple[Boundary, Preview]]:
    """A partition's boundary and the plan of the stack with every count at it."""
    found = boundary(str(request.param))
    yield found, preview(workdir, found.config(0), region=found.region)


def test_the_boundaries_are_where_the_measure_says(limits: tuple[Boundary, Preview]) -> None:
    found, _ = limits
    # Measured, not assumed: these pin the documents' growth per entry, per partition.
    assert (found.accounts, found.profiles, found.base_models) == {
        "us-east-1": (14, 11, 67),
        "us-gov-west-1": (14, 10, 58),
        "cn-north-1": (14, 0, 0),
    }[found.region]
    assert found.trust_size(found.accounts) <= TRUST_POLICY_QUOTA
    assert found.trust_size(found.accounts + 1) > TRUST_POLICY_QUOTA
    if found.profiles:
        assert found.invocation_size(found.profiles) <= MANAGED_POLICY_QUOTA
        assert found.invocation_size(found.profiles + 1) > MANAGED_POLICY_QUOTA
        assert found.customization_size(found.base_models) <= MANAGED_POLICY_QUOTA
        assert found.customization_size(found.base_models + 1) > MANAGED_POLICY_QUOTA


def test_the_largest_counts_that_fit_plan_with_exit_0(limits: tuple[Boundary, Preview]) -> None:
    found, plan = limits
    assert plan.exit_code == 0, plan.stderr
    assert plan.stderr == ""
    issuer = plan.issuer()
    assert len(issuer) == len(issuer_of(found.region))  # what the measure assumed
    # The planned documents are the ones measured, character for character.
    trust = pod_trust_document(
        found.region, issuer, LONGEST_NAMESPACE, service_accounts(found.accounts)
    )
    planned_trust = plan.trust_text(f"{LONGEST_PREFIX}-eks-pod-role")
    assert json.loads(planned_trust) == trust
    assert len(planned_trust) == iam_characters(trust) == found.trust_size(found.accounts)
    names = {s["inputs"]["name"] for s in plan.states() if s["type"] == "aws:iam/policy:Policy"}
    if not found.profiles:
        assert not any("bedrock" in name for name in names)
        return
    invocation_name = f"{LONGEST_PREFIX}-pod-bedrock-model-invocation"
    invocation = invocation_document(found.region, profiles(found.geography, found.profiles))
    assert plan.policy(invocation_name) == invocation
    assert len(plan.policy_text(invocation_name)) == found.invocation_size(found.profiles)
    customization_name = f"{LONGEST_PREFIX}-pod-bedrock-customization-job"
    customization = customization_job_document(
        found.region, LONGEST_PREFIX, base_models(found.base_models)
    )
    assert plan.policy(customization_name) == customization
    assert len(plan.policy_text(customization_name)) == found.customization_size(found.base_models)


def test_one_more_of_each_exits_2_naming_each_key(
    limits: tuple[Boundary, Preview], workdir: Path
) -> None:
    found, _ = limits
    result = preview(workdir, found.config(1), region=found.region)
    assert result.exit_code == 2
    assert result.stdout == ""
    expected = [
        trust_line(found.accounts + 1, found.trust_size(found.accounts + 1), prefix=LONGEST_PREFIX)
    ]
    if found.profiles:
        expected += [
            invocation_line(
                "inferenceProfiles",
                found.profiles + 1,
                0,
                found.invocation_size(found.profiles + 1),
                prefix=LONGEST_PREFIX,
            ),
            customization_line(
                found.base_models + 1,
                found.customization_size(found.base_models + 1),
                prefix=LONGEST_PREFIX,
            ),
        ]
    assert result.lines == expected


# -- Inference profiles: the stack's region must be one the profile serves -----------------------


@pytest.mark.parametrize(
    ("region", "profile"),
    [
        ("us-west-2", f"us.{SONNET}"),
        ("eu-west-1", f"global.{SONNET}"),
        ("ap-northeast-1", f"jp.{SONNET}"),
        ("us-gov-west-1", "us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ],
)
def test_a_profile_of_the_stacks_geography_is_accepted(
    region: str, profile: str, workdir: Path
) -> None:
    plan = preview(workdir, {"bedrock": {"inferenceProfiles": [{"id": profile}]}}, region=region)
    assert plan.exit_code == 0, plan.stderr
    assert plan.policy("poolside-acme-pod-bedrock-model-invocation") == invocation_document(
        region, [profile]
    )


@pytest.mark.parametrize(
    ("region", "profile", "served"),
    [
        ("us-west-2", f"eu.{SONNET}", "us., global."),
        ("ap-southeast-1", f"jp.{SONNET}", "apac., global."),
        ("us-gov-west-1", f"us.{SONNET}", "us-gov."),
        ("us-gov-west-1", f"global.{SONNET}", "us-gov."),
    ],
)
def test_a_profile_of_another_geography_is_refused(
    region: str, profile: str, served: str, workdir: Path
) -> None:
    geography = profile.split(".", 1)[0]
    result = preview(
        workdir,
        {
            "bedrock": {
                "inferenceProfiles": [{"id": f"{served.split('.')[0]}.{SONNET}"}, {"id": profile}]
            }
        },
        region=region,
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        f"poolside:bedrock.inferenceProfiles[1].id: a '{geography}' profile cannot be called from "
        f"the stack's region {region} (its ARN would not exist there); use the profile of this "
        f'region\'s geography ({served}) (got "{profile}")'
    ]


def test_a_profile_with_regions_is_refused_naming_the_key(workdir: Path) -> None:
    result = preview(
        workdir,
        {"bedrock": {"inferenceProfiles": [{"id": f"us.{SONNET}", "regions": ["us-east-1"]}]}},
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        "poolside:bedrock.inferenceProfiles[0].regions: is no longer used: the policy now grants "
        "the profile's model in every region it routes to (AWS adds regions over time), only "
        "through the profile; delete this key"
    ]


# -- AWS Marketplace metering: not in China ------------------------------------------------------

METERING = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "MarketplaceMeterUsage",
            "Effect": "Allow",
            "Action": ["aws-marketplace:MeterUsage"],
            "Resource": "*",
        }
    ],
}


@pytest.fixture(scope="module", params=tuple(REGIONS))
def default_plan(request: pytest.FixtureRequest, workdir: Path) -> tuple[str, Preview]:
    partition = str(request.param)
    return partition, preview(workdir, {}, region=REGIONS[partition])


def pod_attachments(plan: Preview) -> list[str]:
    return sorted(
        s["inputs"]["policyArn"]
        for s in plan.states()
        if s["type"] == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
        and s["inputs"]["role"] == "poolside-acme-eks-pod-role"
    )


def test_the_pod_role_meters_usage_where_aws_marketplace_exists(
    default_plan: tuple[str, Preview],
) -> None:
    partition, plan = default_plan
    policies = f"arn:{partition}:iam::{ACCOUNT_ID}:policy/poolside-acme-pod-"
    if partition == "aws-cn":
        assert pod_attachments(plan) == [f"{policies}kms-access", f"{policies}s3-access"]
        assert "aws-marketplace" not in plan.stdout
        assert "marketplace-metering" not in plan.stdout
        return
    assert plan.policy("poolside-acme-pod-marketplace-metering") == METERING
    assert plan.policy_text("poolside-acme-pod-marketplace-metering") == json.dumps(
        METERING, separators=(",", ":")
    )
    assert pod_attachments(plan) == [
        f"{policies}{name}"
        for name in (
            "bedrock-customization-job",
            "bedrock-model-invocation",
            "bedrock-read-only",
            "kms-access",
            "marketplace-metering",
            "s3-access",
        )
    ]
