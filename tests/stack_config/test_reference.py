"""The config reference: Pulumi.yaml and docs/configuration.md carry the model's descriptions."""

from __future__ import annotations

import yaml

from stack_config import (
    StackConfig,
    reference_markdown,
)
from tests.support.harness import PROJECT_ROOT


def test_project_file_declares_every_top_level_key_with_the_model_description() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    declared = project["config"]
    fields = {f.alias: f for f in StackConfig.model_fields.values()}
    assert set(declared) == set(fields)
    for key, field in fields.items():
        assert declared[key]["description"] == field.description, key
        assert "type" in declared[key], key
    # Only the required key may go without a default: the engine refuses a stack without it.
    assert [k for k, d in declared.items() if "default" not in d] == ["deploymentName", "cluster"]


def test_the_documented_config_reference_is_the_generated_one() -> None:
    document = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    assert reference_markdown() in document, "stale: run `make docs`"
