"""Model-type runners: ``build_model(spec)`` looks up the spec's ``Type`` oneof in ``MODEL_RUNNERS``.

Every runner is an ``EngineModel``. Internally a batch of features flows between models as
``{name: value}`` where numeric values are tensors ``[N, ...]``, class probabilities are ``ClassProbabilities``
and other features (labels, strings, integers, dictionaries) are lists of ``N`` Python values.
Other modules add runners with ``register_model_runner(kind, builder)`` (``builder(spec) -> EngineModel``);
modules of this package that do so are listed in ``RUNNER_MODULES`` and imported on first ``build_model``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..coreml import NETWORK_KINDS
from ..graph import pipeline_stages
from .errors import InputError, UnsupportedModelError
from .features import array_shape, array_value, feature_kind, image_array
from .network import EXACT_ARRAY_MAPPING, RANK4_IMAGE_MAPPING, build_network

PIPELINE_KINDS = ("pipeline", "pipelineClassifier", "pipelineRegressor")
# Models whose computation is Apple's own and not written in the spec.
OPAQUE_KINDS = {"visionFeaturePrint": "Apple's VisionFeaturePrint", "audioFeaturePrint": "Apple's AudioFeaturePrint"}

RUNNER_MODULES: tuple[str, ...] = ("knn", "glm")  # modules of this package registering more runners


@dataclass
class ClassProbabilities:
    """A batch of class probabilities ``values[N, K]`` in the order of ``labels``."""

    values: torch.Tensor
    labels: list


class EngineModel:
    """A runnable model. Subclasses implement ``run(features, batch_size)`` on batched internal values."""

    def __init__(self, spec):
        self.spec = spec
        self.input_features = {feature.name: feature for feature in spec.description.input}
        self.output_features = {feature.name: feature for feature in spec.description.output}

    # -- to implement ---------------------------------------------------------------------------------------
    def run(self, features: dict[str, Any], batch_size: int) -> dict[str, Any]:
        raise NotImplementedError

    # -- public API -----------------------------------------------------------------------------------------
    def predict(self, inputs: dict[str, object]) -> dict[str, object]:
        """One example: arrays of the declared shape, PIL images or paths for images, str/int/float/dict values.
        Returns numpy arrays, the label and the {label: probability} dict of classifiers."""
        features = {name: self._one(name, value) for name, value in self._checked(inputs).items()}
        with torch.no_grad():
            outputs = self.run(features, 1)
        return {name: _first(outputs[name]) for name in self.output_features if name in outputs}

    def predict_batch(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A batch: multiArrays ``[N, *shape]``, images ``[N, C, H, W]`` pixels (0–255, model's channel order).
        Returns arrays ``[N, ...]``; classifiers give labels ``[N]`` and probabilities ``[N, K]``."""
        return {name: _as_numpy(value) for name, value in self.run_batch(inputs).items()}

    def run_batch(self, inputs: dict[str, np.ndarray]) -> dict[str, Any]:
        """``predict_batch``'s outputs before conversion: class probabilities stay ``ClassProbabilities`` (scores
        with their labels, which evaluation needs), numeric outputs tensors, labels lists."""
        checked = self._checked(inputs)
        sizes = {len(value) for value in checked.values()}
        if len(sizes) > 1:
            raise InputError(f"inputs have different batch sizes: {sorted(sizes)}")
        batch_size = sizes.pop() if sizes else 1
        features = {name: self._many(name, value) for name, value in checked.items()}
        with torch.no_grad():
            outputs = self.run(features, batch_size)
        return {name: outputs[name] for name in self.output_features if name in outputs}

    # -- helpers --------------------------------------------------------------------------------------------
    def accepted_inputs(self) -> dict[str, object]:
        """Features a caller may give: the declared inputs (pipelines add what opaque stages produce)."""
        return dict(self.input_features)

    def _checked(self, inputs: dict[str, object]) -> dict[str, object]:
        accepted = self.accepted_inputs()
        unknown = [name for name in inputs if name not in accepted]
        if unknown:
            raise InputError(f"unknown input {unknown[0]!r}; the model's inputs are {', '.join(accepted)}")
        missing = [name for name, feature in self.input_features.items()
                   if name not in inputs and not feature.type.isOptional]
        if missing:
            raise InputError(f"missing input {missing[0]!r} ({feature_kind(self.input_features[missing[0]])})")
        return dict(inputs)

    def _one(self, name: str, value):
        feature = self.accepted_inputs()[name]
        kind = feature_kind(feature)
        if kind == "multiArrayType":
            return torch.from_numpy(array_value(value, feature)).unsqueeze(0)
        if kind == "imageType":
            return torch.from_numpy(image_array(value, feature)).unsqueeze(0)
        return [value]

    def _many(self, name: str, values):
        feature = self.accepted_inputs()[name]
        kind = feature_kind(feature)
        if kind == "multiArrayType":
            array = np.asarray(values, dtype=np.float32)
            return torch.from_numpy(np.stack([array_value(example, feature) for example in array]))
        if kind == "imageType":
            return torch.from_numpy(np.stack([image_array(np.asarray(example), feature) for example in values]))
        return list(values)


