"""The Makefile's venv rules: which interpreter, when ./venv is built again, what counts as installed.

Each test runs the real Makefile with GNU make in a temporary directory of its own, beside
requirements files that name nothing (or a line pip refuses at once), so nothing is downloaded: no
uv on PATH, and either `UV=` (pip), a uv that cannot be installed, or a uv stand-in that records
its arguments. `make -n` shows what make would run where that is the point (a decision).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The interpreter the tests name as PYTHON: the one this venv was built from.
PYTHON = os.path.realpath(str(getattr(sys, "_base_executable", sys.executable)))
# What the Makefile records in venv/.python: "<version> <the interpreter's own path>".
PYTHON_ID = "{}.{}.{} {}".format(*sys.version_info[:3], PYTHON)
OTHER_ID = "3.11.2 /usr/bin/python3.11"  # another interpreter, as venv/.python records it
NOTHING = "# nothing: the tests install no package\n"
REFUSED = "this is not a requirement\n"  # pip refuses it before it looks anything up

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def without_uv(path: str) -> str:
    return os.pathsep.join(
        entry for entry in path.split(os.pathsep) if not os.access(Path(entry, "uv"), os.X_OK)
    )


def new_project(directory: Path) -> Path:
    """The Makefile beside requirements files that name nothing."""
    shutil.copy(ROOT / "Makefile", directory / "Makefile")
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-tools.txt"):
        (directory / name).write_text(NOTHING)
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return new_project(tmp_path)


def make(
    project: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": without_uv(os.environ["PATH"]), **(env or {})}
    for variable in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHON", "UV"):  # no outer make's
        environment.pop(variable, None)
    return subprocess.run(
        ["make", *args], cwd=project, env=environment, capture_output=True, text=True
    )


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_old_python(directory: Path) -> Path:
    """This interpreter, saying it is Python 3.10.13; it runs `-c` code and nothing else."""
    return executable(
        directory / "python3.10",
        f"#!{sys.executable}\n"
        "import sys\n"
        "sys.version_info = (3, 10, 13, 'final', 0)\n"
        "if sys.argv[1:2] != ['-c']:\n"
        "    sys.exit('this Python 3.10 stand-in runs only -c')\n"
        "code, sys.argv = sys.argv[2], ['-c', *sys.argv[3:]]  # as python -c sees its arguments\n"
        "exec(code)\n",
    )


def real_old_python() -> str | None:
    """A Python older than 3.11 on this machine that runs, if there is one."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (10, 9, 8)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    for version in ("3.10.*", "3.9.*", "3.8.*"):
        candidates += [str(path) for path in sorted(pyenv.glob(f"{version}/bin/python3"))]
    for candidate in candidates:
        if (
            candidate
            and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0
        ):
            return candidate
    return None


def record(project: Path, built_by: str) -> None:
    """A venv whose creation and installs finished, built by `built_by` (no interpreter in it)."""
    venv = project / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /elsewhere\n")
    (venv / ".python").write_text(built_by + "\n")
    for stamp in (".runtime-installed", ".dev-installed"):
        (venv / stamp).touch()


# -- make alone, make help, make clean ------------------------------------------------------------


def test_make_alone_prints_the_help_and_it_documents_every_target(project: Path) -> None:
    plain, help_ = make(project), make(project, "help")
    assert (plain.returncode, help_.returncode) == (0, 0)
    assert plain.stdout == help_.stdout
    assert plain.stdout.startswith("Needs make and Python 3.11 or newer")
    assert "make preview PYTHON=python3.12" in plain.stdout
    documented = set(re.findall(r"^make ([\w-]+)|\| ([\w-]+)", plain.stdout, re.MULTILINE))
    names = {name for pair in documented for name in pair if name}
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")  # continued lines joined
    phony = re.findall(r"^\.PHONY: (.*)$", makefile, re.MULTILINE)
    assert phony
    assert names == {name for line in phony for name in line.split()} - {"FORCE"}
    assert not (project / "venv").exists()


