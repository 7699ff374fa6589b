"""The `aws:` keys of a stack: the provider's own key names and regions, from `pulumi_aws`.

Both lists come from the installed provider SDK, never from literals here: the keys are those
`pulumi_aws.config` reads (`pulumi_aws/config/vars.py`), the regions those of `pulumi_aws.Region`.
The program builds ARNs for three partitions (`aws_environment.DNS_SUFFIXES`); a region of any
other partition (the ISO and European Sovereign Cloud ones) is refused as such.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Mapping

AWS_NAMESPACE = "aws"


@functools.cache
def aws_config_keys() -> tuple[str, ...]:
    """Every key the provider reads from the `aws:` namespace (`region`, `profile`, ...)."""
    from pulumi_aws.config import vars as provider_vars

    source = inspect.getsource(provider_vars)
    return tuple(sorted(set(re.findall(r"__config__\.get\w*\('(\w+)'\)", source))))


@functools.cache
def aws_regions() -> tuple[str, ...]:
    """Every region the provider knows (`pulumi_aws.Region`), in its order."""
    from pulumi_aws import Region

    return tuple(region.value for region in Region)


def _partition_of(region: str) -> str | None:
    """The program's partition of a known region; None for one of another partition."""
    from aws_environment import DNS_SUFFIXES, partition_of_region

    partition = partition_of_region(region)
    if partition != "aws":
        return partition
    # `partition_of_region` calls anything else commercial; the commercial regions have the
    # names `<geo>-<direction>-<n>` with a two-letter geography.
    commercial = re.fullmatch(r"[a-z]{2}-[a-z]+-\d+", region) and partition in DNS_SUFFIXES
    return partition if commercial else None


def supported_regions() -> tuple[str, ...]:
    """The provider's regions of the partitions the program supports."""
    return tuple(r for r in aws_regions() if _partition_of(r) is not None)


def region_problem(region: str) -> str | None:
    """Why `region` cannot be the stack's `aws:region`, as one line; None when it can."""
    key = f"{AWS_NAMESPACE}:region"
    if region == "":
        return f'{key}: required, an AWS region such as us-east-1 (got "")'
    if region in supported_regions():
        return None
    if region in aws_regions():
        return (
            f"{key}: {region} is in a partition this program does not build for "
            f"(aws, aws-us-gov, aws-cn) (got {json.dumps(region)})"
        )
    family = region.rsplit("-", 1)[0] + "-"
    examples = [r for r in supported_regions() if r.startswith(family)]
    examples = examples or difflib.get_close_matches(region, supported_regions(), n=2, cutoff=0.8)
    such_as = " or ".join(examples[:3]) if examples else "us-east-1"
    return (
        f"{key}: must be an AWS region the provider knows, such as {such_as} "
        f"(got {json.dumps(region)})"
    )


def aws_key_problems(config: Mapping[str, str], *, region_required: bool) -> list[str]:
    """One line per unknown `aws:` key (with a did-you-mean) and per problem with `aws:region`.

    `region_required`: the offline preview has no other source of the region; under `pulumi` the
    provider may take it from the environment (`AWS_REGION`), so only a given one is checked.
    """
    problems: list[str] = []
    prefix = AWS_NAMESPACE + ":"
    known = aws_config_keys()
    for full_key in config:
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix) :]
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        what = f"did you mean {prefix}{close[0]}?" if close else "remove it"
        problems.append(f"{full_key}: not a key of the AWS provider; {what}")
    region = config.get(prefix + "region")
    if region is not None or region_required:
        problem = region_problem(region or "")
        if problem is not None:
            problems.append(problem)
    return problems
