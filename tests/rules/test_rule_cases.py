"""Run every case file in tests/rules/cases/ against the rule it is named after (see cases/__init__.py)."""

import importlib
import pkgutil

import pytest

from mlsurgery.rules import ALL_RULES, rule
from mlsurgery.rules.base import ERROR, INFO, WARNING
from mlsurgery.validate import validate_spec
from rules import cases
from rules.verdicts import assert_coreml_first, is_general

CASE_MODULES = {info.name: importlib.import_module(f"{cases.__name__}.{info.name}")
                for info in pkgutil.iter_modules(cases.__path__)}


def _cases(prefix: str):
    found = []
    for code, module in sorted(CASE_MODULES.items()):
        for name in sorted(vars(module)):
            if name.startswith(prefix) and callable(getattr(module, name)):
                found.append(pytest.param(code, getattr(module, name), id=f"{code}-{name}"))
    return found


@pytest.mark.parametrize(("code", "build"), _cases("bad_"))
def test_bad_case_breaks_its_rule(code, build):
    checked = rule(code)
    spec = build()
    if checked.severity == ERROR:
        assert_coreml_first(spec, code)
    elif checked.severity == WARNING:
        report = validate_spec(spec)
        assert report.valid, [f"{f.code}: {f.message}" for f in report.errors]
        assert code in [finding.code for finding in report.warnings]
    else:  # an info finding may come with the error it explains how to fix
        assert code in [finding.code for finding in validate_spec(spec).infos]


@pytest.mark.parametrize(("code", "build"), _cases("good_"))
def test_good_case_is_accepted(code, build):
    report = validate_spec(build())
    assert report.valid, [f"{f.code}: {f.message}" for f in report.errors]
    assert code not in [finding.code for finding in report.findings]


def test_every_ported_rule_has_a_case_file_with_bad_and_good_cases():
    own_codes = {r.code for r in ALL_RULES if not is_general(r.code)}
    assert own_codes <= set(CASE_MODULES), sorted(own_codes - set(CASE_MODULES))
    for code in own_codes:
        names = vars(CASE_MODULES[code])
        assert any(n.startswith("bad_") for n in names) and any(n.startswith("good_") for n in names), code


def test_case_files_are_named_after_existing_rules():
    assert set(CASE_MODULES) <= {r.code for r in ALL_RULES}
    assert {rule(code).severity for code in CASE_MODULES} <= {ERROR, WARNING, INFO}