def test_help_and_clean_need_no_python(project: Path) -> None:
    (project / "venv" / "bin").mkdir(parents=True)
    (project / ".tools" / "bin").mkdir(parents=True)
    assert make(project, "help", "PYTHON=/no/such/python").returncode == 0
    cleaned = make(project, "clean", "PYTHON=/no/such/python")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (project / "venv").exists()
    assert not (project / ".tools").exists()


# -- The interpreter, asked before anything is installed -----------------------------------------


@pytest.mark.parametrize("goal", ["preview", "test"])
def test_a_python_older_than_3_11_is_refused_in_one_line_before_anything_runs(
    project: Path, tmp_path_factory: pytest.TempPathFactory, goal: str
) -> None:
    old = fake_old_python(tmp_path_factory.mktemp("bin"))
    result = make(project, goal, f"PYTHON={old}")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Makefile:{line_of('$(error PYTHON=$(PYTHON) is Python')}: *** PYTHON={old} is Python "
        f"3.10.13; Python 3.11 or newer is needed: name another with make {goal} "
        "PYTHON=python3.12.  Stop."
    ]
    assert sorted(path.name for path in project.iterdir()) == [
        "Makefile",
        "requirements-dev.txt",
        "requirements-tools.txt",
        "requirements.txt",
    ]


def test_a_real_python_older_than_3_11_is_refused(project: Path) -> None:
    old = real_old_python()
    if old is None:
        pytest.skip("no Python older than 3.11 on this machine")
    result = make(project, "preview", f"PYTHON={old}")
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert re.search(rf"PYTHON={re.escape(old)} is Python 3\.(8|9|10)\.\d+; Python 3\.11 ", line)
    assert not (project / "venv").exists()


def test_a_missing_interpreter_is_named_in_one_line(project: Path) -> None:
    result = make(project, "preview", "PYTHON=/no/such/python3")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"Makefile:{line_of('$(error PYTHON=$(PYTHON) is no Python')}: *** PYTHON=/no/such/python3 "
        "is no Python interpreter here; Python 3.11 or newer is needed: name one with make preview "
        "PYTHON=python3.12.  Stop."
    ]
    assert not (project / "venv").exists()


def fake_python(directory: Path, answer: str) -> Path:
    """A stand-in that prints `answer` whatever it is asked (a wrapper that ignores `-c`)."""
    return executable(directory / "python3", f"#!/bin/sh\nprintf '%s\\n' '{answer}'\n")


# The first word of an answer is the argument the interpreter was given (`asked`).
@pytest.mark.parametrize(
    "answer",
    [
        "Python 3.10.12",  # `python --version`, whatever it is asked
        PYTHON_ID,  # a real answer, but not to this question: the wrapper ignored its arguments
        f"asked {PYTHON_ID}\nand another line",
        "asked 3.12.1 python3",  # not an absolute path
        "asked 3.12.1 /no/such/python3",  # no interpreter there
        f"asked 3.10.12 {PYTHON}",  # a path, from a Python too old to give one
        "asked 3.12.1 too-old",
        f"asked 3.12 {PYTHON}",
        f"asked 3.12.1 {PYTHON} extra",
    ],
)
def test_an_interpreter_that_does_not_answer_as_asked_is_refused_and_the_venv_is_left_alone(
    project: Path, tmp_path_factory: pytest.TempPathFactory, answer: str
) -> None:
    record(project, OTHER_ID)  # a venv make would otherwise build again: rm -rf venv first
    (project / "venv" / "kept").write_text("the venv's own file\n")
    before = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    python = fake_python(tmp_path_factory.mktemp("bin"), answer)
    result = make(project, "preview", f"PYTHON={python}", "UV=")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Makefile:{line_of('$(error PYTHON=$(PYTHON) did not answer')}: *** PYTHON={python} "
        "did not answer as Python 3.11 or newer does (one line: its version and path); name one "
        "with make preview PYTHON=python3.12.  Stop."
    ]
    after = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before


