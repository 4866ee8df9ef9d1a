"""Case files for the general rules (MLS0xx interface, MLS1xx neural network): collection and assertions.

A case module ``cases/MLSnnn.py`` of a general rule holds ``rejects_*`` builders (Core ML rejects the spec and
this rule is the first error it reports), ``warns_*`` builders (for a warning rule: the spec stays valid and
carries the warning) and ``accepts_*`` near misses (valid, and the rule is not reported). They are not the
``bad_*``/``good_*`` functions of the updatable-rule cases, whose runner checks the order among the updatable
checks only.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from mlsurgery.rules.base import ERROR
from mlsurgery.validate import validate_spec
from rules import cases

PREFIXES = ("rejects_", "warns_", "accepts_")


def case_modules(rules) -> dict:
    """The case module of each rule in ``rules`` that has one, by code."""
    available = {info.name for info in pkgutil.iter_modules(cases.__path__)}
    return {rule.code: importlib.import_module(f"{cases.__name__}.{rule.code}")
            for rule in rules if rule.code in available}


def case_params(rules, prefix: str) -> list:
    found = []
    for code, module in sorted(case_modules(rules).items()):
        for name in sorted(vars(module)):
            if name.startswith(prefix) and callable(getattr(module, name)):
                found.append(pytest.param(code, getattr(module, name), id=f"{code}-{name}"))
    return found


def _describe(report) -> list[str]:
    return [f"{finding.code}: {finding.message}" for finding in report.findings]


def assert_rejected_first(code: str, spec) -> None:
    report = validate_spec(spec)
    first = report.coreml_first
    assert first is not None, f"expected Core ML to reject the spec with {code}"
    assert first.code == code, _describe(report)
    assert "\n" not in first.message


def assert_warned(code: str, spec) -> None:
    report = validate_spec(spec)
    assert report.valid, _describe(report)
    assert code in [finding.code for finding in report.warnings], _describe(report)


def assert_accepted(code: str, spec) -> None:
    report = validate_spec(spec)
    assert report.valid, _describe(report)
    assert code not in [finding.code for finding in report.findings], _describe(report)


def assert_every_rule_has_cases(rules) -> None:
    modules = case_modules(rules)
    assert {rule.code for rule in rules} == set(modules), sorted({r.code for r in rules} - set(modules))
    for rule in rules:
        names = list(vars(modules[rule.code]))
        flagged = "rejects_" if rule.severity == ERROR else "warns_"
        assert any(name.startswith(flagged) for name in names), f"{rule.code} has no {flagged}* case"
        assert any(name.startswith("accepts_") for name in names), f"{rule.code} has no accepts_* case"
