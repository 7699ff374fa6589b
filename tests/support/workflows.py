"""The GitHub workflows as data, and their `run:` scripts run as the runner runs them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = PROJECT_ROOT / ".github" / "workflows"


def workflow_paths() -> list[Path]:
    return sorted(WORKFLOW_DIR.glob("*.y*ml"))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping, as GitHub does (PyYAML keeps
    the last one silently, which would hide a step's first `with:` value from these tests)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(
            None, None, f"key given twice: {', '.join(repeated)}", node.start_mark
        )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_workflow(name: str) -> dict[str, Any]:
    text = (WORKFLOW_DIR / name).read_text()
    document: dict[str, Any] = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    return document


def triggers(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    """The `on:` block (YAML 1.1, which PyYAML reads, spells the key `on` as true)."""
    block = workflow["on"] if "on" in workflow else workflow[True]
    return {block: None} if isinstance(block, str) else dict(block)


@dataclass(frozen=True)
class Step:
    workflow: str
    job: str
    index: int
    data: dict[str, Any]

    @property
    def where(self) -> str:
        label = self.data.get("id") or self.data.get("name") or self.data.get("uses", "")
        return f"{self.workflow} {self.job} step {self.index} ({label})"

    @property
    def uses(self) -> str | None:
        uses = self.data.get("uses")
        return uses if isinstance(uses, str) else None

    @property
    def action(self) -> str | None:
        """`owner/repo` of the step's action, without its ref."""
        return self.uses.split("@", 1)[0] if self.uses else None


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in workflow_paths():
        for job_id, job in load_workflow(path.name)["jobs"].items():
            yield path.name, job_id, job


def steps() -> Iterator[Step]:
    for workflow, job_id, job in jobs():
        for index, step in enumerate(job.get("steps", [])):
            yield Step(workflow, job_id, index, step)


def step(workflow: str, job: str, label: str) -> dict[str, Any]:
    """The step of `job` whose id or name is `label`."""
    for candidate in load_workflow(workflow)["jobs"][job]["steps"]:
        if label in (candidate.get("id"), candidate.get("name")):
            found: dict[str, Any] = candidate
            return found
    raise KeyError(f"{workflow} {job}: no step {label!r}")


def run_script(
    script: str, env: Mapping[str, str], cwd: Path, path_prefix: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`script` under bash as the runner runs a `run:` step (`bash --noprofile --norc -eo
    pipefail`), with only `env`, PATH (after `path_prefix`) and the runner's output files."""
    path = (
        os.environ["PATH"]
        if path_prefix is None
        else f"{path_prefix}{os.pathsep}{os.environ['PATH']}"
    )
    script_file = cwd / "step.sh"
    script_file.write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=cwd,
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
