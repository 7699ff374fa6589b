"""The rules that need the partition, region and account: inference profiles' geographies."""

from __future__ import annotations

import pytest

from stack_config import (
    PROFILE_SOURCE_REGIONS,
    StackConfigError,
    check_against_environment,
    profile_geographies_of,
    profile_serves_region,
)
from tests.support.config import parse
from tests.support.harness import SONNET_4


def environment_problems(
    profile_ids: list[str],
    *,
    partition: str = "aws",
    region: str = "us-east-1",
    more_problems: tuple[str, ...] = (),
) -> list[str]:
    """What check_against_environment refuses of a config with these inference profiles."""
    config = parse(
        {
            "deploymentName": "acme",
            "bedrock": {"inferenceProfiles": [{"id": i} for i in profile_ids]},
        }
    )
    try:
        check_against_environment(
            config,
            partition=partition,
            region=region,
            account_id="123456789012",
            more_problems=more_problems,
        )
    except StackConfigError as error:
        return error.problems
    return []


@pytest.mark.parametrize(
    ("geography", "region"),
    [
        ("us", "us-east-1"),
        ("us", "us-west-2"),
        ("us", "ca-central-1"),
        ("us-gov", "us-gov-west-1"),
        ("us-gov", "us-gov-east-1"),
        ("ca", "ca-central-1"),
        ("eu", "eu-west-1"),
        ("eu", "il-central-1"),
        ("apac", "ap-south-1"),
        ("jp", "ap-northeast-1"),
        ("jp", "ap-northeast-3"),
        ("au", "ap-southeast-2"),
        ("global", "us-east-2"),
        ("global", "eu-central-1"),
        ("global", "sa-east-1"),
    ],
)
def test_profiles_are_accepted_where_their_geography_serves(geography: str, region: str) -> None:
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    assert (
        environment_problems([f"{geography}.{SONNET_4}"], partition=partition, region=region) == []
    )


@pytest.mark.parametrize(
    ("geography", "region", "served"),
    [
        ("eu", "us-west-2", "us., global."),
        ("us", "eu-west-1", "eu., global."),
        ("us", "us-gov-west-1", "us-gov."),
        ("global", "us-gov-west-1", "us-gov."),
        ("us-gov", "us-east-1", "us., global."),
        ("jp", "ap-southeast-1", "apac., global."),
        ("au", "ap-northeast-1", "apac., jp., global."),
        ("ca", "us-east-1", "us., global."),
        ("apac", "ca-central-1", "us., ca., global."),
    ],
)
def test_profiles_are_refused_where_their_geography_cannot_serve(
    geography: str, region: str, served: str
) -> None:
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    profile = f"{geography}.{SONNET_4}"
    assert environment_problems(
        [f"{served.split('.')[0]}.{SONNET_4}", profile], partition=partition, region=region
    ) == [
        f"poolside:bedrock.inferenceProfiles[1].id: a {geography!r} profile cannot be called "
        f"from the stack's region {region} (its ARN would not exist there); use the profile of "
        f'this region\'s geography ({served}) (got "{profile}")'
    ]


def test_the_issue_example_of_a_profile_of_another_geography() -> None:
    assert environment_problems([f"eu.{SONNET_4}"], region="us-west-2") == [
        "poolside:bedrock.inferenceProfiles[0].id: a 'eu' profile cannot be called from the "
        "stack's region us-west-2 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us., global.) (got "eu.{SONNET_4}")'
    ]


def test_more_problems_are_reported_after_the_environment_rules_at_once() -> None:
    quota = "poolside:bedrock.inferenceProfiles: 40 inference profiles and 0 models make ..."
    assert environment_problems([f"eu.{SONNET_4}"], more_problems=(quota,)) == [
        "poolside:bedrock.inferenceProfiles[0].id: a 'eu' profile cannot be called from the "
        "stack's region us-east-1 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us., global.) (got "eu.{SONNET_4}")',
        quota,
    ]
    # Alone, they still refuse the stack.
    assert environment_problems([f"us.{SONNET_4}"], more_problems=(quota,)) == [quota]
    assert environment_problems([f"us.{SONNET_4}"]) == []


@pytest.mark.parametrize(
    ("geography", "region", "serves"),
    [
        ("us", "us-east-1", True),
        ("us", "us-west-2", True),
        ("us", "ca-central-1", True),
        ("us", "us-gov-west-1", False),  # `us-` alone would take GovCloud in
        ("us", "eu-west-1", False),
        ("us-gov", "us-gov-west-1", True),
        ("us-gov", "us-gov-east-1", True),
        ("us-gov", "us-east-1", False),
        ("ca", "ca-central-1", True),
        ("ca", "ca-west-1", True),
        ("ca", "us-east-1", False),
        ("eu", "eu-central-1", True),
        ("eu", "il-central-1", True),
        ("eu", "il-central-2", False),  # a region, not a prefix
        ("eu", "us-west-2", False),
        ("apac", "ap-southeast-1", True),
        ("apac", "ap-northeast-1", True),
        ("apac", "me-south-1", False),
        ("jp", "ap-northeast-1", True),
        ("jp", "ap-northeast-3", True),
        ("jp", "ap-northeast-2", False),
        ("jp", "ap-southeast-1", False),
        ("jp", "ap-northeast-10", False),  # exact regions: no prefix match
        ("au", "ap-southeast-2", True),
        ("au", "ap-southeast-4", True),
        ("au", "ap-southeast-1", False),
        ("global", "us-east-1", True),
        ("global", "eu-west-1", True),
        ("global", "sa-east-1", True),
        ("global", "us-gov-west-1", False),
        ("global", "cn-north-1", False),
        ("nope", "us-east-1", False),  # an unknown geography serves nowhere
    ],
)
def test_profile_serves_region(geography: str, region: str, serves: bool) -> None:
    assert profile_serves_region(geography, region) is serves


def test_every_geography_the_config_accepts_has_source_regions() -> None:
    # The profile id pattern's geographies, in the order messages list them.
    assert list(PROFILE_SOURCE_REGIONS) == [
        "us",
        "us-gov",
        "ca",
        "eu",
        "apac",
        "jp",
        "au",
        "global",
    ]


@pytest.mark.parametrize(
    ("region", "geographies"),
    [
        ("us-west-2", "us., global."),
        ("ca-central-1", "us., ca., global."),
        ("ap-northeast-1", "apac., jp., global."),
        ("ap-southeast-2", "apac., au., global."),
        ("il-central-1", "eu., global."),
        ("us-gov-west-1", "us-gov."),
        ("cn-north-1", "none"),
    ],
)
def test_profile_geographies_of_a_region(region: str, geographies: str) -> None:
    assert profile_geographies_of(region) == geographies
