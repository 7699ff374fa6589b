"""The pod role's S3 permissions, proven request by request against moto's IAM authorization.

What is deployed comes from a real program run under the project's mock harness (`run_stack()`):
the pod role's trust policy and every customer-managed policy the program attaches to it, among
them `poolside-acme-pod-s3-access`, as rendered JSON. moto (`mock_aws`) then gets the data bucket
by the name the mocks give it, two neighbour buckets (the same name plus `-x`, and another
deployment's), and that role with those policies. The pod's credentials come from
`AssumeRoleWithWebIdentity` on the role, as IRSA gets them, so every S3 request below is signed as
`assumed-role/poolside-acme-eks-pod-role/...` and checked by moto against the role's policies.

How moto 5.2 authorizes (`moto/iam/access_control.py`, `moto/core/authorization.py`), and so what
this test can and cannot prove:

* IAM authorization is off until `enable_iam_authentication()` (or the
  `INITIAL_NO_AUTH_ACTION_COUNT` setting) switches it on; the fixture sets up buckets, objects,
  role and credentials before that, then runs every test with it on.
* Principals: IAM users (`AKIA...` keys) and roles assumed through STS (the temporary key and
  session token of `AssumeRole`/`AssumeRoleWithWebIdentity`); the role's inline and attached
  managed policies are evaluated. The web identity token and the role's trust policy are not
  checked for `AssumeRoleWithWebIdentity` (trust is checked only for `sts:AssumeRole`); session
  policies and permissions boundaries are not applied.
* Evaluation: an explicit Deny wins, otherwise some Allow must match. Action and Resource are
  matched case-sensitively with `*` wildcards, at resource level: `arn:aws:s3:::<bucket>` for
  bucket requests, `arn:aws:s3:::<bucket>/<key>` for object requests, `arn:aws:s3:::*` for
  ListAllMyBuckets. A statement with NotResource (and no Resource) applies to every resource.
  Conditions of identity policies are not evaluated (only `StringEquals` on `sts:ExternalId`,
  for AssumeRole): a conditioned statement counts as unconditioned. The pod's S3 policy has no
  conditions, and no pod policy has NotResource or an `s3:` action outside the S3 Access Policy
  (asserted below), so none of this weakens the test. All the pod's policies are attached, to
  show no other one grants S3 beyond it.
* Resource-based policies (bucket policies, KMS key policies) are not evaluated, and moto checks
  no `kms:` permission for S3 requests on SSE-KMS objects (the buckets here use no KMS at all):
  the KMS Access Policy, and that the pod needs it to read or write the encrypted objects, is
  proven by the request evaluator (`tests/support/iam_eval.py`) elsewhere, not here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import enable_iam_authentication

from tests.support.harness import ACCOUNT_ID, REGIONS, run_stack

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

REGION = REGIONS["aws"]
POD_ROLE = "poolside-acme-eks-pod-role"
S3_POLICY = "poolside-acme-pod-s3-access"
POLICY_ARN_PREFIX = f"arn:aws:iam::{ACCOUNT_ID}:policy/"

SEED_KEY = "models/seed.txt"  # present in every bucket before the pod's first request
DELETE_KEY = "models/keep-me.txt"  # what the pod tries, and must fail, to delete
PUT_KEY = "models/written-by-pod.txt"

# Dummy credentials and region: nothing may reach a real account or the network.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
}
UNSET_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@dataclass(frozen=True)
class Deployed:
    """What the program deploys for the pod, read from a mock-harness run."""

    bucket: str
    trust_policy: str
    policies: dict[str, str]  # policy name -> rendered JSON document


@dataclass(frozen=True)
class Buckets:
    data: str
    neighbours: dict[str, str]  # label for the test id -> bucket name


@dataclass(frozen=True)
class World:
    buckets: Buckets
    pod: S3Client
    pod_arn: str
    unprivileged: S3Client  # a role assumed the same way, with no policy at all


S3Request = Callable[["S3Client", Buckets], object]


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    recording = run_stack()
    bucket = recording.one("aws:s3/bucket:Bucket", "data-bucket")
    name = bucket.inputs["bucket"]
    # moto computes the ARN it authorizes from the bucket name: it must be the recorded one.
    assert bucket.outputs["arn"] == f"arn:aws:s3:::{name}"
    (role,) = [r for r in recording.by_type("aws:iam/role:Role") if r.inputs["name"] == POD_ROLE]
    assert not role.inputs.get("permissionsBoundary")
    assert not role.inputs.get("managedPolicyArns")
    assert not role.inputs.get("inlinePolicies")
    assert not [
        p
        for p in recording.by_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == POD_ROLE
    ]
    documents = {
        p.inputs["name"]: p.inputs["policy"] for p in recording.by_type("aws:iam/policy:Policy")
    }
    attached = [
        a.inputs["policyArn"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == POD_ROLE
    ]
    names = [arn.removeprefix(POLICY_ARN_PREFIX) for arn in attached]
    # Only this deployment's own policies: an AWS-managed one would not be in moto.
    assert [f"{POLICY_ARN_PREFIX}{n}" for n in names] == attached
    assert S3_POLICY in names
    return Deployed(
        bucket=name,
        trust_policy=role.inputs["assumeRolePolicy"],
        policies={n: documents[n] for n in names},
    )


def assume(sts: STSClient, role_arn: str, session: str) -> tuple[S3Client, str]:
    """An S3 client signed with the role's web-identity credentials, and the session's ARN."""
    response = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session, WebIdentityToken="projected-sa-token"
    )
    credentials = response["Credentials"]
    client = boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return client, response["AssumedRoleUser"]["Arn"]


@pytest.fixture(scope="module")
def world(deployed: Deployed) -> Iterator[World]:
    data = deployed.bucket
    other_deployment = data.replace("-acme-", "-globex-")
    assert other_deployment != data
    buckets = Buckets(
        data=data,
        neighbours={"name-prefix-neighbour": f"{data}-x", "other-deployment": other_deployment},
    )
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for key, value in FAKE_ENV.items():
            env.setenv(key, value)
        for key in UNSET_ENV:
            env.delenv(key, raising=False)

        # Set-up as an administrator: IAM authorization is still off.
        s3 = boto3.client("s3", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        sts = boto3.client("sts", region_name=REGION)
        for bucket in [data, *buckets.neighbours.values()]:
            s3.create_bucket(Bucket=bucket)
            for key in (SEED_KEY, DELETE_KEY):
                s3.put_object(Bucket=bucket, Key=key, Body=b"seed")

        pod_role = iam.create_role(
            RoleName=POD_ROLE, AssumeRolePolicyDocument=deployed.trust_policy
        )
        for name, document in deployed.policies.items():
            arn = iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
            iam.attach_role_policy(RoleName=POD_ROLE, PolicyArn=arn)
        bare_role = iam.create_role(
            RoleName="unprivileged", AssumeRolePolicyDocument=deployed.trust_policy
        )
        pod, pod_arn = assume(sts, pod_role["Role"]["Arn"], "poolside-pod")
        unprivileged, _ = assume(sts, bare_role["Role"]["Arn"], "unprivileged-pod")

        with enable_iam_authentication():
            yield World(buckets=buckets, pod=pod, pod_arn=pod_arn, unprivileged=unprivileged)


def error_code(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response.get("Error", {}).get("Code"))


ALLOWED: dict[str, S3Request] = {
    "ListBucket-data-bucket": lambda s3, b: s3.list_objects_v2(Bucket=b.data),
    "GetObject-data-bucket": lambda s3, b: s3.get_object(Bucket=b.data, Key=SEED_KEY)[
        "Body"
    ].read(),
    "HeadObject-data-bucket": lambda s3, b: s3.head_object(Bucket=b.data, Key=SEED_KEY),
    "PutObject-data-bucket": lambda s3, b: s3.put_object(
        Bucket=b.data, Key=PUT_KEY, Body=b"written by the pod"
    ),
}

DENIED: dict[str, S3Request] = {
    "DeleteObject-data-bucket": lambda s3, b: s3.delete_object(Bucket=b.data, Key=DELETE_KEY),
    "DeleteObjectVersion-data-bucket": lambda s3, b: s3.delete_object(
        Bucket=b.data, Key=DELETE_KEY, VersionId="null"
    ),
    "PutObjectAcl-data-bucket": lambda s3, b: s3.put_object_acl(
        Bucket=b.data, Key=SEED_KEY, ACL="public-read"
    ),
    "ListBucketVersions-data-bucket": lambda s3, b: s3.list_object_versions(Bucket=b.data),
    "GetBucketPolicy-data-bucket": lambda s3, b: s3.get_bucket_policy(Bucket=b.data),
    "PutBucketPolicy-data-bucket": lambda s3, b: s3.put_bucket_policy(
        Bucket=b.data,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{b.data}/*",
                    }
                ],
            }
        ),
    ),
    "DeleteBucket-data-bucket": lambda s3, b: s3.delete_bucket(Bucket=b.data),
    "ListAllMyBuckets": lambda s3, b: s3.list_buckets(),
}


def neighbour_requests(label: str) -> dict[str, S3Request]:
    def bucket(b: Buckets) -> str:
        return b.neighbours[label]

    return {
        f"GetObject-{label}": lambda s3, b: s3.get_object(Bucket=bucket(b), Key=SEED_KEY),
        f"PutObject-{label}": lambda s3, b: s3.put_object(Bucket=bucket(b), Key=PUT_KEY, Body=b"x"),
        f"ListBucket-{label}": lambda s3, b: s3.list_objects_v2(Bucket=bucket(b)),
    }


DENIED |= neighbour_requests("name-prefix-neighbour") | neighbour_requests("other-deployment")


def test_moto_sees_every_s3_grant_of_the_pod_as_iam_would(deployed: Deployed) -> None:
    """What moto ignores (conditions, NotResource) is absent where it could touch S3."""
    for name, rendered in deployed.policies.items():
        for statement in json.loads(rendered)["Statement"]:
            assert "NotResource" not in statement and "NotAction" not in statement
            actions = statement["Action"]
            s3_actions = [
                a
                for a in (actions if isinstance(actions, list) else [actions])
                if a.lower().startswith("s3") or a.startswith("*")
            ]
            if name == S3_POLICY:
                assert s3_actions and "Condition" not in statement
            else:
                assert s3_actions == []


def test_requests_are_signed_as_the_assumed_pod_role(world: World) -> None:
    assert world.pod_arn == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{POD_ROLE}/poolside-pod"


def test_moto_enforces_iam_a_role_without_the_policies_is_denied(world: World) -> None:
    """Guard: were moto's IAM authorization off, every request would pass and the test be void."""
    assert (
        error_code(lambda: world.unprivileged.get_object(Bucket=world.buckets.data, Key=SEED_KEY))
        == "AccessDenied"
    )


@pytest.mark.parametrize("call", ALLOWED.values(), ids=ALLOWED.keys())
def test_pod_role_is_allowed(world: World, call: S3Request) -> None:
    call(world.pod, world.buckets)


@pytest.mark.parametrize("call", DENIED.values(), ids=DENIED.keys())
def test_pod_role_is_denied(world: World, call: S3Request) -> None:
    assert error_code(lambda: call(world.pod, world.buckets)) == "AccessDenied"


def test_object_the_pod_may_not_delete_is_still_there(world: World) -> None:
    """Runs after the denied requests (file order): the refused DeleteObject removed nothing."""
    assert world.pod.get_object(Bucket=world.buckets.data, Key=DELETE_KEY)["Body"].read() == b"seed"
