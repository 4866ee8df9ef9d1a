"""YAML recipes: a surgery script as reviewable data, checked before it runs and reproducible to the byte.

A recipe names the model to start from, an optional ``seed`` and a list of ``steps``; each step is a one-key
mapping ``operation: {arguments}`` whose argument names are the keyword names of the Python function the
operation calls (``OPERATIONS`` below is the complete, explicit list)::

    input: ../fixtures/turi_squeezenet.mlmodel   # relative to this file
    seed: 42                                     # numpy.random.default_rng(42), shared by every random step
    steps:
      - widen: {layer: fullyconnected0, num_classes: 10}
      - make-updatable: {layers: [fullyconnected0]}
      - save: {path: ../out/HandsTuri.mlmodel}

``load_recipe`` parses the YAML safely (no object-constructing tags) and checks every key, type and argument
with pydantic before any model is read; a problem is one line naming the file, line and step. ``plan_recipe``
then runs the steps on an in-memory copy of the input, validating the model at every ``save``; ``apply_recipe``
writes the saved models only once every step has succeeded, so a failing recipe writes nothing. Random steps
draw from one generator seeded by ``seed``, in step order, so the same recipe gives byte-identical files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .api import load_network_spec, save_if_valid
from .errors import InvalidModelError, MLSurgeryError, UsageError, did_you_mean
from .io import save_spec
from .ops import describe, inits, loss, mark_updatable, precision, reinit, training, widen
from .coreml import LossKind
from .ops.changes import Changes

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class RecipeError(UsageError):
    """A recipe that cannot run as written; the message starts with ``file:line`` (or the ``--set`` at fault)."""


# --- arguments of each operation -------------------------------------------------------------------------------

class _Arguments(BaseModel):
    """The keyword arguments of one operation, exactly as the Python function names them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def draws_random_numbers(self) -> bool:
        return False


