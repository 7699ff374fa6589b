"""The typed stack configuration, parsed once from the `poolside` config namespace.

One `Pulumi.<customer>.yaml` per deployment holds these keys. Every problem in it is reported at
once, one line per problem naming the full key (`poolside:kms.deletionWindowInDays: ...`), before a
single resource is registered. The field descriptions below are the single source of the config
reference in the README (`python -m stack_config --markdown` prints it; a test keeps them equal).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "poolside"

# Every IAM role the program names is `<deploymentPrefix><suffix>`; IAM caps role names at 64
# characters, so the prefix may be no longer than 64 minus the longest suffix.
ROLE_NAME_SUFFIXES = (
    "-eks-pod-role",
    "-bedrock-customization-role",
    "-aws-load-balancer-controller",
    "-bastion-role",
)
IAM_ROLE_NAME_MAX = 64
MAX_PREFIX_LENGTH = IAM_ROLE_NAME_MAX - max(len(s) for s in ROLE_NAME_SUFFIXES)

# The tag the program puts on every taggable resource; users may not override it.
DEPLOYMENT_TAG = "poolside:deployment"

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
_ECR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


class CrossFieldError(ValueError):
    """Raised by a model validator to report problems on named keys of that model."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))
        self.problems = problems


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration; `str()` is one line per problem, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Value rules. Each raises ValueError with what is allowed; the formatter adds the key and value.


def _dns_label(value: str) -> str:
    if not (3 <= len(value) <= 32 and _DNS_LABEL.match(value)):
        raise ValueError("must be a lowercase DNS label of 3-32 characters")
    return value


def _prefix(value: str) -> str:
    if not (3 <= len(value) <= MAX_PREFIX_LENGTH and _DNS_LABEL.match(value)):
        raise ValueError(
            f"must be 3-{MAX_PREFIX_LENGTH} lowercase letters, digits or hyphens, starting and "
            f"ending with a letter or digit (IAM role names cap at {IAM_ROLE_NAME_MAX} characters)"
        )
    return value


def _bucket_name(value: str) -> str:
    if not (3 <= len(value) <= 63 and _BUCKET_NAME.match(value)):
        raise ValueError(
            "must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in value or _IPV4.match(value) or value.startswith(("xn--", "sthree-")):
        raise ValueError("must be an S3 bucket name (no '..', no IP address, no reserved prefix)")
    if value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        raise ValueError("must be an S3 bucket name (the suffix is reserved by S3)")
    return value


def _kms_alias(value: str) -> str:
    if not _KMS_ALIAS.match(value) or value.startswith("alias/aws/") or len(value) > 256:
        raise ValueError(
            "must be 'alias/<name>' with letters, digits, '/', '_' or '-' "
            "(and not under the AWS-reserved 'alias/aws/')"
        )
    return value


def _ecr_repository(value: str) -> str:
    if not (1 <= len(value) <= 200 and _ECR_NAME.match(value)):
        raise ValueError(
            "must be an ECR repository name: lowercase letters and digits, "
            "separated by '.', '_', '-' or '/'"
        )
    return value


def _between(low: int, high: int, unit: str) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be {low}-{high} {unit}")
        return value

    return AfterValidator(check)


def _unique(values: list[str]) -> list[str]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"must not repeat names (repeated: {', '.join(duplicates)})")
    return values


def _tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses the AWS-reserved prefix 'aws:'")
        if key == DEPLOYMENT_TAG:
            raise ValueError(f"tag key {key!r} is set by the program to deploymentName")
        if len(value) > 256:
            raise ValueError(f"tag value of {key!r} must be at most 256 characters")
    if len(tags) > 40:
        raise ValueError("must have at most 40 tags (S3 and ECR allow 50 per resource in all)")
    return tags


DnsLabel = Annotated[str, AfterValidator(_dns_label)]


def _empty_is_unset(value: Any) -> Any:
    """Pulumi.yaml declares optional strings with default "": empty means "use the default"."""
    return None if value == "" else value


