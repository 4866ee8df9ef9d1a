"""Replace a pipeline's GLM classifier head by the equivalent neural-network classifier, which Core ML can train.

Create ML image, sound and tabular classifiers end in a ``glmClassifier`` (mlmodel/format/GLMClassifier.proto),
which Core ML cannot update on device (only networks and k-NN classifiers: validateCanModelBeUpdatable,
InterfaceValidators.cpp). A GLM computes one linear score per weight row, ``z = W·x + offset``, and turns the scores
into class probabilities by its transform and class encoding. The replacement is an innerProduct holding the same
weights and offsets, followed by a softmax, as a ``neuralNetworkClassifier`` with the GLM's labels and outputs:

============================================  ==================================  =============================
GLM (n classes, r weight rows)                NN rows (innerProduct)              what is preserved
============================================  ==================================  =============================
Logit, ReferenceClass, n > 2 (r = n − 1):     a zero row for the reference class  probabilities (to float32)
p₀ ∝ 1, pᵢ ∝ exp(zᵢ)                          (first label), then W
Logit, binary (r = 1, either encoding):       [0; w]: softmax(0, z) = (1 − σ(z),  probabilities (to float32)
p₁ = σ(z), p₀ = 1 − σ(z)                      σ(z))
Probit, binary (r = 1): p₁ = Φ(z)             [0; 1.702·w]: σ(1.702 z) ≈ Φ(z)     predicted class; probabilities
                                                                                  within 0.01
Logit, OneVsRest, n > 2 (r = n):              W                                   predicted class only
pᵢ = σ(zᵢ) / Σⱼ σ(zⱼ)
============================================  ==================================  =============================

(The second column is how Core ML's GLM classifier computes probabilities: scikit-learn's LogisticRegression, whose
converter writes these encodings, checks Core ML's probabilities against its own to 1e-5 in coremltools'
test_glm_classifier.py.) One-vs-rest normalizes per-class sigmoids, which no softmax of linear scores reproduces;
computing log σ(z) in the network would, but Core ML cannot backpropagate through the log. Since σ is increasing,
the largest score wins in both, so the predicted class is the GLM's. Weights are stored as float32 (the GLM holds
doubles), so "preserved" means to float32 precision.

The GLM's input must be one multi-array: a vector [N], or [C, H, W] (flattened first, in the row-major order the
GLM reads it). GLMs reading several features (Core ML concatenates them) are refused, naming the fix.
"""

from __future__ import annotations

import math

import numpy as np

from .._proto import model_pb2
from ..errors import SurgeryError
from ..coreml import GLM_LOGIT, GLM_ONE_VS_REST, GLM_PROBIT, GLM_REFERENCE_CLASS, PIPELINE_KINDS
from ..glm import equivalence
from ..network import pipeline_stages
from ..weights import set_float_values
from .changes import Changes

# σ(1.702 z) approximates the standard normal CDF Φ(z) to within 0.0095 everywhere (Bowling et al., 2009).
PROBIT_AS_LOGIT = 1.702

CLASSIFIER_LAYER = "glm_innerProduct"
SOFTMAX_LAYER = "glm_softmax"
FLATTEN_LAYER = "glm_flatten"


def glm_head_stage_path(spec) -> tuple[int, ...] | None:
    """The stage path of the GLM classifier ending ``spec``'s (nested) pipeline (``()``: ``spec`` is one), or None."""
    path, model = (), spec
    while model.WhichOneof("Type") in PIPELINE_KINDS:
        stages = pipeline_stages(model)
        if not stages:
            return None
        path, model = path + (len(stages) - 1,), stages[-1]
    return path if model.WhichOneof("Type") == "glmClassifier" else None


def replace_glm_head(spec) -> Changes:
    """Replace the GLM classifier ending ``spec``'s pipeline, or ``spec`` itself when it is one, (in place) by the
    equivalent network classifier."""
    path = glm_head_stage_path(spec)
    if path is None:
        raise SurgeryError("the model does not end in a GLM classifier stage; nothing to replace")
    stage = spec
    for index in path:
        stage = pipeline_stages(stage)[index]
    glm = stage.glmClassifier
    replacement, detail = _network_classifier(stage)
    found = equivalence(glm)
    changes = Changes("replace-glm")
    where = " › ".join(f"stage {index + 1}" for index in path) or "model"
    changes.add(where, f"{detail}; preserves the GLM's {found.preserves} ({found.reason})")
    stage.CopyFrom(replacement)
    return changes