Names = Annotated[list[str], Field(min_length=1)]
Positive = Annotated[int, Field(gt=0)]
PositiveList = Annotated[list[Positive], Field(min_length=1)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class WidenArguments(_Arguments):
    layer: str = Field(description="The innerProduct or convolution layer producing the class scores.")
    num_classes: Positive = Field(description="Number of outputs after widening.")
    labels: list[str | int] | None = Field(None, description="Labels of the NEW classes only.")
    label_prefix: str | None = Field(None, description="New string labels are PREFIX0, PREFIX1, … (default user).")
    init: Literal[inits.WIDEN_INITS] = Field("zeros", description="New rows: zeros, kaiming (random) or preserve.")

    def draws_random_numbers(self) -> bool:
        return self.init == "kaiming"


class ReinitArguments(_Arguments):
    layers: Names = Field(description="innerProduct / convolution layers to re-initialise.")
    init: Literal[inits.REINIT_INITS] = Field("kaiming-uniform", description="The distribution of the new weights.")

    def draws_random_numbers(self) -> bool:
        return self.init != "zeros"


class MarkUpdatableArguments(_Arguments):
    layers: Names = Field(description="Exactly the layers to train; every other layer stops being updatable.")


class LossArguments(_Arguments):
    kind: Literal[tuple(kind.value for kind in LossKind)] | None = Field(
        None, description="cross-entropy or mse (default: cross-entropy on a classifier's softmax, else mse).")
    input: str | None = Field(None, description="The blob the loss reads (a layer output).")
    name: str | None = Field(None, description="Name of the loss layer (default lossLayer).")
    target_shape: PositiveList | None = Field(None, description="Shape of the MSE target when it cannot be inferred.")


_OPTIMIZER_DEFAULTS = training.OptimizerSettings()


class OptimizerArguments(_Arguments):
    """The fields of ``mlsurgery.ops.training.OptimizerSettings``, with its defaults."""

    kind: Literal[training.OPTIMIZERS] = _OPTIMIZER_DEFAULTS.kind
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

    def settings(self) -> training.OptimizerSettings:
        values = self.model_dump()
        values["learning_rate_range"] = tuple(self.learning_rate_range)
        values["batch_values"] = tuple(self.batch_values) if self.batch_values is not None else None
        return training.OptimizerSettings(**values)


class EpochsArguments(_Arguments):
    """The fields of ``mlsurgery.ops.training.EpochSettings``."""

    epochs: Positive = Field(description="Default number of epochs.")
    values: PositiveList | None = Field(None, description="Allowed epoch counts (default: just epochs).")

    @model_validator(mode="after")
    def check_settings(self):
        _as_value_error(self.settings)
        return self

    def settings(self) -> training.EpochSettings:
        return training.EpochSettings(self.epochs, tuple(self.values) if self.values is not None else None)


class ShuffleArguments(_Arguments):
    shuffle: bool = Field(True, description="Shuffle the training examples every epoch.")
    seed: Annotated[int, Field(ge=0)] | None = Field(None, description="Seed of the shuffle order.")


class TrainingInputsArguments(_Arguments):
    descriptions: Annotated[dict[str, str], Field(min_length=1)] = Field(
        description="Training input name → description shown in Xcode (add them after the loss step).")


class MetadataArguments(_Arguments):
    short_description: str | None = None
    author: str | None = None
    license: str | None = None
    version: str | None = None
    user_defined: dict[str, str | None] | None = Field(None, description="Entries to set; null removes one.")


class PrecisionArguments(_Arguments):
    """``to-fp32`` takes no arguments: write ``- to-fp32: {}``."""


class DequantizeArguments(_Arguments):
    layers: Names = Field(description="Layers whose quantized weights are expanded to fp32.")


class MakeKnnArguments(_Arguments):
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
        from .ops.knn import KnnSettings

        return KnnSettings(k=self.k, k_range=tuple(self.k_range), weighting=self.weighting, index=self.index,
                           leaf_size=self.leaf_size, labels=self.labels, default_label=self.default_label)


class SplitArguments(_Arguments):
    at: str = Field(description="The blob between the frozen first stage and the head.")


class FixArguments(_Arguments):
    only: list[str] | None = Field(None, description="Apply only these rewrites (rule codes MLS500–MLS504); "
                                                      "default: all. Each is kept only if the engine proves it.")


class ReplaceGlmArguments(_Arguments):
    """``replace-glm`` takes no arguments: write ``- replace-glm: {}``."""


class SaveArguments(_Arguments):
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
    arguments: type[_Arguments]
    summary: str
    run: Callable[[Any, Any, Generator | None], Changes] | None  # None for save, which the planner carries out


def _widen(spec, a: WidenArguments, rng) -> Changes:
    return widen.widen_classifier(spec, a.layer, a.num_classes, labels=a.labels, label_prefix=a.label_prefix,
                                  init=a.init, rng=rng)


def _reinit(spec, a: ReinitArguments, rng) -> Changes:
    return reinit.reinit_layers(spec, a.layers, init=a.init, rng=rng)


def _mark_updatable(spec, a: MarkUpdatableArguments, rng) -> Changes:
    return mark_updatable.mark_updatable(spec, a.layers)


def _loss(spec, a: LossArguments, rng) -> Changes:
    return loss.set_loss(spec, a.kind, a.input, name=a.name, target_shape=a.target_shape)


def _optimizer(spec, a: OptimizerArguments, rng) -> Changes:
    return training.set_optimizer(spec, a.settings())


def _epochs(spec, a: EpochsArguments, rng) -> Changes:
    return training.set_epochs(spec, a.settings())


def _shuffle(spec, a: ShuffleArguments, rng) -> Changes:
    return training.set_shuffle(spec, a.shuffle, a.seed)


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
    from .ops.knn import make_knn

    return make_knn(spec, a.features, a.settings())


def _split(spec, a: SplitArguments, rng) -> Changes:
    from .ops.split import split_network

    return split_network(spec, a.at)


def _fix(spec, a: FixArguments, rng) -> Changes:
    from .ops.fix import fix

    return fix(spec, only=a.only).changes


def _replace_glm(spec, a: ReplaceGlmArguments, rng) -> Changes:
    from .ops.glm_head import replace_glm_head

    return replace_glm_head(spec)


SAVE = "save"

OPERATIONS: dict[str, Operation] = {
    "widen": Operation(WidenArguments, "Give a classifier layer more outputs and new class labels "
                                       "(mlsurgery.ops.widen.widen_classifier).", _widen),
    "reinit": Operation(ReinitArguments, "Replace layers' weights with fresh random values "
                                         "(mlsurgery.ops.reinit.reinit_layers).", _reinit),
    "make-updatable": Operation(MarkUpdatableArguments, "Mark exactly these layers and the model updatable "
                                                        "(mlsurgery.ops.mark_updatable.mark_updatable).",
                                _mark_updatable),
    "loss": Operation(LossArguments, "Attach the loss layer and the training inputs "
                                     "(mlsurgery.ops.loss.set_loss).", _loss),
    "optimizer": Operation(OptimizerArguments, "SGD or Adam with defaults and allowed values "
                                               "(mlsurgery.ops.training.set_optimizer).", _optimizer),
    "epochs": Operation(EpochsArguments, "Default and allowed epoch counts (mlsurgery.ops.training.set_epochs).",
                        _epochs),
    "shuffle": Operation(ShuffleArguments, "Shuffle the training data, optionally with a seed "
                                           "(mlsurgery.ops.training.set_shuffle).", _shuffle),
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


# --- parsed recipes --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as messages and --set count
    operation: str
    arguments: _Arguments
    where: str  # "recipe.yaml:12", or the --set that gave the value at fault

    @property
    def label(self) -> str:
        return f"{self.where}: step {self.number} ({self.operation})"


@dataclass(frozen=True)
class Recipe:
    path: Path
    input: Path
    seed: int | None
    steps: tuple[Step, ...]
    input_where: str
    # Numbers of the save steps whose path was given on the command line (--set steps.N.save.path=...).
    command_line_saves: frozenset[int] = frozenset()


def load_recipe(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Recipe:
    """Parse and check a recipe file (and ``--set`` overrides); raises ``RecipeError`` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(f"{path}: cannot be read as a UTF-8 text file ({error})") from None
    data, places = _parse_yaml(text, str(path))
    if data is None:
        raise RecipeError(f"{path}: is empty; a recipe needs 'input' and 'steps'")
    if not isinstance(data, dict):
        raise RecipeError(f"{places.at(())}: a recipe is a mapping with 'input', 'seed' and 'steps', "
                          f"not a {_type_name(data)}")
    for override in overrides:
        _apply_override(data, places, override)
    try:
        header = RecipeHeader.model_validate(data)
    except ValidationError as error:
        detail = _first_error(error, data)
        raise RecipeError(f"{places.at(detail['loc'], detail['type'])}: "
                          f"{_explain(detail, RecipeHeader, 'key')}") from None
    steps = tuple(_check_step(raw, index, places) for index, raw in enumerate(header.steps))
    if header.seed is None:
        random = next((step for step in steps if step.arguments.draws_random_numbers()), None)
        if random is not None:
            raise RecipeError(f"{random.label}: init {random.arguments.init!r} draws random numbers; add "
                              "'seed: N' at the top of the recipe so every run writes the same model")
    command_line_saves = frozenset(step.number for step in steps if step.operation == SAVE and _from_command_line(
        places.at(("steps", step.number - 1, SAVE, "path"))))
    recipe = Recipe(path, _beside(path, header.input), header.seed, steps, places.at(("input",)), command_line_saves)
    _check_paths(recipe)
    return recipe


def _check_step(raw, index: int, places: _Places) -> Step:
    number, where = index + 1, places.at(("steps", index))
    form = "write each step as 'operation: {arguments}', e.g. '- save: {path: out.mlmodel}'"
    if isinstance(raw, str) and raw in OPERATIONS:
        raise RecipeError(f"{where}: step {number} ({raw}): has no arguments mapping; write '- {raw}: {{}}'")
    if not isinstance(raw, dict) or len(raw) != 1:
        got = f"{len(raw)} keys ({', '.join(map(str, raw))})" if isinstance(raw, dict) else f"a {_type_name(raw)}"
        raise RecipeError(f"{where}: step {number}: {form}; got {got}")
    (operation, arguments), = raw.items()
    if operation not in OPERATIONS:
        raise RecipeError(f"{where}: step {number}: unknown operation {operation!r}"
                          f"{_suggestion(str(operation), OPERATIONS)}")
    label = f"step {number} ({operation})"
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RecipeError(f"{places.at(('steps', index, operation))}: {label}: arguments must be a mapping "
                          f"of name: value, not a {_type_name(arguments)}")
    model = OPERATIONS[operation].arguments
    try:
        parsed = model.model_validate(arguments)
    except ValidationError as error:
        detail = _first_error(error, arguments)
        loc = ("steps", index, operation) + tuple(detail["loc"])
        raise RecipeError(f"{places.at(loc, detail['type'])}: {label}: {_explain(detail, model, 'argument')}") \
            from None
    return Step(number, operation, parsed, where)


def _check_paths(recipe: Recipe) -> None:
    """Catch, before any work, an input that does not exist and saves that would clobber the input or each other."""
    if not recipe.input.exists():
        raise RecipeError(f"{recipe.input_where}: input {recipe.input}: no such file (paths in a recipe are relative "
                          "to the recipe file)")
    if not _from_command_line(recipe.input_where) and not _inside_allowed_folders(recipe.input, recipe.path):
        raise RecipeError(f"{recipe.input_where}: input {recipe.input} is outside the folders a recipe may read "
                          f"({_allowed_folders_text(recipe.path)}); to use it anyway, give it on the command line: "
                          f"--set input={recipe.input}")
    written: dict[Path, Step] = {}
    for step in recipe.steps:
        if step.operation != SAVE:
            continue
        target = _beside(recipe.path, step.arguments.path)
        if _same_path(target, recipe.input):
            raise RecipeError(f"{step.label}: {target} is the input model; recipes never overwrite their input, "
                              "save under another name")
        earlier = next((s for p, s in written.items() if _same_path(p, target)), None)
        if earlier is not None:
            raise RecipeError(f"{step.label}: {target} is already saved by step {earlier.number}; give each save "
                              "its own path")
        written[target] = step


def _beside(recipe_path: Path, relative: str) -> Path:
    """A path written in the recipe, resolved against the recipe's folder (``recipes/../out`` shown as ``out``)."""
    return Path(os.path.normpath(recipe_path.parent / relative))


def _from_command_line(place: str) -> bool:
    return place.startswith("--set ")


def _allowed_folders(recipe_path: Path) -> list[Path]:
    """Where a recipe's own paths may point: the recipe's folder and the current folder, with their subfolders.

    Both were chosen by whoever runs the recipe (by naming the recipe and by standing where they stand), so a
    recipe from elsewhere (a pull request, a download) cannot read or overwrite files beyond them.
    """
    return [recipe_path.parent.resolve(), Path.cwd().resolve()]


def _allowed_folders_text(recipe_path: Path) -> str:
    recipe_folder, current = _allowed_folders(recipe_path)
    return f"the recipe's folder {recipe_folder} and the current folder {current}, with their subfolders"


def _inside_allowed_folders(path: Path, recipe_path: Path) -> bool:
    """Whether ``path``, with ``..`` and symbolic links resolved, lies in a folder of ``_allowed_folders``."""
    real = path.resolve()
    return any(real == folder or folder in real.parents for folder in _allowed_folders(recipe_path))


def _same_path(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


# --- YAML with line numbers ------------------------------------------------------------------------------------

class _RecipeLoader(yaml.SafeLoader):
    """SafeLoader (no object-constructing tags) that also reads ``1e-8`` as a float, as YAML 1.2 does."""


_RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


class _Places:
    """Where each value of the document came from: ``file:line`` per path of keys and indexes, or a ``--set``."""

    def __init__(self, source: str):
        self.source = source
        self.values: dict[tuple, str] = {}
        self.keys: dict[tuple, str] = {}

    def at(self, loc: Sequence, error_type: str = "") -> str:
        """The place of ``loc``: the key itself for an unknown key, the value (or its nearest parent) otherwise."""
        loc = tuple(loc)
        if error_type == "extra_forbidden" and loc in self.keys:
            return self.keys[loc]
        if error_type == "missing":
            loc = loc[:-1]
        while loc not in self.values and loc:
            loc = loc[:-1]
        return self.values.get(loc, f"{self.source}:1")

    def record(self, node, path: tuple = (), open_nodes: tuple = ()) -> None:
        self.values[path] = f"{self.source}:{node.start_mark.line + 1}"
        if id(node) in open_nodes:  # an alias of an enclosing node: the data is recursive, stop here
            return
        open_nodes += (id(node),)
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a list or mapping as a key: the constructor rejects it as unhashable
                key = key_node.value
                if key in seen:
                    raise RecipeError(f"{self.source}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                                      f"(first on line {seen[key]}); YAML would silently keep only the last one")
                seen[key] = key_node.start_mark.line + 1
                self.keys[path + (key,)] = f"{self.source}:{key_node.start_mark.line + 1}"
                self.record(value_node, path + (key,), open_nodes)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.record(item, path + (index,), open_nodes)

    def replace(self, path: tuple, place: str) -> None:
        """Everything at and under ``path`` now comes from ``place`` (a --set)."""
        for table in (self.values, self.keys):
            for loc in [loc for loc in table if loc[:len(path)] == path]:
                del table[loc]
        self.values[path] = self.keys[path] = place


def _parse_yaml(text: str, source: str, numbered: bool = True):
    try:
        # The reader checks the characters as the loader is made: a control character raises here already.
        loader = _RecipeLoader(text)
    except yaml.reader.ReaderError as error:
        raise RecipeError(f"{source}: not valid YAML: character {error.character!r} at offset {error.position} "
                          "is not allowed in YAML; remove it") from None
    try:
        node = loader.get_single_node()
        places = _Places(source)
        if node is None:
            return None, places
        places.record(node)
        # Keys are compared as written; the steps' operation names and argument keys are plain strings.
        return loader.construct_document(node), places
    except yaml.constructor.ConstructorError as error:
        raise RecipeError(f"{_mark(source, error, numbered)}: {_constructor_problem(error)}") from None
    except yaml.MarkedYAMLError as error:
        raise RecipeError(f"{_mark(source, error, numbered)}: not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise RecipeError(f"{source}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()


def _mark(source: str, error: yaml.MarkedYAMLError, numbered: bool) -> str:
    mark = error.problem_mark or error.context_mark
    return f"{source}:{mark.line + 1}" if mark is not None and numbered else source


def _constructor_problem(error: yaml.constructor.ConstructorError) -> str:
    tag = re.search(r"tag '([^']+)'", error.problem or "")
    if tag:
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return (f"tag {shown} is not allowed: recipes are plain YAML (mappings, lists, strings, numbers, booleans) "
                "and never construct Python objects")
    return f"not valid YAML: {error.problem}"


# --- --set overrides -------------------------------------------------------------------------------------------

def _apply_override(data: dict, places: _Places, override: str) -> None:
    """``KEY=VALUE`` for a top-level key, or ``steps.N.OPERATION.ARGUMENT=VALUE`` (N counts from 1)."""
    label = f"--set {override}"
    key, equals, text = override.partition("=")
    if not equals or not key:
        raise RecipeError(f"{label}: expected KEY=VALUE, e.g. seed=3 or steps.2.widen.num_classes=12")
    value = _override_value(text, label)
    parts = key.split(".")
    if parts[0] != "steps":
        if len(parts) != 1:
            raise RecipeError(f"{label}: only step arguments have dotted names (steps.N.OPERATION.ARGUMENT)")
        data[key] = value
        places.replace((key,), label)
        return
    steps = data.get("steps")
    if len(parts) != 4 or not parts[1].isdigit():
        raise RecipeError(f"{label}: a step argument is set as steps.N.OPERATION.ARGUMENT=VALUE "
                          "(N counts from 1), e.g. steps.2.widen.num_classes=12")
    number, operation, argument = int(parts[1]), parts[2], parts[3]
    if not isinstance(steps, list) or not 1 <= number <= len(steps):
        count = len(steps) if isinstance(steps, list) else 0
        raise RecipeError(f"{label}: there is no step {number}; the recipe has {count} step(s)")
    step = steps[number - 1]
    actual = next(iter(step), None) if isinstance(step, dict) and len(step) == 1 else None
    if actual != operation:
        raise RecipeError(f"{label}: step {number} is {actual!r}, not {operation!r}; check the step number")
    if step[operation] is None:
        step[operation] = {}
    if not isinstance(step[operation], dict):
        raise RecipeError(f"{label}: step {number} ({operation}) has no arguments mapping to set {argument!r} in")
    step[operation][argument] = value
    places.replace(("steps", number - 1, operation, argument), label)


def _override_value(text: str, label: str):
    """A --set value is read as a YAML value: 12 is a number, [1, 2] a list, 'true' a boolean, anything else text."""
    data, _ = _parse_yaml(text, label, numbered=False) if text.strip() else ("", None)
    return data


# --- error messages --------------------------------------------------------------------------------------------

def _first_error(error: ValidationError, data) -> dict:
    """The error to report: a misspelt key before the 'missing' error it causes, and located in the user's data.

    For a union type pydantic appends the member type to the location (``labels[0].str``); only the part of the
    location that exists in ``data`` names the user's value.
    """
    details = error.errors(include_url=False)
    detail = next((d for d in details if d["type"] == "extra_forbidden"), details[0])
    if detail["type"] in ("extra_forbidden", "missing"):
        return detail
    present, value = [], data
    for part in detail["loc"]:
        if isinstance(value, dict) and part in value or isinstance(value, list) and isinstance(part, int) \
                and part < len(value):
            present.append(part)
            value = value[part]
        else:
            break
    return {**detail, "loc": tuple(present)}


def _explain(detail: dict, model: type[BaseModel], noun: str) -> str:
    kind, loc, value = detail["type"], tuple(detail["loc"]), detail.get("input")
    name = _loc_name(loc)
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        return f"unknown key {name!r}{_suggestion(str(loc[-1]), known)}"
    if kind == "missing":
        field = model.model_fields.get(loc[0]) if len(loc) == 1 else None
        about = f" ({field.description[0].lower()}{field.description[1:].rstrip('.')})" \
            if field is not None and field.description else ""
        return f"missing {noun if len(loc) == 1 else 'key'} {name!r}{about}"
    if kind in ("value_error", "assertion_error"):
        message = str(detail.get("ctx", {}).get("error", detail["msg"]))
        return f"{name}: {message}" if name else message
    if kind in ("too_short", "too_long"):
        limits = detail.get("ctx", {})
        bound = (f"at least {limits.get('min_length')}" if kind == "too_short" else
                 f"at most {limits.get('max_length')}")
        return f"{name} needs {bound} item(s), got {value!r}"
    message = detail["msg"]
    message = f"{name} {message[len('Input '):]}" if message.startswith("Input ") else \
        f"{name}: {message[0].lower()}{message[1:]}"
    return f"{message}, got {value!r}{_hint(kind, value)}"


def _loc_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _hint(kind: str, value) -> str:
    if value is None:
        return " (the value is empty)"
    if kind == "string_type" and not isinstance(value, (dict, list)):
        return f" (quote it to keep it text: '{value}')"
    if kind in ("int_type", "float_type", "bool_type") and isinstance(value, str):
        return " (write it without quotes)"
    return ""


def _suggestion(word: str, choices) -> str:
    hint = did_you_mean(word, choices, limit=1)
    if hint:
        return f" ({hint})"
    return f"; choose from {', '.join(choices)}"


def _type_name(value) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


# --- running ---------------------------------------------------------------------------------------------------

@dataclass
class SavedModel:
    path: Path
    report: object  # mlsurgery.rules.base.ValidationReport
    spec: object  # the model as it is at this save (a copy: later steps keep changing the working spec)
    written: bool = False


@dataclass
class StepOutcome:
    step: Step
    changes: Changes | None  # None for a save
    saved: SavedModel | None = None


def plan_recipe(recipe: Recipe, *, output_dir: str | os.PathLike | None = None) -> list[StepOutcome]:
    """Run every step on an in-memory model, validating it at each save; nothing is written.

    ``output_dir`` puts every saved file into that folder under its own file name instead of the recipe's folder.
    Raises the operation's error prefixed with the step's place; ``InvalidModelError`` (exit 1) when a save would
    write a model Core ML rejects.
    """
    targets = _save_targets(recipe, output_dir)
    try:
        spec = load_network_spec(recipe.input, allow_glm_head=True)
    except MLSurgeryError as error:
        raise type(error)(f"{recipe.input_where}: {error}") from None
    rng = np.random.default_rng(recipe.seed) if recipe.seed is not None else None
    outcomes = []
    for step in recipe.steps:
        try:
            if step.operation == SAVE:
                target = targets[step.number]
                result = save_if_valid(spec, target, source=recipe.input, changes=Changes(SAVE),
                                       force=step.arguments.force, dry_run=True)
                snapshot = type(spec)()
                snapshot.CopyFrom(spec)
                outcomes.append(StepOutcome(step, None, SavedModel(target, result.report, snapshot)))
            else:
                outcomes.append(StepOutcome(step, OPERATIONS[step.operation].run(spec, step.arguments, rng)))
        except InvalidModelError as error:
            raise InvalidModelError(f"{step.label}: {error}", error.report) from None
        except MLSurgeryError as error:
            raise type(error)(f"{step.label}: {error}") from None
    return outcomes


def apply_recipe(recipe: Recipe, *, dry_run: bool = False,
                 output_dir: str | os.PathLike | None = None) -> list[StepOutcome]:
    """``plan_recipe``, then (unless ``dry_run``) write every saved model; a failing recipe writes nothing."""
    outcomes = plan_recipe(recipe, output_dir=output_dir)
    if dry_run:
        return outcomes
    for outcome in outcomes:
        if outcome.saved is not None:
            outcome.saved.path.parent.mkdir(parents=True, exist_ok=True)
            save_spec(outcome.saved.spec, outcome.saved.path, source=recipe.input)
            outcome.saved.written = True
    return outcomes


def _save_targets(recipe: Recipe, output_dir) -> dict[int, Path]:
    """Where each save step writes, checked so that the writing phase cannot fail half-way on a bad path."""
    targets: dict[int, Path] = {}
    for step in recipe.steps:
        if step.operation != SAVE:
            continue
        target = _beside(recipe.path, step.arguments.path)
        if output_dir is not None:
            target = Path(output_dir) / target.name
            clash = next((n for n, p in targets.items() if p.name == target.name), None)
            if clash is not None:
                raise RecipeError(f"--output-dir {output_dir}: steps {clash} and {step.number} both save "
                                  f"{target.name}; give the saves different file names")
            if _same_path(target, recipe.input):
                raise RecipeError(f"--output-dir {output_dir}: step {step.number} would overwrite the input model "
                                  f"{recipe.input}; choose another folder")
        elif step.number not in recipe.command_line_saves and not _inside_allowed_folders(target, recipe.path):
            raise RecipeError(f"{step.label}: {target} is outside the folders a recipe may write "
                              f"({_allowed_folders_text(recipe.path)}); to write there anyway, say so on the command "
                              f"line: --output-dir DIR or --set steps.{step.number}.save.path={target}")
        if target.is_dir():
            raise RecipeError(f"{step.label}: {target} is a folder; give the path of the .mlmodel file to write")
        targets[step.number] = target
    return targets


# --- JSON Schema -----------------------------------------------------------------------------------------------

def recipe_json_schema() -> dict:
    """A JSON Schema of the recipe format, built from the pydantic models, for editor completion."""
    schema = {"$schema": JSON_SCHEMA_DIALECT, **RecipeHeader.model_json_schema()}
    definitions = schema.setdefault("$defs", {})
    alternatives = []
    for name, operation in OPERATIONS.items():
        model = operation.arguments
        arguments = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(arguments.pop("$defs", {}))
        definitions[model.__name__] = arguments
        reference = {"$ref": f"#/$defs/{model.__name__}"}
        if not arguments.get("required"):
            reference = {"anyOf": [reference, {"type": "null"}]}
        alternatives.append({"type": "object", "title": name, "description": operation.summary,
                             "properties": {name: reference}, "required": [name], "additionalProperties": False})
    steps = schema["properties"]["steps"]
    steps["items"] = {"oneOf": alternatives}
    return schema
