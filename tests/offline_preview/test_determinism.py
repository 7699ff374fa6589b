"""Every format of the offline preview is the same byte for byte, run after run and process after
process: a plan, a URN snapshot and the review document must diff only where the program changed.

Two processes with different `PYTHONHASHSEED`s (set and dict order), each printing every format of
every example stack twice (the SDK registers from several threads, in no fixed order)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.harness import PROJECT_ROOT
from tests.tools.every_format import FORMATS, RUNS, STACKS

SEEDS = ("0", "4242")


def test_every_format_is_byte_identical_across_runs_and_processes(tmp_path: Path) -> None:
    processes = []
    for seed in SEEDS:
        out = tmp_path / seed
        out.mkdir()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.tools.every_format", str(out)],
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONHASHSEED": seed},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
        assert stderr == ""
    for stack in STACKS:
        for format_ in FORMATS:
            outputs = [
                (tmp_path / seed / f"{stack}.{format_}.{run}").read_bytes()
                for seed in SEEDS
                for run in range(RUNS)
            ]
            assert outputs[0].strip(), (stack, format_)
            differing = [i for i, output in enumerate(outputs) if output != outputs[0]]
            assert differing == [], f"{stack} --format {format_} differs between runs {differing}"
