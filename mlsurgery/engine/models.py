"""Model-type runners: ``build_model(spec)`` looks up the spec's ``Type`` oneof in the ``MODEL_RUNNERS`` table.

Every runner is an ``EngineModel`` (``engine.runner``). This module runs neural networks and pipelines; the
table names every other runner (``engine.glm``, ``engine.knn``), so adding a model type is one import and one
row here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..coreml import NETWORK_KINDS, PIPELINE_KINDS, exact_rank_arrays, rank4_images
from ..network import pipeline_stages
from .errors import InputError, UnsupportedModelError
from .features import array_shape, feature_kind
from .glm import GLMClassifierModel
from .knn import KNearestNeighborsModel
from .network import build_network
from .runner import ClassProbabilities, EngineModel

# Models whose computation is Apple's own and not written in the spec.
OPAQUE_KINDS = {"visionFeaturePrint": "Apple's VisionFeaturePrint", "audioFeaturePrint": "Apple's AudioFeaturePrint"}


# ---- neural networks ----------------------------------------------------------------------------------------

class NeuralNetworkModel(EngineModel):
    """neuralNetwork, neuralNetworkClassifier and neuralNetworkRegressor."""

    def __init__(self, spec):
        super().__init__(spec)
        self.kind = spec.WhichOneof("Type")
        self.network = getattr(spec, self.kind)
        self.exact_rank = exact_rank_arrays(self.network)
        self.image_rank4 = rank4_images(self.network)
        self.module = build_network(self.network)
        self.preprocessing = {p.featureName or next(iter(self.input_features), ""): p
                              for p in self.network.preprocessing}
        self.class_labels = self._class_labels()

    def _class_labels(self) -> list | None:
        if self.kind != "neuralNetworkClassifier":
            return None
        classifier = self.network
        if classifier.WhichOneof("ClassLabels") == "int64ClassLabels":
            return [int(v) for v in classifier.int64ClassLabels.vector]
        return list(classifier.stringClassLabels.vector)

    # -- inputs ---------------------------------------------------------------------------------------------
    def input_blobs(self, features: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Network input blobs ``[N, *example shape]`` in the network's layout, preprocessing applied."""
        blobs = {}
        for name, feature in self.input_features.items():
            if name not in features:
                continue
            value = features[name]
            if not isinstance(value, torch.Tensor):
                raise InputError(f"input {name!r} of a neural network must be numeric")
            value = value.to(torch.float32)
            if feature_kind(feature) == "imageType":
                blobs[name] = self._image_blob(name, value)
            else:
                blobs[name] = self._array_blob(name, value)
        return blobs

    def _array_blob(self, name: str, value: torch.Tensor) -> torch.Tensor:
        if self.exact_rank:
            return value
        rank = value.dim() - 1
        if rank == 1:  # [C] → [1, 1, C, 1, 1]
            return value.reshape(value.shape[0], 1, 1, value.shape[1], 1, 1)
        if rank == 3:  # [C, H, W] → [1, 1, C, H, W]
            return value.reshape(value.shape[0], 1, 1, *value.shape[1:])
        if rank == 5:
            return value
        raise InputError(f"input {name!r} has rank {rank}; with the legacy rank-5 mapping Core ML takes rank 1 "
                         "[C] or rank 3 [C, H, W] arrays")

    def _image_blob(self, name: str, pixels: torch.Tensor) -> torch.Tensor:
        step = self.preprocessing.get(name)
        if step is not None:
            pixels = _preprocess(step, pixels, self.input_features[name])
        return pixels.unsqueeze(1) if self.image_rank4 else pixels.unsqueeze(1).unsqueeze(1)

    # -- running --------------------------------------------------------------------------------------------
    def blobs(self, features: dict[str, Any], batch_size: int) -> dict[str, torch.Tensor]:
        """Every blob of the network for this batch (training reads the loss input from here)."""
        return self.module(self.input_blobs(features), batch_size)

    def run(self, features, batch_size):
        values = self.blobs(features, batch_size)
        return self.outputs_from(values)

    def outputs_from(self, values: dict[str, torch.Tensor]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        description = self.spec.description
        for name, feature in self.output_features.items():
            if self.class_labels is not None and name == description.predictedFeatureName:
                probabilities = self.probabilities(values)
                labels = self.class_labels
                outputs[name] = [labels[i] for i in probabilities.argmax(dim=1).tolist()]
            elif self.class_labels is not None and feature_kind(feature) == "dictionaryType":
                outputs[name] = ClassProbabilities(self.probabilities(values), self.class_labels)
            elif name in values:
                outputs[name] = self._format_output(feature, values[name])
        return outputs

    def probability_blob(self) -> str:
        """The blob holding a classifier's class scores (labelProbabilityLayerName, else the probabilities
        output's own blob, else the last layer's output)."""
        if self.network.labelProbabilityLayerName:
            return self.network.labelProbabilityLayerName
        named = self.spec.description.predictedProbabilitiesName
        produced = {output for layer in self.network.layers for output in layer.output}
        if named in produced:
            return named
        return self.network.layers[-1].output[0]

    def probabilities(self, values: dict[str, torch.Tensor]) -> torch.Tensor:
        blob = self.probability_blob()
        if blob not in values:
            raise UnsupportedModelError(f"classifier probabilities blob {blob!r} is not produced by any layer")
        scores = values[blob]
        scores = scores.reshape(scores.shape[0], -1)
        if scores.shape[1] != len(self.class_labels):
            raise UnsupportedModelError(f"blob {blob!r} holds {scores.shape[1]} scores for "
                                        f"{len(self.class_labels)} class labels")
        return scores

    def _format_output(self, feature, value: torch.Tensor) -> torch.Tensor:
        kind = feature_kind(feature)
        example = value.shape[1:]
        count = int(np.prod(example)) if len(example) else 1
        if kind == "doubleType" or kind == "int64Type":
            return value.reshape(value.shape[0], -1)[:, 0] if count == 1 else value
        if kind == "multiArrayType":
            declared = array_shape(feature)
            if declared and int(np.prod(declared)) == count:
                return value.reshape(value.shape[0], *declared)
            if not self.exact_rank and len(example) == 5 and example[0] == example[1] == 1:
                return value.reshape(value.shape[0], *example[2:])
        return value


def _preprocess(step, pixels: torch.Tensor, feature) -> torch.Tensor:
    """NeuralNetworkImageScaler (``channelScale * x + per-channel bias``) or NeuralNetworkMeanImage."""
    from .features import BGR, image_channels

    kind = step.WhichOneof("preprocessor")
    if kind == "meanImage":
        mean = torch.tensor(list(step.meanImage.meanImage), dtype=torch.float32)
        return pixels - mean.reshape(pixels.shape[1:])
    if kind != "scaler":
        return pixels
    scaler = step.scaler
    if image_channels(feature) == 1:
        biases = [scaler.grayBias]
    elif feature.type.imageType.colorSpace == BGR:
        biases = [scaler.blueBias, scaler.greenBias, scaler.redBias]
    else:
        biases = [scaler.redBias, scaler.greenBias, scaler.blueBias]
    return pixels * scaler.channelScale + torch.tensor(biases, dtype=torch.float32).reshape(-1, 1, 1)


# ---- pipelines ----------------------------------------------------------------------------------------------

class OpaqueStage:
    """A pipeline stage the engine cannot compute: its outputs must be given as features."""

    def __init__(self, spec, reason: str):
        self.spec = spec
        self.reason = reason
        self.output_features = {feature.name: feature for feature in spec.description.output}


class PipelineModel(EngineModel):
    """Runs the stages in order; each stage reads the features it declares from those computed so far."""

    def __init__(self, spec):
        super().__init__(spec)
        self.stages = []
        for index, stage in enumerate(pipeline_stages(spec)):
            kind = stage.WhichOneof("Type")
            if kind in OPAQUE_KINDS:
                self.stages.append(OpaqueStage(stage, f"pipeline stage {index + 1} is {OPAQUE_KINDS[kind]}, "
                                                      "whose computation is not in the spec"))
            else:
                try:
                    self.stages.append(build_model(stage))
                except UnsupportedModelError as error:
                    raise UnsupportedModelError(f"pipeline stage {index + 1}: {error}") from None

    def accepted_inputs(self):
        accepted = dict(self.input_features)
        for stage in self.stages:
            if isinstance(stage, OpaqueStage):
                accepted.update(stage.output_features)
        return accepted

    def _checked(self, inputs):
        accepted = self.accepted_inputs()
        unknown = [name for name in inputs if name not in accepted]
        if unknown:
            raise InputError(f"unknown input {unknown[0]!r}; the model's inputs are {', '.join(accepted)}")
        for stage in self.stages:
            if isinstance(stage, OpaqueStage) and not set(stage.output_features) <= set(inputs):
                needed = " ".join(f"--features {name}=FILE" for name in stage.output_features)
                raise UnsupportedModelError(f"{stage.reason}; give its output with {needed}")
        read = {name for stage in self.stages if not isinstance(stage, OpaqueStage) for name in stage.input_features}
        missing = [name for name, feature in self.input_features.items()
                   if name in read and name not in inputs and not feature.type.isOptional]
        if missing:
            raise InputError(f"missing input {missing[0]!r} ({feature_kind(self.input_features[missing[0]])})")
        return dict(inputs)

    def run(self, features, batch_size):
        values = dict(features)
        for stage in self.stages:
            if isinstance(stage, OpaqueStage):
                continue
            stage_inputs = {name: values[name] for name in stage.input_features if name in values}
            values.update(stage.run(stage_inputs, batch_size))
        return values


# ---- the table ----------------------------------------------------------------------------------------------

ModelBuilder = Callable[[object], EngineModel]
# Every model type the engine runs (Model.proto's ``Type`` oneof case → runner).
MODEL_RUNNERS: dict[str, ModelBuilder] = {
    **dict.fromkeys(NETWORK_KINDS, NeuralNetworkModel),
    **dict.fromkeys(PIPELINE_KINDS, PipelineModel),
    "glmClassifier": GLMClassifierModel,
    "kNearestNeighborsClassifier": KNearestNeighborsModel,
}


def build_model(spec) -> EngineModel:
    """An ``EngineModel`` for ``spec``, or ``UnsupportedModelError`` naming the model type or layer."""
    kind = spec.WhichOneof("Type")
    builder = MODEL_RUNNERS.get(kind)
    if builder is None:
        if kind in OPAQUE_KINDS:
            raise UnsupportedModelError(f"model type {kind!r} is {OPAQUE_KINDS[kind]}, whose computation is not "
                                        "in the spec; the engine cannot run it")
        raise UnsupportedModelError(f"model type {kind!r} is not implemented by the engine")
    return builder(spec)