def test_the_same_stand_in_giving_the_answer_asked_for_is_accepted(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The control of the test above: the refusals come from the answers, not the stand-in."""
    python = fake_python(tmp_path_factory.mktemp("bin"), f"asked {PYTHON_ID}")
    result = make(project, "-n", "preview", f"PYTHON={python}", "UV=")
    assert result.returncode == 0, result.stderr
    assert f"echo '{PYTHON_ID}' > venv/.python" in result.stdout.splitlines()


@pytest.mark.parametrize(
    "value",
    [
        "touch {tmp}/x;",
        "python3; touch {tmp}/x",
        "python3 && touch {tmp}/x",
        "`touch {tmp}/x`",
        "python3|touch {tmp}/x",
        "it's",
        "",
    ],
)
def test_a_python_that_is_no_command_name_or_path_is_refused_before_any_shell_runs_it(
    project: Path, tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    tmp = tmp_path_factory.mktemp("out")
    python = value.format(tmp=tmp)
    result = make(project, "preview", f"PYTHON={python}")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Makefile:{line_of('$(error PYTHON=$(PYTHON) is not a command')}: *** PYTHON={python} "
        "is not a command name or path (letters, digits and ._+-/@,:= only); name one with make "
        "preview PYTHON=python3.12.  Stop."
    ]
    assert list(tmp.iterdir()) == []  # the command in it never ran
    assert not (project / "venv").exists()


def test_every_command_that_runs_the_python_quotes_it(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A command named `py=3` runs only where it is quoted: bare, the shell reads an assignment."""
    bin_ = tmp_path_factory.mktemp("bin")
    calls = bin_ / "calls"
    recording = (
        "import os, sys\n"
        "if sys.argv[1:2] == ['-c']:  # the Makefile's questions: answered as this interpreter\n"
        "    code, sys.argv = sys.argv[2], ['-c', *sys.argv[3:]]\n"
        "    exec(code)\n"
        "    sys.exit()\n"
        f"with open({str(calls)!r}, 'a') as calls:\n"
        "    print(os.path.basename(sys.argv[0]), *sys.argv[1:], file=calls)\n"
        "if sys.argv[1:3] == ['-m', 'venv']:\n"
        "    os.makedirs(sys.argv[3])\n"
    )
    executable(bin_ / "py=3", f"#!{sys.executable}\n{recording}")
    path = {"PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}"}
    built = make(project, "venv/.python", "PYTHON=py=3", env=path)
    assert built.returncode == 0, built.stderr
    assert "'py=3' -m venv venv" in built.stdout.splitlines()
    (project / "venv" / "bin").mkdir()
    executable(project / "venv" / "bin" / "python", f"#!{sys.executable}\n{recording}")
    for stamp in (".runtime-installed", ".dev-installed"):
        (project / "venv" / stamp).touch()
    (project / "policy").mkdir()
    (project / "policy" / "requirements.txt").write_text(NOTHING)
    make(project, "policy/venv/.installed", "PYTHON=py=3", env=path)
    assert make(project, "bench", "PYTHON=py=3", env=path).returncode == 0
    assert calls.read_text().splitlines() == [
        "py=3 -m venv venv",
        "py=3 -m venv policy/venv",
        "python -m tests.tools.bench --python py=3",
    ]


def python_without_venv(directory: Path) -> Path:
    """This interpreter as Debian or Ubuntu has it without python3.X-venv: no ensurepip.

    It runs `-c` code (so it answers the Makefile's question as this interpreter) and fails
    `-m venv` as such a Python does.
    """
    return executable(
        directory / "python3",
        f"#!{sys.executable}\n"
        "import sys\n"
        "sys.modules['ensurepip'] = None  # import ensurepip: ImportError\n"
        "if sys.argv[1:2] != ['-c']:\n"
        "    sys.exit('The virtual environment was not created successfully because ensurepip '\n"
        "             'is not available.')\n"
        "code, sys.argv = sys.argv[2], ['-c', *sys.argv[3:]]  # as python -c sees its arguments\n"
        "exec(code)\n",
    )


def test_a_python_that_cannot_create_a_venv_is_refused_and_the_venv_is_left_alone(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    record(project, OTHER_ID)  # a venv make would otherwise build again: rm -rf venv first
    (project / "venv" / "kept").write_text("the venv's own file\n")
    before = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    python = python_without_venv(tmp_path_factory.mktemp("bin"))
    failed_venv = subprocess.run([python, "-m", "venv", project / "elsewhere"], capture_output=True)
    assert failed_venv.returncode != 0  # the stand-in fails as such a Python does
    result = make(project, "preview", f"PYTHON={python}", "UV=")
    assert result.returncode != 0
    assert result.stdout == ""
    minor = "{}.{}".format(*sys.version_info[:2])
    assert result.stderr.splitlines() == [
        f"Makefile:{line_of('$(error PYTHON=$(PYTHON) (Python')}: *** PYTHON={python} (Python "
        f"{PYTHON_ID.split()[0]}) cannot create a virtual environment: install "
        f"python{minor}-venv (Debian, Ubuntu) or name another with make preview "
        "PYTHON=python3.12; ./venv/ is left as it is.  Stop."
    ]
    after = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before


def test_a_python_that_cannot_create_a_venv_is_refused_before_a_first_venv(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = python_without_venv(tmp_path_factory.mktemp("bin"))
    result = make(project, "-n", "preview", f"PYTHON={python}", "UV=")
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.endswith(" or name another with make preview PYTHON=python3.12.  Stop.")
    assert not (project / "venv").exists()


def test_a_python_that_can_create_a_venv_is_not_asked_again_for_a_venv_it_built(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The probe runs only before a venv is built: a kept venv needs no ensurepip."""
    record(project, PYTHON_ID)
    python = python_without_venv(tmp_path_factory.mktemp("bin"))
    result = make(project, "-n", "preview", f"PYTHON={python}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["venv/bin/python -m offline_preview --stack dev"]


def line_of(text: str) -> int:
    """The Makefile's line that starts with `text` (make names it in its message)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    [number] = [index for index, line in enumerate(lines, 1) if line.startswith(text)]
    return number


# -- Which interpreter built ./venv (dry runs: what make decides) --------------------------------


def test_a_venv_this_interpreter_built_is_kept(project: Path) -> None:
    record(project, PYTHON_ID)
    result = make(project, "-n", "preview", f"PYTHON={PYTHON}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["venv/bin/python -m offline_preview --stack dev"]


def test_a_venv_another_interpreter_built_is_built_again(project: Path) -> None:
    record(project, OTHER_ID)
    result = make(project, "-n", "preview", f"PYTHON={PYTHON}", "UV=")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert commands[:2] == [
        f"echo 'venv/ was built by {OTHER_ID}; PYTHON={PYTHON} is {PYTHON_ID}: building it again'",
        "rm -rf venv",
    ]
    assert f"echo '{PYTHON_ID}' > venv/.python" in commands
    assert "touch venv/.runtime-installed" in commands
    assert commands[-1] == "venv/bin/python -m offline_preview --stack dev"


def test_a_venv_whose_creation_did_not_finish_is_built_again(project: Path) -> None:
    (project / "venv" / "bin").mkdir(parents=True)  # no venv/.python: its creation broke off
    result = make(project, "-n", "preview", f"PYTHON={PYTHON}", "UV=")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "rm -rf venv"


# -- Real runs (pip, or a uv stand-in): nothing is downloaded ------------------------------------


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A venv make built again (the module's only one): another interpreter's, with a file in it.

    The other tests install into copies of it (`python -m pip` runs in a copied venv).
    """
    project = new_project(tmp_path_factory.mktemp("built"))
    record(project, OTHER_ID)
    (project / "venv" / "left-behind").touch()
    return project, make(project, "venv/.python", f"PYTHON={PYTHON}", "UV=")


def with_venv(project: Path, built: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    venv = project / "venv"
    shutil.copytree(built[0] / "venv", venv, symlinks=True)
    return venv


def test_make_builds_a_venv_another_interpreter_built_again_with_pip_in_it(
    built: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    project, result = built
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"venv/ was built by {OTHER_ID}; PYTHON={PYTHON} is {PYTHON_ID}: building it again",
        "rm -rf venv",
        f"'{PYTHON}' -m venv venv",
        f"echo '{PYTHON_ID}' > venv/.python",
    ]
    venv = project / "venv"
    assert not (venv / "left-behind").exists()
    assert (venv / ".python").read_text() == PYTHON_ID + "\n"
    assert f"home = {os.path.dirname(PYTHON)}\n" in (venv / "pyvenv.cfg").read_text()
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0  # Pulumi's toolchain (pip) installs into this venv too


def test_pip_installs_when_uv_cannot_be_installed_and_only_a_finished_install_counts(
    project: Path, built: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    venv = with_venv(project, built)
    (venv / "kept").touch()
    (project / "requirements-tools.txt").write_text(REFUSED)  # so uv cannot be installed
    (project / "requirements.txt").write_text(REFUSED)
    failed = make(project, "venv/.runtime-installed", f"PYTHON={PYTHON}")
    assert failed.returncode != 0
    assert "uv could not be installed into .tools/: pip installs instead" in failed.stderr
    assert (
        "+ venv/bin/python -m pip install --quiet --disable-pip-version-check -r " in failed.stderr
    )
    assert not (project / ".tools").exists()
    assert not (venv / ".runtime-installed").exists()  # the install failed: not recorded

    (project / "requirements.txt").write_text(NOTHING)
    fixed = make(project, "venv/.runtime-installed", f"PYTHON={PYTHON}", "UV=")
    assert fixed.returncode == 0, fixed.stderr
    assert (venv / ".runtime-installed").exists()
    assert (venv / "kept").exists()  # the same venv, installed again, not built again


def test_uv_installs_the_requirements_when_there_is_one(
    project: Path,
    built: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    venv = with_venv(project, built)
    bin_ = tmp_path_factory.mktemp("bin")
    calls = bin_ / "calls"
    uv = executable(bin_ / "uv", f'#!/bin/sh\necho "$*" >> {calls}\n')
    result = make(project, "venv/.dev-installed", f"PYTHON={PYTHON}", f"UV={uv}")
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [
        "pip install --quiet --python venv/bin/python -r requirements.txt",
        "pip install --quiet --python venv/bin/python -r requirements-dev.txt",
    ]
    assert "-m pip install" not in result.stderr  # no pip
    assert not (project / ".tools").exists()
    assert (venv / ".dev-installed").exists()


def test_a_venv_of_the_makefile_before_the_record_is_kept_when_its_install_finished(
    project: Path, built: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    venv = with_venv(project, built)
    (venv / ".python").unlink()  # the Makefile before venv/.python wrote none
    (venv / ".runtime-installed").touch()
    (venv / "kept").touch()
    installed_at = (venv / ".runtime-installed").stat().st_mtime_ns
    result = make(project, "venv/.runtime-installed", f"PYTHON={PYTHON}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"echo '{PYTHON_ID}' > venv/.python && touch -r venv/pyvenv.cfg venv/.python"
    ]
    assert (venv / "kept").exists()
    assert (venv / ".python").read_text() == PYTHON_ID + "\n"
    assert (venv / ".python").stat().st_mtime_ns == (venv / "pyvenv.cfg").stat().st_mtime_ns
    assert (venv / ".runtime-installed").stat().st_mtime_ns == installed_at  # not installed again
