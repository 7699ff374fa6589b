"""Run the real program (`__main__.py`) under Pulumi's mock engine and record what it registers.

`pulumi.runtime.set_mocks` replaces the engine; `RecordingMonitor` wraps the mock monitor's
`RegisterResource` because `MockResourceArgs` carries no parent, dependencies or options.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import runpy
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

PROJECT = "poolside"
_SIG_KEY = rpc._special_sig_key
_RESOURCE_SIG = rpc._special_resource_sig
PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class RecordedResource:
    """One registration as the engine would see it (inputs in Pulumi's wire names)."""

    type: str
    name: str
    urn: str
    custom: bool
    parent: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    provider: str
    id: str = ""
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    """Each alias as the engine receives it: `{"spec": {"parentUrn": ...}}` and the like."""


@dataclass
class Recording:
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)


def _references_as_urns(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _RESOURCE_SIG:
            return value["urn"]
        return {k: _references_as_urns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_references_as_urns(v) for v in value]
    return value


def _with_references_as_urns(request: Any) -> Any:
    if _RESOURCE_SIG not in str(request.object):
        return request
    plain = _references_as_urns(json_format.MessageToDict(request.object))
    copy = type(request)()
    copy.CopyFrom(request)
    copy.object.Clear()
    copy.object.update(plain)
    return copy


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, plus a record of parents, dependencies and resource options."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording
        # The SDK registers resources from several worker threads at once: which component is
        # being registered is per thread, or one remote component's children land in another.
        self._registering = threading.local()
        attach = getattr(mocks, "attach", None)
        if callable(attach):
            attach(self)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole qualified type (`A$B$type`), and none for
        a child of the root stack. The SDK's mock keeps only the parent's last type and names the
        stack, so its URNs of grandchildren and top-level resources differ from `pulumi up`'s;
        these match, which is what a URN snapshot and an alias must be checked against."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != ROOT_STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        # A resource passed as an input (a node group's `cluster`) arrives as a reference.
        # Deserializing it would rehydrate the resource on this worker thread's event loop, so
        # references are recorded, and handed to the mocks, as the URN they name.
        request = _with_references_as_urns(request)
        # Remote components (pulumi-eks) create their children inside the provider; the mocks
        # report those children through `record_child`, parented to the component being made.
        self._registering.urn = self.make_urn(request.parent, request.type, request.name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        inputs = rpc.deserialize_properties(request.object)
        is_stack = request.type == "pulumi:pulumi:Stack"
        if is_stack and any(r.urn == response.urn for r in self.recording.resources):
            return response  # set_mocks' own root stack: the program's stack is the same URN
        self.recording.resources.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                custom=bool(request.custom),
                parent=request.parent,
                inputs=inputs,
                outputs={} if is_stack else dict(self.resources[response.urn].state),
                dependencies=list(request.dependencies),
                property_dependencies={
                    key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                provider=request.provider,
                id="" if is_stack else response.id,
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=sorted(request.ignoreChanges),
                replace_on_changes=sorted(request.replaceOnChanges),
                aliases=[json_format.MessageToDict(alias) for alias in request.aliases],
            )
        )
        return response

    @property
    def registering_urn(self) -> str:
        """The URN of the resource this thread is registering (a remote component's children
        are its children)."""
        return str(getattr(self._registering, "urn", ""))

    def record_child(self, urn: str, type_: str, name: str, state: dict[str, Any]) -> None:
        """A resource a remote component creates: a step of the plan, as the engine shows it."""
        self.recording.resources.append(
            RecordedResource(
                type=type_,
                name=name,
                urn=urn,
                custom=True,
                parent=self.registering_urn,
                inputs={k: v for k, v in state.items() if k != "id"},
                outputs=dict(state),
                dependencies=[],
                property_dependencies={},
                protect=False,
                retain_on_delete=False,
                provider="",
                id=str(state.get("id", "")),
            )
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.recording.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _StderrWarnings(logging.Handler):
    """The program's `pulumi.log.warn` (and errors), as `pulumi preview` shows them: one line
    each on stderr, `warning: <message>`. Written to the `sys.stderr` of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


ENGINE_LOG = logging.getLogger("offline_preview.engine")
ENGINE_LOG.propagate = False
ENGINE_LOG.setLevel(logging.WARNING)
if not ENGINE_LOG.handlers:
    ENGINE_LOG.addHandler(_StderrWarnings())


def close_event_loop() -> None:
    """Close the event loops a run left open, when no run follows (the process exits).

    The SDK runs the program on this thread's loop and serves the engine's calls on the worker
    threads of that loop's default executor, each with a loop of its own. Left to the garbage
    collector at interpreter exit, a loop is finalized after its self-pipe sockets, and
    `BaseEventLoop.__del__` prints a 26-line `Exception ignored ... Invalid file descriptor: -1`
    under a failed program's one-line error. So the workers are joined, then every loop closed.
    """
    try:
        main_loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if main_loop.is_running():
        return
    if not main_loop.is_closed():
        main_loop.run_until_complete(main_loop.shutdown_default_executor())
    for loop in [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


def run_program(
    config: dict[str, str],
    mocks: pulumi.runtime.Mocks,
    *,
    stack: str = "dev",
    program: Path | Callable[[], None] = PROJECT_DIR / "__main__.py",
) -> Recording:
    """Run `program` once under mocks with `config` (full keys, engine-style string values).

    `program` is the project's `__main__.py` by default; tests may pass a function that builds
    one component, which then runs in a stack of its own exactly like the whole program.
    """
    recording = Recording(stack=stack)
    settings.ROOT.set(None)  # a previous run's root stack must not parent this one
    pulumi.runtime.set_all_config(dict(config), [])
    monitor = RecordingMonitor(mocks, recording)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=True, logger=ENGINE_LOG, monitor=monitor
    )
    # set_mocks registered and finished a root stack with no outputs; the program gets its own,
    # exactly as the language host runs it, so that `pulumi.export` lands in the stack outputs.
    settings.ROOT.set(None)
    if isinstance(program, Path):
        if str(program.parent) not in sys.path:
            sys.path.insert(0, str(program.parent))
        path = str(program)

        def program() -> None:
            runpy.run_path(path, run_name="__main__")

    try:
        _sync_await(run_in_stack(program))
    finally:
        settings.ROOT.set(None)
    return recording
