"""Shared test helpers: where the fixtures and third-party models are, and a way to run the CLI in-process."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# Real models written by others, copied with their provenance (fixtures/third_party/README.md).
SHARED_MODELS = FIXTURES / "third_party"


def shared_models() -> list[Path]:
    return sorted(SHARED_MODELS.glob("*.mlmodel"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """Run ``mlsurgery ARGS`` in this process; returns exit code and captured output."""
    from mlsurgery.cli import main

    def run(*args: str) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy a fixture (or shared model) into tmp_path so a test can never change the original."""

    def copy(name: str) -> Path:
        source = FIXTURES / name if (FIXTURES / name).exists() else SHARED_MODELS / name
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        return target

    return copy


def pytest_runtest_setup(item):
    """Tests run tiny models, for which torch's intra-op thread pool costs more than it gains (10× on a loaded
    two-core machine); torch is loaded only by the tests that run models, so nothing else pays for this."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
