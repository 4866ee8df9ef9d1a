"""The engine's GLM classifier against scikit-learn's LogisticRegression, and against its network replacement."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from mlsurgery.engine import build_model, compare_predictions
from mlsurgery.glm import PROBABILITIES, equivalence
from mlsurgery.ops.glm_head import replace_glm_head
from ops import createml_specs


def _data(classes, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, (120, 5))
    y = rng.integers(0, classes, 120)
    x[np.arange(120), y] += 2  # some signal, so the fitted weights are not all near zero
    return x, y


def _glm_spec(rows, offsets, labels, encoding):
    spec = createml_specs.glm_stage("x", rows.shape[1], labels, encoding=encoding)
    glm = spec.glmClassifier
    glm.ClearField("weights")
    glm.ClearField("offset")
    for row in rows:
        glm.weights.add().value.extend(row.tolist())
    glm.offset.extend(offsets.tolist())
    return spec


def _engine_probabilities(spec, x):
    return build_model(spec).predict_batch({"x": x})["classLabelProbs"]


def test_multinomial_logistic_regression_is_reference_class_glm():
    x, y = _data(4)
    fitted = LogisticRegression(max_iter=1000).fit(x, y)
    # A softmax is unchanged by subtracting the first class's scores: rows relative to the reference class.
    rows, offsets = fitted.coef_[1:] - fitted.coef_[0], fitted.intercept_[1:] - fitted.intercept_[0]
    spec = _glm_spec(rows, offsets, [0, 1, 2, 3], createml_specs.REFERENCE_CLASS)
    np.testing.assert_allclose(_engine_probabilities(spec, x), fitted.predict_proba(x), atol=1e-5)


def test_binary_logistic_regression_scores_the_second_label():
    x, y = _data(2)
    fitted = LogisticRegression().fit(x, y)
    spec = _glm_spec(fitted.coef_, fitted.intercept_, ["no", "yes"], createml_specs.ONE_VS_REST)
    np.testing.assert_allclose(_engine_probabilities(spec, x), fitted.predict_proba(x), atol=1e-5)
    labels = build_model(spec).predict_batch({"x": x})["classLabel"]
    assert list(labels) == [["no", "yes"][i] for i in fitted.predict(x)]


def test_one_vs_rest_normalizes_per_class_sigmoids():
    x, y = _data(3)
    fitted = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    rows = np.vstack([estimator.coef_[0] for estimator in fitted.estimators_])
    offsets = np.array([estimator.intercept_[0] for estimator in fitted.estimators_])
    spec = _glm_spec(rows, offsets, ["a", "b", "c"], createml_specs.ONE_VS_REST)
    np.testing.assert_allclose(_engine_probabilities(spec, x), fitted.predict_proba(x), atol=1e-5)


@pytest.mark.parametrize("name, pipeline", createml_specs.all_shapes(), ids=[n for n, _ in createml_specs.all_shapes()])
def test_network_replacement_agrees_with_the_glm_on_the_engine(name, pipeline):
    glm_stage = pipeline_stage = pipeline.pipelineClassifier.pipeline.models[-1]
    replaced = type(pipeline)()
    replaced.CopyFrom(pipeline)
    replace_glm_head(replaced)
    network_stage = replaced.pipelineClassifier.pipeline.models[-1]
    if equivalence(pipeline_stage.glmClassifier).preserves == PROBABILITIES:
        comparison = compare_predictions(glm_stage, network_stage, count=16, atol=1e-5)
        assert comparison.agree, comparison.detail
    else:
        feature = glm_stage.description.input[0].name
        x = np.random.default_rng(3).normal(0, 3, (64, len(glm_stage.glmClassifier.weights[0].value)))
        glm_labels = build_model(glm_stage).predict_batch({feature: x})["classLabel"]
        network_labels = build_model(network_stage).predict_batch({feature: x})["classLabel"]
        assert list(glm_labels) == list(network_labels)
