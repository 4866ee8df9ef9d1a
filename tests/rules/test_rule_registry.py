"""Every rule is documented, has a stable well-formed unique code, and can be looked up (mlsurgery.rules)."""

import re

import pytest

from mlsurgery.errors import UsageError
from mlsurgery.rules import ALL_RULES, device, fixable, generic, knn, pipeline, rule, updatable
from mlsurgery.rules.base import ERROR, INFO, WARNING

CODE = re.compile(r"MLS\d{3}$")
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize("checked", ALL_RULES, ids=lambda r: r.code)
def test_rule_is_fully_documented(checked):
    assert CODE.match(checked.code)
    assert NAME.match(checked.name)
    assert checked.severity in (ERROR, WARNING, INFO)
    for field in ("summary", "explanation", "fix", "upstream"):
        text = getattr(checked, field)
        assert text.strip() and "\n" not in text, f"{checked.code}.{field}"
    assert checked.summary.endswith(".") and checked.fix.endswith(".")


def test_codes_and_names_are_unique():
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)
    assert [r.code for r in ALL_RULES] == sorted(r.code for r in ALL_RULES)


@pytest.mark.parametrize(("module", "pattern", "severity"), [
    (generic, r"MLS05\d", ERROR), (knn, r"MLS06\d", ERROR), (updatable, r"MLS2\d\d", ERROR),
    (pipeline, r"MLS3\d\d", ERROR),
    (device, r"MLS9\d\d", WARNING), (fixable, r"MLS5\d\d", INFO)])
def test_each_family_keeps_to_its_code_range_and_severity(module, pattern, severity):
    assert module.RULES
    for checked in module.RULES:
        assert re.fullmatch(pattern, checked.code) and checked.severity == severity, checked.code
        assert checked in ALL_RULES


def test_warnings_cite_a_public_report_or_the_core_ml_source():
    for checked in device.RULES:
        assert "coremltools issue #" in checked.upstream or checked.upstream.startswith("mlmodel/src/")


def test_lookup_by_code_any_case_or_by_name():
    assert rule("MLS206") is updatable.CROSS_ENTROPY_INPUT
    assert rule("mls206") is updatable.CROSS_ENTROPY_INPUT
    assert rule("cross-entropy-input-not-softmax") is updatable.CROSS_ENTROPY_INPUT


def test_unknown_code_suggests_close_codes():
    with pytest.raises(UsageError, match=r"unknown rule code 'MLS2O6'; did you mean .*MLS206"):
        rule("MLS2O6")
    with pytest.raises(UsageError, match="mlsurgery rules"):
        rule("no such thing")
