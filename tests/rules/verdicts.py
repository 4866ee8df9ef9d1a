"""Assertions on validation reports shared by the rule tests."""

from __future__ import annotations

import re

from mlsurgery.validate import validate_spec

# Codes of the general interface (MLS000–MLS049) and neural-network (MLS1xx) checks: another module's rules,
# which Core ML runs before some of the updatable checks. The ported upstream tests only pin down the order of
# the checks this validator ports itself; a general check may legitimately come first.
_GENERAL = re.compile(r"MLS(0[0-4]\d|1\d\d)$")


def is_general(code: str) -> bool:
    return bool(_GENERAL.match(code))


def assert_valid(spec) -> None:
    report = validate_spec(spec)
    assert report.valid, [f"{f.code}: {f.message}" for f in report.errors]


def assert_coreml_first(spec, code: str):
    """The spec is invalid and ``code`` is the first error Core ML reports among the checks ported here."""
    report = validate_spec(spec)
    assert not report.valid, "expected Core ML to reject the spec"
    ported = [finding for finding in report.errors if not is_general(finding.code)]
    assert ported, [f"{f.code}: {f.message}" for f in report.errors]
    assert ported[0].code == code, [f"{f.code}: {f.message}" for f in report.errors]
    ahead = report.errors[:report.errors.index(ported[0])]
    assert all(is_general(finding.code) for finding in ahead)
    return report


def codes(spec) -> list[str]:
    return [finding.code for finding in validate_spec(spec).findings]