def _network_classifier(stage):
    glm = stage.glmClassifier
    feature = _single_array_input(stage)
    shape = list(feature.type.multiArrayType.shape)
    labels_kind = glm.WhichOneof("ClassLabels")
    labels = list(getattr(glm, labels_kind).vector) if labels_kind else []
    weights = np.array([list(row.value) for row in glm.weights], dtype=np.float64)
    offsets = np.array(list(glm.offset), dtype=np.float64)
    if weights.shape[1] != math.prod(shape):
        raise SurgeryError(f"the GLM has {weights.shape[1]} weights per class but its input {feature.name!r} has "
                           f"{math.prod(shape)} values")
    rows, bias = _class_rows(glm, weights, offsets, len(labels))

    network_model = model_pb2().Model()
    network_model.specificationVersion = stage.specificationVersion
    network_model.description.CopyFrom(stage.description)
    network = network_model.neuralNetworkClassifier
    if labels_kind:
        getattr(network, labels_kind).vector.extend(labels)
    probabilities = stage.description.predictedProbabilitiesName or "classProbabilities"
    source = feature.name
    if len(shape) == 3:
        flatten = network.layers.add()
        flatten.name = FLATTEN_LAYER
        flatten.input.append(source)
        flatten.output.append(f"{FLATTEN_LAYER}_output")
        flatten.flatten.mode = 0  # CHANNEL_FIRST: the row-major order of the [C, H, W] array
        source = f"{FLATTEN_LAYER}_output"
    elif len(shape) != 1:
        raise SurgeryError(f"the GLM's input {feature.name!r} has shape {shape}; a network classifier reads a "
                           "vector [N] or an array [C, H, W]")
    layer = network.layers.add()
    layer.name = CLASSIFIER_LAYER
    layer.input.append(source)
    layer.output.append(f"{CLASSIFIER_LAYER}_output")
    inner = layer.innerProduct
    inner.inputChannels, inner.outputChannels = rows.shape[1], rows.shape[0]
    inner.hasBias = True
    set_float_values(inner.weights, rows.astype(np.float32).ravel())
    set_float_values(inner.bias, bias.astype(np.float32))
    softmax = network.layers.add()
    softmax.name = SOFTMAX_LAYER
    softmax.input.append(f"{CLASSIFIER_LAYER}_output")
    softmax.output.append(probabilities)
    softmax.softmax.SetInParent()
    network.labelProbabilityLayerName = probabilities
    detail = (f"glmClassifier ({_transform_name(glm)}, {_encoding_name(glm)}, {len(labels)} classes) → "
              f"neuralNetworkClassifier: innerProduct {rows.shape[1]} → {rows.shape[0]} from the GLM's weights and "
              f"offsets, then softmax")
    return network_model, detail


def _class_rows(glm, weights: np.ndarray, offsets: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One innerProduct row and bias per class label, in label order."""
    if len(weights) == 1:
        scale = PROBIT_AS_LOGIT if glm.postEvaluationTransform == GLM_PROBIT else 1.0
        # The single row scores the second label against the first.
        return (np.vstack([np.zeros_like(weights), scale * weights]),
                np.concatenate([[0.0], scale * offsets]))
    if glm.classEncoding == GLM_REFERENCE_CLASS:
        return np.vstack([np.zeros((1, weights.shape[1])), weights]), np.concatenate([[0.0], offsets])
    return weights, offsets


def _single_array_input(stage):
    inputs = list(stage.description.input)
    if len(inputs) != 1 or inputs[0].type.WhichOneof("Type") != "multiArrayType":
        names = ", ".join(f"{f.name} ({f.type.WhichOneof('Type')})" for f in inputs)
        raise SurgeryError(f"the GLM classifier reads {names}; a network classifier needs one multi-array input — "
                           "put a featureVectorizer stage before the GLM to gather them into one array")
    return inputs[0]


def _transform_name(glm) -> str:
    return {GLM_LOGIT: "Logit", GLM_PROBIT: "Probit"}.get(glm.postEvaluationTransform,
                                                          str(glm.postEvaluationTransform))


def _encoding_name(glm) -> str:
    return {GLM_REFERENCE_CLASS: "ReferenceClass", GLM_ONE_VS_REST: "OneVsRest"}.get(glm.classEncoding,
                                                                                      str(glm.classEncoding))
