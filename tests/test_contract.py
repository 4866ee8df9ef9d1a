"""The training contract equals what the spec declares, read independently through protobuf's JSON mapping."""

import pytest
from google.protobuf.json_format import MessageToDict

from conftest import FIXTURES, shared_models
from mlsurgery.contract import training_contract
from mlsurgery.errors import InvalidModelError, NotUpdatableError
from mlsurgery.io import load_spec
from updatable_models import ALL_UPDATABLE as UPDATABLE
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)


def _trained_model(spec):
    """The model Core ML trains, found by walking to the last stage of pipelines (Model.proto)."""
    model = spec
    while model.WhichOneof("Type") in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        kind = model.WhichOneof("Type")
        pipeline = model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline
        model = pipeline.models[-1]
    return model


def _expected(parameter: dict, is_int: bool) -> dict:
    """An Int64Parameter / DoubleParameter in protobuf's JSON mapping → the contract's documented form."""
    number = int if is_int else float
    expected = {"default": number(parameter.get("defaultValue", 0))}
    if "set" in parameter:
        expected["allowed_values"] = [int(v) for v in parameter["set"].get("values", [])]
    if "range" in parameter:
        expected["allowed_range"] = [number(parameter["range"].get("minValue", 0)),
                                     number(parameter["range"].get("maxValue", 0))]
    return expected


def _expected_parameters(spec) -> dict:
    model = _trained_model(spec)
    kind = model.WhichOneof("Type")
    if kind == "kNearestNeighborsClassifier":
        return {"numberOfNeighbors": _expected(MessageToDict(model.kNearestNeighborsClassifier.numberOfNeighbors),
                                               True)}
    update = MessageToDict(getattr(model, kind).updateParams)
    (optimizer_body,) = update["optimizer"].values()
    expected = {key: _expected(value, key == "miniBatchSize") for key, value in optimizer_body.items()}
    expected["epochs"] = _expected(update["epochs"], True)
    if "shuffle" in update:
        expected["shuffle"] = {"default": update["shuffle"].get("defaultValue", False),
                               "allowed_values": [False, True]}
    if "seed" in update:
        expected["seed"] = _expected(update["seed"], True)
    return expected


@pytest.mark.parametrize("name", UPDATABLE)
def test_parameters_equal_the_spec(updatable_models, name):
    spec = load_spec(updatable_models[name])
    contract = training_contract(spec, str(updatable_models[name]))
    parameters = {key: {k: v for k, v in value.items() if k != "swift_type"}
                  for key, value in contract["parameters"].items()}
    assert parameters == _expected_parameters(spec)


@pytest.mark.parametrize("name", UPDATABLE)
def test_training_inputs_are_the_specs_in_order(updatable_models, name):
    spec = load_spec(updatable_models[name])
    contract = training_contract(spec)
    inputs = {feature.name for feature in spec.description.input}
    assert [(f["name"], f["role"]) for f in contract["training_inputs"]] == [
        (feature.name, "input" if feature.name in inputs else "target") for feature in spec.description.trainingInput]


def test_the_articles_model_facts(updatable_models):
    contract = training_contract(load_spec(updatable_models["squeezenet"]))
    image, label = contract["training_inputs"]
    assert image["swift"] == {"type": "CVPixelBuffer", "feature_value": "pixelBuffer", "width": 227, "height": 227,
                              "pixel_format": "kCVPixelFormatType_32BGRA"}
    assert label["swift"]["type"] == "String" and label["role"] == "target"
    assert contract["parameters"]["miniBatchSize"]["allowed_values"] == [1, 2, 8, 16]
    assert contract["parameters"]["epochs"] == {"default": 10, "allowed_values": [1, 10, 50], "swift_type": "Int"}
    assert contract["parameters"]["seed"]["default"] == 42
    assert contract["optimizer"] == "sgd"
    assert contract["updatable_layers"] == ["conv10", "fullyconnected0"]
    assert contract["updatable_model"] == {"type": "neuralNetworkClassifier", "where": "", "scope": None}


def test_adam_keys_and_int64_labels(updatable_models):
    contract = training_contract(load_spec(updatable_models["mnist_adam"]))
    assert list(contract["parameters"]) == ["learningRate", "miniBatchSize", "beta1", "beta2", "eps", "epochs",
                                            "shuffle"]
    assert contract["training_inputs"][-1]["swift"]["type"] == "Int64"


def test_knn_stage_of_a_pipeline(updatable_models):
    contract = training_contract(load_spec(updatable_models["knn_drawing"]))
    assert contract["updatable_model"] == {"type": "kNearestNeighborsClassifier", "where": "pipeline stage 2",
                                           "scope": "knn"}
    assert contract["parameters"] == {"numberOfNeighbors": {"default": 3, "allowed_range": [1, 10],
                                                            "swift_type": "Int"}}
    assert contract["training_inputs"][0]["swift"]["pixel_format"] == "kCVPixelFormatType_OneComponent8"
    assert contract["losses"] == [] and contract["optimizer"] is None


def test_network_stage_of_a_pipeline_is_scoped_by_its_default_name(updatable_models):
    contract = training_contract(load_spec(updatable_models["pipeline"]))
    # The fixture's pipeline has no names: Core ML calls its stages model0, model1, … (Model.proto, Pipeline).
    assert contract["updatable_model"]["scope"] == "model1"


NOT_UPDATABLE = [p for p in shared_models() + sorted(FIXTURES.glob("*.mlmodel")) if not load_spec(p).isUpdatable]


@pytest.mark.parametrize("model", NOT_UPDATABLE, ids=lambda p: p.name)
def test_models_that_are_not_updatable_are_refused(model):
    with pytest.raises(NotUpdatableError, match="is not updatable") as refused:
        training_contract(load_spec(model), str(model))
    assert refused.value.exit_code == 1


def test_an_updatable_model_core_ml_rejects_is_refused_with_its_finding():
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    spec.isUpdatable = True  # no loss, optimizer or updatable layer: Core ML rejects it
    with pytest.raises(InvalidModelError, match=r"Core ML would reject .*\[MLS\d+\]"):
        training_contract(spec, "regressor.mlmodel")


def test_a_pipeline_ending_in_a_model_core_ml_cannot_train_is_refused():
    spec = load_spec(FIXTURES / "pipeline.mlmodel")
    spec.isUpdatable = True
    last = spec.pipelineClassifier.pipeline.models[-1]
    last.glmClassifier.SetInParent()
    with pytest.raises(NotUpdatableError, match=r"pipeline stage 2\) is a glmClassifier"):
        training_contract(spec, "pipeline.mlmodel")
