"""GLM → network classifier: the replacement against NumPy math of the GLM, on Create ML and Create ML-shaped models.

The reference is how Core ML's GLM classifier turns scores z = W·x + offset into probabilities (see
mlsurgery/ops/glm_head.py: reference class = softmax with a zero score for the first label; binary: σ(z) for the
second label; one-vs-rest: normalized sigmoids; Probit: Φ(z)), computed here independently of the code under test.
"""

import math

import numpy as np
import pytest

from conftest import SHARED_MODELS
from mlsurgery.network import LayerGraph, pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.glm import PREDICTED_CLASS, PROBABILITIES, equivalence
from mlsurgery.ops.glm_head import replace_glm_head
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.widen import widen_classifier
from mlsurgery.validate import validate_spec
from mlsurgery.weights import float_values
from ops import createml_specs

FLOWERS = SHARED_MODELS / "createml_flower_classifier.mlmodel"
SHAPES = [("createml-flowers", load_spec(FLOWERS))] + createml_specs.all_shapes()
IDS = [name for name, _ in SHAPES]


def glm_probabilities(glm, x):
    weights = np.array([list(row.value) for row in glm.weights])
    z = weights @ x + np.array(list(glm.offset))
    if glm.postEvaluationTransform == createml_specs.PROBIT:
        second = np.array([0.5 * (1 + math.erf(value / math.sqrt(2))) for value in z])
        return np.stack([1 - second, second], axis=-1)[0]
    if len(weights) == 1:
        second = 1 / (1 + np.exp(-z[0]))
        return np.array([1 - second, second])
    if glm.classEncoding == createml_specs.REFERENCE_CLASS:
        scores = np.exp(np.concatenate([[0.0], z]))
        return scores / scores.sum()
    sigmoids = 1 / (1 + np.exp(-z))
    return sigmoids / sigmoids.sum()


def network_probabilities(stage, x):
    graph = LayerGraph.trainable(stage)
    inner = next(layer for layer in graph.layers if layer.kind == "innerProduct").params
    weights = float_values(inner.weights).reshape(inner.outputChannels, inner.inputChannels).astype(np.float64)
    z = weights @ x.ravel() + float_values(inner.bias)
    scores = np.exp(z - z.max())
    return scores / scores.sum()


def _glm_stage(spec):
    return pipeline_stages(spec)[-1]


def _labels(stage, kind):
    model = getattr(stage, kind)
    return list(getattr(model, model.WhichOneof("ClassLabels")).vector)


@pytest.mark.parametrize("name, source", SHAPES, ids=IDS)
def test_replacement_gives_the_glms_class_and_stated_probabilities(name, source):
    spec = type(source)()
    spec.CopyFrom(source)
    glm_stage = _glm_stage(spec)
    glm = type(glm_stage.glmClassifier)()
    glm.CopyFrom(glm_stage.glmClassifier)
    labels = _labels(glm_stage, "glmClassifier")
    dimension = len(glm.weights[0].value)
    replace_glm_head(spec)
    network_stage = _glm_stage(spec)
    assert _labels(network_stage, "neuralNetworkClassifier") == labels
    rng = np.random.default_rng(7)
    stated = equivalence(glm).preserves
    worst = 0.0
    for _ in range(200):
        x = rng.normal(0, 3, dimension)
        expected, actual = glm_probabilities(glm, x), network_probabilities(network_stage, x)
        assert labels[int(np.argmax(actual))] == labels[int(np.argmax(expected))]
        worst = max(worst, float(np.abs(actual - expected).max()))
    if stated == PROBABILITIES:
        assert worst < 1e-5
    elif glm.postEvaluationTransform == createml_specs.PROBIT:
        assert worst < 0.01
    else:
        # The statement "predicted class only" is needed: the probabilities do differ.
        assert worst > 1e-3


@pytest.mark.parametrize("encoding, transform, classes, preserves", [
    (createml_specs.REFERENCE_CLASS, createml_specs.LOGIT, 5, PROBABILITIES),
    (createml_specs.REFERENCE_CLASS, createml_specs.LOGIT, 2, PROBABILITIES),
    (createml_specs.ONE_VS_REST, createml_specs.LOGIT, 2, PROBABILITIES),
    (createml_specs.ONE_VS_REST, createml_specs.LOGIT, 4, PREDICTED_CLASS),
    (createml_specs.REFERENCE_CLASS, createml_specs.PROBIT, 2, PREDICTED_CLASS),
    (createml_specs.ONE_VS_REST, createml_specs.PROBIT, 2, PREDICTED_CLASS),
])
def test_what_is_preserved_by_transform_and_encoding(encoding, transform, classes, preserves):
    stage = createml_specs.glm_stage("x", 4, [f"c{i}" for i in range(classes)], encoding=encoding,
                                     transform=transform)
    assert equivalence(stage.glmClassifier).preserves == preserves


@pytest.mark.parametrize("name, source", SHAPES, ids=IDS)
def test_make_updatable_on_glm_pipelines_is_valid_and_widen_adds_classes(name, source):
    spec = type(source)()
    spec.CopyFrom(source)
    make_updatable(spec, ["auto"])
    report = validate_spec(spec)
    assert report.valid, report.coreml_first
    assert spec.isUpdatable and _glm_stage(spec).isUpdatable
    assert [layer.name for layer in LayerGraph.trainable(spec).layers if layer.is_updatable] == ["glm_innerProduct"]
    classes = len(_labels(_glm_stage(spec), "neuralNetworkClassifier"))
    widen_classifier(spec, "glm_innerProduct", classes + 2)
    assert validate_spec(spec).valid
    assert len(_labels(_glm_stage(spec), "neuralNetworkClassifier")) == classes + 2


def test_glm_reading_several_features_is_refused():
    from mlsurgery.errors import SurgeryError

    spec = createml_specs.tabular_classifier()
    del spec.pipelineClassifier.pipeline.models[0]
    glm = spec.pipelineClassifier.pipeline.models[0]
    extra = glm.description.input.add()
    extra.name = "other"
    extra.type.doubleType.SetInParent()
    with pytest.raises(SurgeryError, match="featureVectorizer"):
        replace_glm_head(spec)


def test_glm_reading_a_three_d_array_gets_a_flatten_first():
    spec = createml_specs.image_classifier(dimension=512)
    printer, glm_stage = spec.pipelineClassifier.pipeline.models
    for feature in (printer.description.output[0], glm_stage.description.input[0]):
        feature.type.multiArrayType.ClearField("shape")
        feature.type.multiArrayType.shape.extend([8, 8, 8])
    replace_glm_head(spec)
    layers = LayerGraph.trainable(spec).layers
    assert [(layer.kind, layer.inputs) for layer in layers[:2]] == [("flatten", ["sceneprint"]),
                                                                    ("innerProduct", ["glm_flatten_output"])]
    assert layers[0].params.mode == 0  # CHANNEL_FIRST: c·H·W + h·W + w, the row-major order the GLM reads
    make_updatable(spec, ["auto"])
    assert validate_spec(spec).valid


def test_a_bare_glm_classifier_becomes_an_updatable_network_classifier():
    from mlsurgery.engine import compare_predictions

    glm = pipeline_stages(load_spec(FLOWERS))[1]
    spec = type(glm)()
    spec.CopyFrom(glm)
    make_updatable(spec, ["auto"])
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier" and spec.isUpdatable
    assert validate_spec(spec).valid
    comparison = compare_predictions(glm, spec, count=8, atol=1e-5)
    assert comparison.agree, comparison.detail
