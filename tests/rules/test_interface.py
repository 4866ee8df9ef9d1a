"""The model-level and interface checks (MLS0xx general rules, mlsurgery/rules/interface.py)."""

import re
from pathlib import Path

import pytest

from mlsurgery.network import pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.rules import interface
from mlsurgery.rules.base import ERROR
from rules import general_cases as cases
from rules import general_specs as g

ROOT = Path(__file__).resolve().parents[2]
REAL_MODELS = sorted((ROOT.parent / "shared" / "models").glob("*.mlmodel")) + sorted(
    (ROOT / "fixtures").rglob("*.mlmodel"))


@pytest.mark.parametrize(("code", "build"), cases.case_params(interface.RULES, "rejects_"))
def test_rejected_case_reports_its_rule_first(code, build):
    cases.assert_rejected_first(code, build())


@pytest.mark.parametrize(("code", "build"), cases.case_params(interface.RULES, "accepts_"))
def test_accepted_case_is_valid(code, build):
    cases.assert_accepted(code, build())


def test_every_interface_rule_has_rejected_and_accepted_cases():
    cases.assert_every_rule_has_cases(interface.RULES)


@pytest.mark.parametrize("checked", interface.RULES, ids=lambda rule: rule.code)
def test_interface_rule_is_documented_in_its_code_range(checked):
    assert re.fullmatch(r"MLS0[0-4]\d", checked.code)
    assert checked.severity == ERROR
    assert checked.summary and checked.explanation and checked.fix
    assert "mlmodel/src/" in checked.upstream


def _models_and_stages(spec):
    yield spec
    for stage in pipeline_stages(spec):
        yield from _models_and_stages(stage)


@pytest.mark.skipif(not REAL_MODELS, reason="no third-party models or fixtures on this machine")
@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda path: path.name)
def test_real_models_have_valid_descriptions(path):
    for model in _models_and_stages(load_spec(path)):
        assert interface.check_model_description(model) == []


def test_a_bad_version_hides_the_description_checks():
    model = g.plain_network(version=0)
    model.description.input[0].type.multiArrayType.dataType = 0
    assert [finding.code for finding in interface.check_model_description(model)] == ["MLS001"]


def test_each_feature_reports_its_own_first_problem():
    model = g.plain_network()
    model.description.input[0].type.multiArrayType.dataType = 0
    del model.description.input[0].type.multiArrayType.shape[:]
    model.description.output[0].type.multiArrayType.dataType = 0
    findings = interface.check_model_description(model)
    assert [finding.code for finding in findings] == ["MLS009", "MLS010"]
    assert "input 'x'" in findings[0].message and "output 'y'" in findings[1].message


def test_duplicate_feature_names_are_not_an_interface_error():
    model = g.classifier()
    model.description.input.add().CopyFrom(model.description.input[0])
    assert interface.check_model_description(model) == []


def test_where_is_passed_to_findings():
    model = g.plain_network(version=11)
    assert interface.check_model_description(model, where="pipeline stage 2")[0].where == "pipeline stage 2"