Prefix = Annotated[str, AfterValidator(_prefix)]
BucketName = Annotated[str, AfterValidator(_bucket_name)]
KmsAlias = Annotated[str, AfterValidator(_kms_alias)]
EcrRepositoryName = Annotated[str, AfterValidator(_ecr_repository)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


class KmsConfig(Section):
    deletion_window_in_days: Annotated[int, _between(7, 30, "days")] = Field(
        30,
        description="Days KMS waits before deleting the key once deletion is scheduled (7-30).",
    )
    alias: KmsAlias | None = Field(
        None, description="Alias of the key. Default: `alias/<deploymentPrefix>`."
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the key (and its alias) in AWS when the stack is destroyed.",
    )


class BucketConfig(Section):
    name: BucketName | None = Field(
        None,
        description="Explicit bucket name. Default: `<deploymentPrefix>-<accountId>`.",
    )
    noncurrent_version_expiration_days: Annotated[int, _between(1, 3650, "days")] = Field(
        90,
        description="Days after which noncurrent object versions are deleted (1-3650).",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the bucket and its settings in AWS when the stack is destroyed.",
    )


class EcrConfig(Section):
    repositories: Annotated[list[EcrRepositoryName], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Repositories to create, each named `poolside-<deploymentName>/<entry>`.",
    )
    image_tag_mutability: Literal["IMMUTABLE", "MUTABLE"] = Field(
        "IMMUTABLE", description="`IMMUTABLE` refuses to overwrite a pushed tag; or `MUTABLE`."
    )
    scan_on_push: bool = Field(True, description="Scan every pushed image for vulnerabilities.")
    untagged_image_expiration_days: Annotated[int, _between(1, 3650, "days")] = Field(
        14,
        description="Days after which untagged images are expired by the lifecycle policy.",
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the repositories and their images when the stack is destroyed.",
    )


class StackConfig(Section):
    deployment_name: DnsLabel = Field(
        description="Name of this deployment: a lowercase DNS label of 3-32 characters. Required.",
    )
    deployment_prefix: Annotated[Prefix | None, BeforeValidator(_empty_is_unset)] = Field(
        None,
        description=(
            "Prefix of every IAM role and policy name. Default: `poolside-<deploymentName>`. "
            f"At most {MAX_PREFIX_LENGTH} characters."
        ),
    )
    tags: Tags = Field(
        default_factory=dict,
        description=f"Tags for every taggable resource, merged with `{DEPLOYMENT_TAG}`.",
    )
    kms: KmsConfig = Field(
        default_factory=lambda: KmsConfig.model_validate({}),
        description="The deployment's KMS key.",
    )
    bucket: BucketConfig = Field(
        default_factory=lambda: BucketConfig.model_validate({}),
        description="The Poolside S3 bucket.",
    )
    ecr: EcrConfig = Field(
        default_factory=lambda: EcrConfig.model_validate({}), description="The ECR repositories."
    )

    @model_validator(mode="after")
    def _default_prefix_fits(self) -> StackConfig:
        if self.deployment_prefix is None and len(self.prefix) > MAX_PREFIX_LENGTH:
            raise CrossFieldError(
                [
                    (
                        "deploymentName",
                        f"the default deploymentPrefix {self.prefix!r} is {len(self.prefix)} "
                        f"characters, more than the {MAX_PREFIX_LENGTH} IAM role names leave room "
                        "for: shorten the name or set poolside:deploymentPrefix",
                    )
                ]
            )
        return self

    @property
    def prefix(self) -> str:
        """The resolved deployment prefix of IAM role and policy names."""
        return self.deployment_prefix or f"poolside-{self.deployment_name}"

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags for every taggable resource: the user's plus the deployment tag."""
        return {**self.tags, DEPLOYMENT_TAG: self.deployment_name}

    @property
    def ecr_namespace(self) -> str:
        """The repository namespace of this deployment (the spec's `poolside-[deployment-name]`)."""
        return f"poolside-{self.deployment_name}"


# ---------------------------------------------------------------------------------------------
# Parsing and error formatting


def _key_path(loc: Iterable[str | int]) -> str:
    path = NAMESPACE + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif first:
            path += part
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
        first = False
    return path


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = StackConfig
    for part in loc:
        fields = {f.alias: f for f in model.model_fields.values()}
        field = fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _did_you_mean(loc: tuple[str | int, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    known = [f.alias for f in model.model_fields.values() if f.alias]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if str(loc[-1]).lower() in lowered:
            close = [lowered[str(loc[-1]).lower()]]
    return f"; did you mean {_key_path((*loc[:-1], close[0]))}?" if close else ""


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)


def format_errors(error: ValidationError) -> list[str]:
    """One line per problem: `poolside:<key>: <what is allowed> (got <value>)`."""
    lines: list[str] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CrossFieldError):
            lines.extend(f"{_key_path((*loc, key))}: {msg}" for key, msg in cause.problems)
            continue
        kind = err["type"]
        if kind == "missing":
            lines.append(f"{_key_path(loc)}: required")
            continue
        if kind == "extra_forbidden":
            lines.append(f"{_key_path(loc)}: unknown key{_did_you_mean(loc)}")
            continue
        message = err["msg"]
        message = message.removeprefix("Value error, ")
        message = re.sub(r"^Input should be ", "must be ", message)
        message = message.replace("Input should be", "must be")
        lines.append(f"{_key_path(loc)}: {message} (got {_shown(err['input'])})")
    return lines


def _decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Values arrive as strings, objects and lists as JSON text, as the engine sends them.

    Text that is not valid JSON is left as it is: the model then reports it as the wrong type,
    naming its key.
    """
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        decoded[key] = value
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            with contextlib.suppress(json.JSONDecodeError):
                decoded[key] = json.loads(value)
    return decoded


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate the namespace's keys (without the `poolside:` prefix); raise StackConfigError."""
    try:
        return StackConfig.model_validate(_decode(raw))
    except ValidationError as error:
        raise StackConfigError(format_errors(error)) from None


def namespace_config(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Every key the engine passed for `namespace`, so that unknown keys can be refused.

    `pulumi.Config` can only read keys it is asked for; to refuse a typo we need them all. The
    Python SDK keeps them in `pulumi.runtime.config.CONFIG` (set by the mock engine and by
    automation) and the language host passes them in `PULUMI_CONFIG`; both are read here.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    prefix = namespace + ":"
    return {k[len(prefix) :]: v for k, v in merged.items() if k.startswith(prefix)}


def load_stack_config() -> StackConfig:
    """Read and validate the stack's `poolside:*` keys once; raise StackConfigError if invalid."""
    return parse_stack_config(namespace_config())


# ---------------------------------------------------------------------------------------------
# The config reference, generated from the field descriptions (README and Pulumi.yaml use it).


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "bool": "boolean", "dict": "map"}.get(
            annotation.__name__, annotation.__name__
        )
    if "list" in text:
        return "list of strings"
    if "dict" in text:
        return "map of strings"
    if "Literal" in text:
        return "string"
    if "int" in text:
        return "integer"
    if "bool" in text:
        return "boolean"
    return "string"


def _default_text(field: Any) -> str:
    if field.is_required():
        return "(required)"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        return f"`{json.dumps(value)}`"
    if field.default is None:
        return "see description"
    return f"`{json.dumps(field.default)}`"


def reference_rows(
    model: type[BaseModel] = StackConfig, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every key, sections expanded."""
    rows: list[tuple[str, str, str, str]] = []
    for field in model.model_fields.values():
        key = f"{prefix}{field.alias}"
        annotation = field.annotation
        rows.append(
            (
                f"{NAMESPACE}:{key}",
                _type_name(annotation),
                _default_text(field),
                field.description or "",
            )
        )
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(reference_rows(annotation, prefix=f"{key}."))
    return rows


def reference_markdown() -> str:
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    lines += [f"| `{k}` | {t} | {d} | {desc} |" for k, t, d, desc in reference_rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        print(reference_markdown())
    else:
        print("usage: python -m stack_config --markdown", file=sys.stderr)
        sys.exit(os.EX_USAGE)
