"""Every input the fuzzer (fuzz/fuzz_load.py) ever crashed on, kept in tests/fuzz_cases/: each now loads,
validates and summarises, or is refused in one line."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "fuzz_cases").glob("crash-*"))


def _fuzz_target():
    spec = importlib.util.spec_from_file_location("fuzz_load", ROOT / "fuzz" / "fuzz_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check_one_input


check_one_input = _fuzz_target()


def test_there_are_cases():
    assert CASES, "tests/fuzz_cases/ lost its regression inputs"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name[:16])
def test_fuzz_case_loads_or_is_refused(case):
    assert check_one_input(case.read_bytes()).startswith(("loaded", "refused"))
