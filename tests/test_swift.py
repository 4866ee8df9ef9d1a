"""Generated Swift parses with a real Swift grammar (tree-sitter-swift) and carries the model's allowed values."""

import re
from pathlib import Path

import pytest

from mlsurgery.contract import training_contract
from mlsurgery.io import load_spec
from mlsurgery.swift import SWIFT_KEYWORDS, swift_identifier, swift_source, swift_type_name
from test_contract import UPDATABLE
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def swift_parser():
    import tree_sitter_swift
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_swift.language()))


def syntax_errors(parser, source: str) -> list[str]:
    """Every ERROR or missing node tree-sitter finds, with its line and text."""
    data = source.encode("utf-8")
    errors, stack = [], [parser.parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            errors.append(f"line {node.start_point[0] + 1}: {node.type} {data[node.start_byte:node.end_byte][:60]!r}")
        stack.extend(node.children)
    return errors


def generated(path: Path) -> str:
    return swift_source(training_contract(load_spec(path), str(path)), swift_type_name(path.stem))


@pytest.mark.parametrize("name", UPDATABLE)
def test_generated_swift_parses_for_every_updatable_model(swift_parser, updatable_models, name):
    source = generated(updatable_models[name])
    assert syntax_errors(swift_parser, source) == []
    assert "MLUpdateTask(forModelAt:" in source and "replaceItemAt(url, withItemAt: temporaryURL)" in source


def test_the_grammar_does_report_broken_swift(swift_parser, updatable_models):
    source = generated(updatable_models["regressor"])
    broken = source.replace("init(count: Int,", "init(count: Int,,", 1)
    assert syntax_errors(swift_parser, broken)


def test_allowed_sets_become_enums_and_ranges_become_checks(updatable_models):
    source = generated(updatable_models["squeezenet"])
    batch_enum = re.search(r"enum MiniBatchSize: Int, CaseIterable \{(.*?)\}", source, re.S).group(1)
    assert re.findall(r"case size(\d+) = (\d+)", batch_enum) == [("1", "1"), ("2", "2"), ("8", "8"), ("16", "16")]
    assert "miniBatchSize: MiniBatchSize = .size8" in source
    assert 'self.learningRate = try Self.checked(learningRate, "learningRate", in: 0.0 ... 1.0)' in source
    assert "MLParameterKey.miniBatchSize: miniBatchSize.rawValue," in source
    assert "forEvents: [.trainingBegin, .miniBatchEnd, .epochEnd]" in source


def test_knn_swift_has_no_loss_and_scopes_its_key(updatable_models):
    source = generated(updatable_models["knn_drawing"])
    assert 'MLParameterKey.numberOfNeighbors.scoped(to: "knn"): numberOfNeighbors,' in source
    assert "completionHandler:" in source and "lossValue" not in source


def test_feature_names_that_are_keywords_or_start_with_digits(swift_parser, updatable_models):
    source = generated(updatable_models["awkward_names"])
    assert "var `class`: MLMultiArray" in source and "var _1st_input: MLMultiArray" in source
    assert "var Type_: MLMultiArray" in source
    assert '"1st input": MLFeatureValue(multiArray: example._1st_input),' in source


def _contract_with_inputs(names: list[str]) -> dict:
    feature = {"kind": "stringType", "optional": False}
    return {"path": "x.mlmodel", "model_type": "neuralNetwork",
            "updatable_model": {"type": "neuralNetwork", "where": "", "scope": None},
            "training_inputs": [{"name": name, "description": "", "role": "input", "type": feature,
                                 "swift": {"type": "String", "feature_value": "string"}} for name in names],
            "parameters": {}, "optimizer": None, "losses": [], "updatable_layers": []}


def test_every_keyword_and_odd_name_gives_parsable_swift(swift_parser):
    names = sorted(SWIFT_KEYWORDS) + ["123", "9lives", "", "a-b", "a_b", "é", 'quote"and\\slash', "new\nline"]
    source = swift_source(_contract_with_inputs(names), "Odd")
    assert syntax_errors(swift_parser, source) == []
    properties = re.findall(r"^    var (\S+): String$", source, re.M)
    assert len(properties) == len(set(properties)) == len(names)


@pytest.mark.parametrize(("name", "identifier"), [
    ("image", "image"), ("output_true", "output_true"), ("class", "`class`"), ("self", "self_"),
    ("1st input", "_1st_input"), ("label-probability", "label_probability"), ("", "feature")])
def test_swift_identifier(name, identifier):
    assert swift_identifier(name) == identifier


@pytest.mark.parametrize(("stem", "prefix"), [("HandsTuri", "HandsTuri"), ("hands-turi_v2", "HandsTuriV2"),
                                              ("3d_pose", "Model3dPose"), ("Type", "TypeModel")])
def test_swift_type_name(stem, prefix):
    assert swift_type_name(stem) == prefix


@pytest.mark.parametrize(("name", "golden"), [("squeezenet", "HandsTuri.swift"),
                                              ("knn_drawing", "UpdatableDrawingClassifier.swift")])
def test_golden_files(updatable_models, tmp_path, name, golden):
    source = generated(updatable_models[name])
    if source != (GOLDEN / golden).read_text("utf-8"):
        (tmp_path / golden).write_text(source, "utf-8")
        pytest.fail(f"generated Swift differs from tests/golden/{golden}; review `diff tests/golden/{golden} "
                    f"{tmp_path / golden}` and copy it over if the change is intended")