def _first(value):
    if isinstance(value, ClassProbabilities):
        return {label: float(p) for label, p in zip(value.labels, value.values[0].tolist())}
    if isinstance(value, torch.Tensor):
        return value[0].detach().numpy()
    return value[0]


def _as_numpy(value):
    if isinstance(value, ClassProbabilities):
        return value.values.detach().numpy()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.array(value)


# ---- neural networks ----------------------------------------------------------------------------------------

class NeuralNetworkModel(EngineModel):
    """neuralNetwork, neuralNetworkClassifier and neuralNetworkRegressor."""

    def __init__(self, spec):
        super().__init__(spec)
        self.kind = spec.WhichOneof("Type")
        self.network = getattr(spec, self.kind)
        self.exact_rank = self.network.arrayInputShapeMapping == EXACT_ARRAY_MAPPING
        self.image_rank4 = self.network.imageInputShapeMapping == RANK4_IMAGE_MAPPING
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
        # Only the blobs the outputs are read from outlive their last reader: inference holds what the layers still
        # to run need, not every intermediate (a 110-layer super-resolution network kept 20 GB alive).
        values = self.module(self.input_blobs(features), batch_size, keep=self.output_blobs())
        return self.outputs_from(values)

    def output_blobs(self) -> set[str]:
        """The blobs ``outputs_from`` reads: the output features, and a classifier's class scores."""
        names = set(self.output_features)
        if self.class_labels is not None:
            names.add(self.probability_blob())
        return names

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
        last = self.network.layers[-1].output if self.network.layers else []
        if named in produced or not last:
            return named  # not produced: ``probabilities`` refuses the model naming it
        return last[0]

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
MODEL_RUNNERS: dict[str, ModelBuilder] = {kind: NeuralNetworkModel for kind in NETWORK_KINDS}
MODEL_RUNNERS.update({kind: PipelineModel for kind in PIPELINE_KINDS})
_loaded_runner_modules = False


def register_model_runner(kind: str, builder: ModelBuilder) -> None:
    """Make ``builder(spec)`` the runner of models whose ``Type`` oneof is ``kind``."""
    MODEL_RUNNERS[kind] = builder


def build_model(spec) -> EngineModel:
    """An ``EngineModel`` for ``spec``, or ``UnsupportedModelError`` naming the model type or layer."""
    global _loaded_runner_modules
    if not _loaded_runner_modules:
        for module in RUNNER_MODULES:
            importlib.import_module(f"{__package__}.{module}")
        _loaded_runner_modules = True
    kind = spec.WhichOneof("Type")
    builder = MODEL_RUNNERS.get(kind)
    if builder is None:
        if kind in OPAQUE_KINDS:
            raise UnsupportedModelError(f"model type {kind!r} is {OPAQUE_KINDS[kind]}, whose computation is not "
                                        "in the spec; the engine cannot run it")
        raise UnsupportedModelError(f"model type {kind!r} is not implemented by the engine")
    return builder(spec)
