"""The operations a recipe step may name, with the arguments each takes (pydantic models), as one registry.

``OPERATIONS`` is the complete, explicit list: a step ``name: {arguments}`` runs ``OPERATIONS[name].run`` with its
checked arguments and the recipe's random generator. ``RecipeHeader`` is the top level of a recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..coreml import LossKind, OptimizerKind
from ..errors import UsageError
from ..ops import describe, inits, loss, make_updatable, mark_updatable, precision, reinit, update_parameters, widen
from ..ops.changes import Changes

# --- arguments of each operation -------------------------------------------------------------------------------

class Arguments(BaseModel):
    """The keyword arguments of one operation, exactly as the Python function names them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def draws_random_numbers(self) -> bool:
        return False


Names = Annotated[list[str], Field(min_length=1)]
Positive = Annotated[int, Field(gt=0)]
PositiveList = Annotated[list[Positive], Field(min_length=1)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class WidenArguments(Arguments):
    layer: str = Field(description="The innerProduct or convolution layer producing the class scores.")
    num_classes: Positive = Field(description="Number of outputs after widening.")
    labels: list[str | int] | None = Field(None, description="Labels of the NEW classes only.")
    label_prefix: str | None = Field(None, description="New string labels are PREFIX0, PREFIX1, … (default user).")
    init: Literal[inits.WIDEN_INITS] = Field("zeros", description="New rows: zeros, kaiming (random) or preserve.")

    def draws_random_numbers(self) -> bool:
        return self.init == "kaiming"


class ReinitArguments(Arguments):
    layers: Names = Field(description="innerProduct / convolution layers to re-initialise.")
    init: Literal[inits.REINIT_INITS] = Field("kaiming-uniform", description="The distribution of the new weights.")

    def draws_random_numbers(self) -> bool:
        return self.init != "zeros"


class MarkUpdatableArguments(Arguments):
    layers: Names = Field(description="Exactly the layers to train; every other layer stops being updatable.")


class MakeUpdatableArguments(Arguments):
    """The arguments of ``mlsurgery.ops.make_updatable.make_updatable`` that are not settings of their own step:
    the optimizer, epochs and shuffle get the command's defaults, which later steps of those names replace."""

    layers: Names = Field(description="The layers to train, or [auto] for the trainable layers nearest the loss.")
    depth: Positive = Field(1, description="With layers [auto]: how many layers.")
    loss: Literal[tuple(kind.value for kind in LossKind)] | None = Field(
        None, description="cross-entropy or mse (default: cross-entropy on a classifier's softmax, else mse).")
    loss_input: str | None = Field(None, description="The blob the loss reads (a layer output).")
    target_shape: PositiveList | None = Field(None, description="Shape of the MSE target when it cannot be inferred.")
    to_fp32: bool = Field(False, description="Widen fp16 weights to fp32 (Core ML cannot train fp16 networks).")
    dequantize: bool = Field(False, description="Expand the chosen layers' quantized weights to fp32.")
    allow_blocked: bool = Field(False, description="Let through layers gradients cannot reach (the save then "
                                                   "refuses the model unless it has force).")


class LossArguments(Arguments):
    kind: Literal[tuple(kind.value for kind in LossKind)] | None = Field(
        None, description="cross-entropy or mse (default: cross-entropy on a classifier's softmax, else mse).")
    input: str | None = Field(None, description="The blob the loss reads (a layer output).")
    name: str | None = Field(None, description="Name of the loss layer (default lossLayer).")
    target_shape: PositiveList | None = Field(None, description="Shape of the MSE target when it cannot be inferred.")


_OPTIMIZER_DEFAULTS = update_parameters.OptimizerSettings()


class OptimizerArguments(Arguments):
    """The fields of ``mlsurgery.ops.update_parameters.OptimizerSettings``, with its defaults."""

    kind: Literal[tuple(kind.value for kind in OptimizerKind)] = _OPTIMIZER_DEFAULTS.kind
    learning_rate: float = _OPTIMIZER_DEFAULTS.learning_rate
    learning_rate_range: Annotated[list[float], Field(min_length=2, max_length=2)] = Field(
        list(_OPTIMIZER_DEFAULTS.learning_rate_range), description="[min, max] the app may choose from.")
    batch: Positive = _OPTIMIZER_DEFAULTS.batch
    batch_values: PositiveList | None = Field(None, description="Allowed mini-batch sizes (default: just batch).")
    momentum: Fraction = _OPTIMIZER_DEFAULTS.momentum
    beta1: Fraction = _OPTIMIZER_DEFAULTS.beta1
    beta2: Fraction = _OPTIMIZER_DEFAULTS.beta2
    eps: Fraction = _OPTIMIZER_DEFAULTS.eps

    @model_validator(mode="after")
    def check_settings(self):
        _as_value_error(self.settings)
        return self

    def settings(self) -> update_parameters.OptimizerSettings:
        values = self.model_dump()
        values["learning_rate_range"] = tuple(self.learning_rate_range)
        values["batch_values"] = tuple(self.batch_values) if self.batch_values is not None else None
        return update_parameters.OptimizerSettings(**values)


class EpochsArguments(Arguments):
    """The fields of ``mlsurgery.ops.update_parameters.EpochSettings``."""

    epochs: Positive = Field(description="Default number of epochs.")
    values: PositiveList | None = Field(None, description="Allowed epoch counts (default: just epochs).")

    @model_validator(mode="after")
    def check_settings(self):
        _as_value_error(self.settings)
        return self

    def settings(self) -> update_parameters.EpochSettings:
        return update_parameters.EpochSettings(self.epochs, tuple(self.values) if self.values is not None else None)


class ShuffleArguments(Arguments):
    shuffle: bool = Field(True, description="Shuffle the training examples every epoch.")
    seed: Annotated[int, Field(ge=0)] | None = Field(None, description="Seed of the shuffle order.")


class TrainingInputsArguments(Arguments):
    descriptions: Annotated[dict[str, str], Field(min_length=1)] = Field(
        description="Training input name → description shown in Xcode (add them after the loss step).")


class MetadataArguments(Arguments):
    short_description: str | None = None
    author: str | None = None
    license: str | None = None
    version: str | None = None
    user_defined: dict[str, str | None] | None = Field(None, description="Entries to set; null removes one.")


class PrecisionArguments(Arguments):
    """``to-fp32`` takes no arguments: write ``- to-fp32: {}``."""


class DequantizeArguments(Arguments):
    layers: Names = Field(description="Layers whose quantized weights are expanded to fp32.")


class MakeKnnArguments(Arguments):
    """The fields of ``mlsurgery.ops.knn.KnnSettings`` and the feature blob."""

    features: str | None = Field(None, description="The blob to take features from (default: the input of the "
                                                    "classifier's innerProduct).")
    k: Positive = Field(3, description="Number of neighbours that vote.")
    k_range: Annotated[list[Positive], Field(min_length=2, max_length=2)] = Field(
        [1, 1000], description="[min, max] k the app may choose.")
    weighting: Literal["uniform", "inverse"] = "uniform"
    index: Literal["linear", "kd-tree"] = "linear"
    leaf_size: Positive = 30
    labels: Literal["string", "int"] | None = Field(None, description="Label type (default: the classifier's).")
    default_label: str | None = Field(None, description="What an empty k-NN predicts (default: unknown, or -1).")

    @model_validator(mode="after")
    def check_settings(self):
        _as_value_error(self.settings)
        return self

    def settings(self):
        from ..ops.knn import KnnSettings

        return KnnSettings(k=self.k, k_range=tuple(self.k_range), weighting=self.weighting, index=self.index,
                           leaf_size=self.leaf_size, labels=self.labels, default_label=self.default_label)


class SplitArguments(Arguments):
    at: str = Field(description="The blob between the frozen first stage and the head.")


class FixArguments(Arguments):
    only: list[str] | None = Field(None, description="Apply only these rewrites (rule codes MLS500–MLS504); "
                                                      "default: all. Each is kept only if the engine proves it.")


class ReplaceGlmArguments(Arguments):
    """``replace-glm`` takes no arguments: write ``- replace-glm: {}``."""


class SaveArguments(Arguments):
    path: str = Field(description="Output file, relative to the recipe file; never the input model.")
    force: bool = Field(False, description="Write the model even if Core ML would reject it.")


def _as_value_error(build: Callable[[], object]) -> None:
    """Run a settings constructor, turning its UsageError into the ValueError pydantic reports with a location."""
    try:
        build()
    except UsageError as error:
        raise ValueError(str(error)) from None


# --- the registry ----------------------------------------------------------------------------------------------

Generator = np.random.Generator


@dataclass(frozen=True)
class Operation:
    arguments: type[Arguments]
    summary: str
    run: Callable[[Any, Any, Generator | None], Changes] | None  # None for save, which the planner carries out


def _widen(spec, a: WidenArguments, rng) -> Changes:
    return widen.widen_classifier(spec, a.layer, a.num_classes, labels=a.labels, label_prefix=a.label_prefix,
                                  init=a.init, rng=rng)


def _reinit(spec, a: ReinitArguments, rng) -> Changes:
    return reinit.reinit_layers(spec, a.layers, init=a.init, rng=rng)


def _mark_updatable(spec, a: MarkUpdatableArguments, rng) -> Changes:
    return mark_updatable.mark_updatable(spec, a.layers)


def _make_updatable(spec, a: MakeUpdatableArguments, rng) -> Changes:
    return make_updatable.make_updatable(spec, a.layers, depth=a.depth, loss=a.loss, loss_input=a.loss_input,
                                         target_shape=a.target_shape, to_fp32=a.to_fp32, dequantize=a.dequantize,
                                         allow_blocked=a.allow_blocked)


def _loss(spec, a: LossArguments, rng) -> Changes:
    return loss.set_loss(spec, a.kind, a.input, name=a.name, target_shape=a.target_shape)


def _optimizer(spec, a: OptimizerArguments, rng) -> Changes:
    return update_parameters.set_optimizer(spec, a.settings())


def _epochs(spec, a: EpochsArguments, rng) -> Changes:
    return update_parameters.set_epochs(spec, a.settings())


def _shuffle(spec, a: ShuffleArguments, rng) -> Changes:
    return update_parameters.set_shuffle(spec, a.shuffle, a.seed)


def _training_inputs(spec, a: TrainingInputsArguments, rng) -> Changes:
    return describe.describe_training_inputs(spec, a.descriptions)


def _metadata(spec, a: MetadataArguments, rng) -> Changes:
    return describe.set_metadata(spec, short_description=a.short_description, author=a.author, license=a.license,
                                 version=a.version, user_defined=a.user_defined)


def _to_fp32(spec, a: PrecisionArguments, rng) -> Changes:
    return precision.convert_fp16_to_fp32(spec)


def _dequantize(spec, a: DequantizeArguments, rng) -> Changes:
    return precision.dequantize_layers(spec, a.layers)


def _make_knn(spec, a: MakeKnnArguments, rng) -> Changes:
    from ..ops.knn import make_knn

    return make_knn(spec, a.features, a.settings())


def _split(spec, a: SplitArguments, rng) -> Changes:
    from ..ops.split import split_network

    return split_network(spec, a.at)


def _fix(spec, a: FixArguments, rng) -> Changes:
    from ..ops.fix import fix

    return fix(spec, only=a.only).changes


def _replace_glm(spec, a: ReplaceGlmArguments, rng) -> Changes:
    from ..ops.glm_head import replace_glm_head

    return replace_glm_head(spec)


SAVE = "save"

OPERATIONS: dict[str, Operation] = {
    "widen": Operation(WidenArguments, "Give a classifier layer more outputs and new class labels "
                                       "(mlsurgery.ops.widen.widen_classifier).", _widen),
    "reinit": Operation(ReinitArguments, "Replace layers' weights with fresh random values "
                                         "(mlsurgery.ops.reinit.reinit_layers).", _reinit),
    "make-updatable": Operation(MakeUpdatableArguments, "What `mlsurgery make-updatable` does: refuse layers "
                                                        "gradients cannot reach and fp16 networks, mark the layers, "
                                                        "attach the loss, default optimizer, epochs and shuffle "
                                                        "(mlsurgery.ops.make_updatable.make_updatable).",
                                _make_updatable),
    "mark-updatable": Operation(MarkUpdatableArguments, "Only mark exactly these layers and the model updatable "
                                                        "(mlsurgery.ops.mark_updatable.mark_updatable).",
                                _mark_updatable),
    "loss": Operation(LossArguments, "Attach the loss layer and the training inputs "
                                     "(mlsurgery.ops.loss.set_loss).", _loss),
    "optimizer": Operation(OptimizerArguments, "SGD or Adam with defaults and allowed values "
                                               "(mlsurgery.ops.update_parameters.set_optimizer).", _optimizer),
    "epochs": Operation(EpochsArguments, "Default and allowed epoch counts "
                                         "(mlsurgery.ops.update_parameters.set_epochs).", _epochs),
    "shuffle": Operation(ShuffleArguments, "Shuffle the training data, optionally with a seed "
                                           "(mlsurgery.ops.update_parameters.set_shuffle).", _shuffle),
    "training-inputs": Operation(TrainingInputsArguments, "Describe training inputs by name "
                                                          "(mlsurgery.ops.describe.describe_training_inputs).",
                                 _training_inputs),
    "metadata": Operation(MetadataArguments, "Set the model's description, author, licence, version and "
                                             "user-defined entries (mlsurgery.ops.describe.set_metadata).", _metadata),
    "to-fp32": Operation(PrecisionArguments, "Widen every fp16 weight to fp32 "
                                             "(mlsurgery.ops.precision.convert_fp16_to_fp32).", _to_fp32),
    "dequantize": Operation(DequantizeArguments, "Expand layers' quantized weights to fp32 "
                                                 "(mlsurgery.ops.precision.dequantize_layers).", _dequantize),
    "make-knn": Operation(MakeKnnArguments, "Cut the network at a feature blob and put an empty updatable k-NN "
                                            "after it, as a pipeline (mlsurgery.ops.knn.make_knn).", _make_knn),
    "split": Operation(SplitArguments, "Split the network after a blob into a frozen stage and a head stage, fp32 "
                                       "(mlsurgery.ops.split.split_network).", _split),
    "replace-glm": Operation(ReplaceGlmArguments, "Replace a pipeline's GLM classifier head by the equivalent "
                                                  "network classifier (mlsurgery.ops.glm_head.replace_glm_head).",
                             _replace_glm),
    "fix": Operation(FixArguments, "Rewrite converter output so Core ML can train it, each rewrite proven by the "
                                   "engine (mlsurgery.ops.fix.fix; needs mlsurgery[train]).", _fix),
    SAVE: Operation(SaveArguments, "Validate the model as Core ML would and write it (refused if invalid unless "
                                   "force).", None),
}


# The top level of a recipe; ``steps`` are checked one by one against ``OPERATIONS`` (load_recipe).
class RecipeHeader(BaseModel):
    """An mlsurgery recipe: the model to start from, an optional seed, and the operations to apply in order."""

    model_config = ConfigDict(extra="forbid", strict=True, title="mlsurgery recipe")

    input: str = Field(description="The model to start from, relative to the recipe file.")
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Seed of the one random generator that widen/reinit steps draw from, in step order.")
    steps: Annotated[list[Any], Field(min_length=1)] = Field(
        description="Operations in order, each a one-key mapping 'operation: {arguments}'.")


