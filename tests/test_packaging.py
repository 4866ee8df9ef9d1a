"""What a user installs: `python -m build` makes an sdist and a wheel; the wheel, installed into a clean virtual
environment by action.yml's own install step, runs from outside the repository (its page, stylesheet, script and
Swift templates inside it, its layout engine brought by pip); and action.yml is a composite action whose shell steps
run README's commands.

Slow (a build in isolated environments and an install from pip's index, one to two minutes): one of each for all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, ROOT


def _run(command: list[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **options)


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel `python -m build` makes (the wheel is built from the sdist, as build does)."""
    folder = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", str(folder), str(ROOT)], cwd=folder)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = folder.glob("mlsurgery-*.tar.gz")
    (wheel,) = folder.glob("mlsurgery-*.whl")
    return {"sdist": sdist, "wheel": wheel}


ACTION = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))


def _run_step(step: dict, inputs: dict, runner: Path, cwd: Path) -> subprocess.CompletedProcess:
    """One of the action's steps, as a runner runs it: bash, the step's env with the inputs put in, RUNNER_TEMP
    and GITHUB_ACTION_PATH (this checkout)."""
    environment = {**os.environ, "RUNNER_TEMP": str(runner), "GITHUB_ACTION_PATH": str(ROOT)}
    for key, value in step.get("env", {}).items():
        environment[key] = re.sub(r"\$\{\{ inputs\.(\w+) \}\}", lambda match: inputs[match.group(1)], value)
    return _run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=environment)


@pytest.fixture(scope="module")
def runner(built, tmp_path_factory) -> Path:
    """The action's install step run with the built wheel as its package: a clean virtual environment (nothing
    from this one) in RUNNER_TEMP/.venv with the wheel installed by pip. The wheel tests below run in it."""
    folder = tmp_path_factory.mktemp("runner")
    install = ACTION["runs"]["steps"][0]
    done = _run_step(install, {"package": str(built["wheel"])}, folder, folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="module")
def installed(runner) -> Path:
    return runner / ".venv"


def test_the_wheel_is_named_after_the_version_and_holds_every_data_file(built):
    from mlsurgery import __version__

    assert built["wheel"].name.startswith(f"mlsurgery-{__version__}-py3-none-any")
    assert built["sdist"].name == f"mlsurgery-{__version__}.tar.gz"
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    # Every file of the package that is not Python source, found rather than listed.
    data = {path.relative_to(ROOT).as_posix() for path in (ROOT / "mlsurgery").rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts}
    assert data and data <= names, sorted(data - names)
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "mlsurgery").rglob("*.py")}
    assert modules <= names, sorted(modules - names)


def test_the_installed_wheel_inspects_a_fixture_from_outside_the_repository(installed, tmp_path):
    done = _run([str(_bin(installed, "mlsurgery")), "inspect", str(FIXTURES / "mnist_mlp.mlmodel"), "--format",
                 "json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # The fixture's layers, read here straight from the protobuf (not through mlsurgery).
    from mlsurgery._proto import model_pb2

    spec = model_pb2().Model()
    spec.ParseFromString((FIXTURES / "mnist_mlp.mlmodel").read_bytes())
    network = getattr(spec, spec.WhichOneof("Type"))
    assert [layer["name"] for layer in report["networks"][0]["layers"]] == [layer.name for layer in network.layers]
    # The package ran from the venv, not from this checkout.
    where = _run([str(_bin(installed, "python")), "-c", "import mlsurgery; print(mlsurgery.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed)


def test_the_installed_wheel_draws_a_page_and_writes_swift_with_no_dot(installed, tmp_path):
    environment = {**os.environ, "PATH": str(_bin(installed, "python").parent)}  # the venv's programs only
    page = tmp_path / "model.html"
    done = _run([str(_bin(installed, "mlsurgery")), "graph", str(FIXTURES / "turi_squeezenet.mlmodel"), "-o",
                 str(page)], cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    text = page.read_text("utf-8")
    assert 'data-layer="conv10"' in text and "g.node.fold" in text and "data-ready" in text  # svg, css, js
    model = tmp_path / "updatable.mlmodel"
    done = _run([str(_bin(installed, "mlsurgery")), "make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"),
                 "-o", str(model)], cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    swift = tmp_path / "Trainer.swift"
    done = _run([str(_bin(installed, "mlsurgery")), "contract", str(model), "--swift", "-o", str(swift)],
                cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    assert "MLUpdateTask" in swift.read_text("utf-8")


def _readme_command(job: str) -> str:
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    start = lines.index(f"<!-- ci: {job} -->")
    return lines[start + 2]


def test_action_is_a_composite_of_shell_steps_running_readmes_commands():
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    assert steps and all(set(step) >= {"run", "shell"} and "uses" not in step for step in steps)
    assert set(ACTION["inputs"]) >= {"paths"} and ACTION["inputs"]["paths"]["required"] is True
    install, validate = steps
    readme_install = _readme_command("main-job").split(" && mlsurgery ")[0].removesuffix(" .")
    assert readme_install == "python3 -m venv .venv && . .venv/bin/activate && pip install"
    assert readme_install in install["run"]
    assert "mlsurgery validate --format github" in validate["run"]


def test_the_actions_validate_step_annotates_models(runner, tmp_path):
    # After the install step (the `runner` fixture), the validate step as a runner runs it: a glob expands, valid
    # models give no annotation and exit 0, a broken one is one error annotation and exit 2.
    validate = ACTION["runs"]["steps"][1]
    workspace = tmp_path / "workspace"
    (workspace / "models" / "nested").mkdir(parents=True)
    for name in ("mnist_mlp", "regressor"):
        (workspace / "models" / "nested" / f"{name}.mlmodel").write_bytes((FIXTURES / f"{name}.mlmodel").read_bytes())
    inputs = {"paths": "models/**/*.mlmodel", "strict": "false", "package": ""}
    done = _run_step(validate, inputs, runner, workspace)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [line for line in done.stdout.splitlines() if line.startswith("::")]
    (workspace / "broken.mlmodel").write_text("not a model")
    done = _run_step(validate, {**inputs, "paths": "models/**/*.mlmodel\nbroken.mlmodel"}, runner, workspace)
    assert done.returncode == 2
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error file=broken.mlmodel,")
