"""`make bench`: the test suite and the offline preview against a bare Pulumi SDK process.

Three commands, each a subprocess timed the same way (`time.perf_counter` around it), in
interleaved rounds so that a busy machine slows them alike; the median of the rounds counts:

* floor: `tests/tools/bare_sdk.py`, a bare SDK process under mocks (one resource);
* suite: `python -m pytest` (`make unit`), with `--suite-args` appended;
* preview: `python -m offline_preview --stack dev` (`make preview`).

It prints each time and the ratios suite/floor and preview/floor.

`--setup` (`make bench BENCH_ARGS=--setup`) times a fresh clone's first command instead, each
round in two new clones of the committed tree, caches empty (the machine's pip settings apply):

* pip: `python3 -m venv v && v/bin/pip install -r requirements.txt`, an empty PIP_CACHE_DIR;
* make: `make preview`, empty UV_CACHE_DIR and PIP_CACHE_DIR, no uv on PATH (so the Makefile
  installs uv into .tools/ first, and that counts).

It prints both and make/pip (issue 11: at most half). Neither mode asserts anything: a wall
clock is no test (a shared machine's load says more than the code), so it reports the load too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE_TARGET = 8.0  # the suite at most 8x the floor (issue 12)
SETUP_TARGET = 0.5  # a fresh clone's make preview at most half of a bare pip install (issue 11)


def commands(suite_args: list[str]) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "floor": [python, str(ROOT / "tests" / "tools" / "bare_sdk.py")],
        "suite": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite_args],
        "preview": [python, "-m", "offline_preview", "--stack", "dev"],
    }


def timed(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> float:
    """Seconds the command takes, start to exit; it must succeed."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr}")
    return elapsed


def without_uv(path: str) -> str:
    """PATH less its directories that hold a uv, as on a machine that never had one."""
    return os.pathsep.join(
        entry for entry in path.split(os.pathsep) if not os.access(Path(entry, "uv"), os.X_OK)
    )


def setup_commands(python: str) -> dict[str, str]:
    """The two ways a fresh clone gets to its first plan, as shell commands run in the clone."""
    return {
        "pip": f"{python} -m venv v && v/bin/pip install --quiet -r requirements.txt",
        "make": f"make preview PYTHON={python}",
    }


def setup_round(python: str) -> dict[str, float]:
    """One round of --setup: each command in its own new clone with its own empty caches."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-setup-") as scratch:
        for name, command in setup_commands(python).items():
            clone = Path(scratch, name)
            subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
            env = {
                **os.environ,
                "PATH": without_uv(os.environ.get("PATH", "")),
                "PIP_CACHE_DIR": str(Path(scratch, f"{name}-pip-cache")),
                "UV_CACHE_DIR": str(Path(scratch, f"{name}-uv-cache")),
            }
            for variable in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # `make bench` is no parent
                env.pop(variable, None)
            times[name] = timed(["sh", "-c", command], cwd=clone, env=env)
    return times


def bench_setup(python: str, runs: int) -> int:
    measured = setup_commands(python)
    times: dict[str, list[float]] = {name: [] for name in measured}
    load_before = os.getloadavg()[0]
    for round_ in range(1, runs + 1):
        for name, elapsed in setup_round(python).items():
            times[name].append(elapsed)
            print(f"round {round_}: {name:8} {elapsed:7.2f} s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'':8} {'median':>8} {'min':>8} {'max':>8}  command, in a fresh clone, caches empty")
    for name, command in measured.items():
        values = times[name]
        print(f"{name:8} {median[name]:7.2f}s {min(values):7.2f}s {max(values):7.2f}s  {command}")
    ratio = median["make"] / median["pip"]
    print(f"make/pip:      {ratio:6.2f}x  (target at most {SETUP_TARGET:g}x)")
    print(
        f"cores: {os.cpu_count()}, load average before {load_before:.2f}, "
        f"after {os.getloadavg()[0]:.2f}, runs: {runs}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3; the median counts)")
    parser.add_argument(
        "--suite-args", default="", help="appended to the suite's pytest command, e.g. '-n 2'"
    )
    parser.add_argument(
        "--setup",
        action="store_true",
        help="time a fresh clone's make preview against a bare pip install instead",
    )
    parser.add_argument(
        "--python", default="python3", help="the interpreter of --setup (make bench: $(PYTHON))"
    )
    args = parser.parse_args(argv)
    if args.setup:
        return bench_setup(args.python, args.runs)
    measured = commands(shlex.split(args.suite_args))
    times: dict[str, list[float]] = {name: [] for name in measured}
    load_before = os.getloadavg()[0]
    for round_ in range(1, args.runs + 1):
        for name, command in measured.items():
            times[name].append(timed(command))
            print(f"round {round_}: {name:8} {times[name][-1]:7.2f} s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'':8} {'median':>8} {'min':>8} {'max':>8}  command")
    for name, command in measured.items():
        values = times[name]
        shown = shlex.join(command).replace(sys.executable, "python").replace(str(ROOT) + "/", "")
        print(f"{name:8} {median[name]:7.2f}s {min(values):7.2f}s {max(values):7.2f}s  {shown}")
    suite_ratio = median["suite"] / median["floor"]
    print(f"suite/floor:   {suite_ratio:6.1f}x  (target at most {SUITE_TARGET:g}x)")
    print(f"preview/floor: {median['preview'] / median['floor']:6.1f}x")
    print(
        f"cores: {os.cpu_count()}, load average before {load_before:.2f}, "
        f"after {os.getloadavg()[0]:.2f}, runs: {args.runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
