"""IAM's size quotas, checked on the rendered documents before anything is planned.

A policy that grows with the stack config (service accounts in a trust policy, models and
inference profiles in the Bedrock policies) can pass IAM's quotas in one stack and not in the
next. IAM would refuse it halfway through `pulumi up`, after other resources exist; this module
renders those documents for the stack's own partition, region, account and names, measures them
the way IAM does, and names the config key that made them too large.

Quotas ("IAM and AWS STS quotas", IAM User Guide): a customer-managed policy holds at most 6,144
characters and a role trust policy at most 2,048, whitespace not counted; the numbers and the
measure live in `policy/iam_limits.py`, which the policy pack checks every planned document
with. The other documents of the program do not grow with config; tests measure them with the
longest allowed names.
"""

from __future__ import annotations

import json

from aws_environment import AwsEnvironment
from naming import Policy, Role
from policies import eks_pod_role
from policies.documents import Document
from policies.trust import irsa_trust_document
from policy.iam_limits import MANAGED_POLICY_MAX, TRUST_POLICY_MAX, iam_size
from stack_config import StackConfig, key_path

# An EKS issuer is `oidc.eks.<region>.<dnsSuffix>/id/<32 hex digits>`: the id's length is fixed,
# so a created cluster's documents are measured at their exact length before the cluster exists.
EKS_ISSUER_ID_LENGTH = 32


def _json(document: Document) -> str:
    return json.dumps(document, separators=(",", ":"))


def created_cluster_issuer(env: AwsEnvironment) -> str:
    """An issuer of exactly the length EKS will give the cluster this stack creates."""
    return f"oidc.eks.{env.region}.{env.dns_suffix}/id/{'0' * EKS_ISSUER_ID_LENGTH}"


def _over(size: int, limit: int, what: str) -> str:
    return f"make {what} {size:,} characters; IAM allows {limit:,}"


def quota_problems(
    config: StackConfig, env: AwsEnvironment, *, existing_issuer_url: str | None = None
) -> list[str]:
    """One line per document the config would push past an IAM quota, naming the config key."""
    problems: list[str] = []
    names = config.names
    issuer = (
        existing_issuer_url.removeprefix("https://")
        if existing_issuer_url is not None
        else created_cluster_issuer(env)
    )
    provider_arn = config.cluster.existing_oidc_provider_arn or env.global_arn(
        "iam", f"oidc-provider/{issuer}"
    )
    pod = config.pod_role
    trust = _json(irsa_trust_document(provider_arn, issuer, pod.subjects))
    if (size := iam_size(trust)) > TRUST_POLICY_MAX:
        what = f"the trust policy of {names.role(Role.POD)}"
        problems.append(
            f"{key_path(('podRole', 'serviceAccounts'))}: {len(pod.service_accounts)} service "
            f"accounts {_over(size, TRUST_POLICY_MAX, what)} per trust policy: list fewer, or "
            "match several with a `*` pattern"
        )
    bedrock = config.bedrock
    if not bedrock.enabled:
        return problems
    invocation = _json(
        eks_pod_role.bedrock_model_invocation_policy(
            env,
            models=bedrock.models,
            inference_profiles=[p.id for p in bedrock.inference_profiles],
        )
    )
    if (size := iam_size(invocation)) > MANAGED_POLICY_MAX:
        profiles, models = len(bedrock.inference_profiles), len(bedrock.models)
        key = "inferenceProfiles" if profiles >= models else "models"
        what = f"policy {names.policy(Policy.POD_BEDROCK_MODEL_INVOCATION)}"
        problems.append(
            f"{key_path(('bedrock', key))}: {profiles} inference profiles and {models} models "
            f"{_over(size, MANAGED_POLICY_MAX, what)} per managed policy: list fewer"
        )
    customization_role = env.global_arn("iam", f"role/{names.role(Role.BEDROCK_CUSTOMIZATION)}")
    jobs = _json(
        eks_pod_role.bedrock_customization_job_policy(
            env, customization_role, base_models=bedrock.customization_base_models
        )
    )
    if (size := iam_size(jobs)) > MANAGED_POLICY_MAX:
        what = f"policy {names.policy(Policy.POD_BEDROCK_CUSTOMIZATION_JOB)}"
        problems.append(
            f"{key_path(('bedrock', 'customizationBaseModels'))}: "
            f"{len(bedrock.customization_base_models)} base models "
            f"{_over(size, MANAGED_POLICY_MAX, what)} per managed policy: list fewer, or none "
            "(any base model)"
        )
    return problems
