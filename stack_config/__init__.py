"""The typed stack configuration, parsed once from the `poolside` config namespace.

One `Pulumi.<customer>.yaml` per deployment holds these keys. Every problem in it is reported at
once, one line per problem naming the full key (`poolside:kms.deletionWindowInDays: ...`), before a
single resource is registered. The field descriptions of the section models are the single source
of the config reference in docs/configuration.md (`python -m stack_config --markdown` prints it; a
test keeps them equal).

What lives where (each module imports only those above it; `rules` names the section models for
their types only):

- `errors`: `CrossFieldError` (a model's problems on its named keys), `StackConfigError` (the
  one-line-per-problem error of an invalid config) and `Problem`.
- `values`: the value rules, their regexes and the `Annotated` field types built on them.
- `base`: `Section` (camelCase, unknown keys refused, frozen), a section's default, the
  switched-off-section rule and `section_model`.
- `rules`: the rules across sections (`cross_section_problems`) and `bastion_subnet_id`.
- `cluster`: the cluster's sections: the cluster (created or existing), node groups, add-ons.
- `sections`: the other sections, and `StackConfig`, the whole.
- `parsing`: `parse_stack_config`, `load_stack_config`, the error formatting (`format_errors`,
  `key_path`) and the cross-section rules beside other sections' errors.
- `environment`: `check_against_environment`, the rules that need the partition, region, account
  and existing cluster, and which regions an inference profile serves.
- `provider`: the `aws:` keys and regions, from the installed `pulumi_aws` (`aws_key_problems`).
- `reference`: the markdown config reference and its writer (`python -m stack_config`).
"""

from stack_config.base import Section
from stack_config.cluster import (
    CREATED_CLUSTER_FIELDS,
    DEFAULT_LOG_TYPES,
    AddonConfig,
    AddonsConfig,
    ClusterConfig,
    LogType,
    NodeGroupConfig,
    OptionalAddonConfig,
    TaintConfig,
)
from stack_config.environment import (
    PROFILE_SOURCE_REGIONS,
    check_against_environment,
    profile_geographies_of,
    profile_serves_region,
)
from stack_config.errors import CrossFieldError, Problem, StackConfigError
from stack_config.parsing import (
    NAMESPACE,
    format_errors,
    key_path,
    load_stack_config,
    namespace_config,
    parse_stack_config,
)
from stack_config.provider import (
    aws_config_keys,
    aws_key_problems,
    aws_regions,
    region_problem,
    supported_regions,
)
from stack_config.reference import (
    REFERENCE_MARKERS,
    reference_markdown,
    reference_rows,
    write_reference,
)
from stack_config.rules import bastion_subnet_id, cross_section_problems, reachability_warnings
from stack_config.sections import (
    BastionConfig,
    BedrockConfig,
    BucketConfig,
    EcrConfig,
    InferenceConfig,
    InferenceProfileConfig,
    KmsConfig,
    LoadBalancerControllerConfig,
    PodRoleConfig,
    StackConfig,
)

__all__ = [
    "CREATED_CLUSTER_FIELDS",
    "DEFAULT_LOG_TYPES",
    "NAMESPACE",
    "PROFILE_SOURCE_REGIONS",
    "REFERENCE_MARKERS",
    "AddonConfig",
    "AddonsConfig",
    "BastionConfig",
    "BedrockConfig",
    "BucketConfig",
    "ClusterConfig",
    "CrossFieldError",
    "EcrConfig",
    "InferenceConfig",
    "InferenceProfileConfig",
    "KmsConfig",
    "LoadBalancerControllerConfig",
    "LogType",
    "NodeGroupConfig",
    "OptionalAddonConfig",
    "PodRoleConfig",
    "Problem",
    "Section",
    "StackConfig",
    "StackConfigError",
    "TaintConfig",
    "aws_config_keys",
    "aws_key_problems",
    "aws_regions",
    "bastion_subnet_id",
    "check_against_environment",
    "cross_section_problems",
    "format_errors",
    "key_path",
    "load_stack_config",
    "namespace_config",
    "parse_stack_config",
    "profile_geographies_of",
    "profile_serves_region",
    "reachability_warnings",
    "reference_markdown",
    "reference_rows",
    "region_problem",
    "supported_regions",
    "write_reference",
]
