"""Core ML's NeuralNetworkSpecValidator walk over a layer list (part of MLS1xx).

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp (``validateNeuralNetwork``).
``NetworkWalker`` walks the layers in order exactly as Core ML does: per layer the inputTensor/outputTensor
messages (only for networks with N-D array interpretation), then the layer's own checks (``LAYER_CHECKS``), then
"every input is produced earlier", then "no output overwrites a blob" (except copy layers). Core ML stops at the
first problem; we report at most one problem from a layer's own checks (later ones may depend on it) and keep
walking, so the first problem is Core ML's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..coreml import int32
from .base import Problem, Rule
from .layer_checks import CHECKS as CLASSIC_CHECKS
from .layers import (
    CONTROL_FLOW,
    DUPLICATE_OUTPUT_BLOB,
    LAYER_RANK,
    LAYER_TENSORS,
    MISSING_INPUT_BLOB,
    MODEL_INPUT_PRODUCER,
    UNSUPPORTED_LAYER,
    count_problem,
    label,
    rank_problem,
)
from .nd_layer_checks import CHECKS as ND_CHECKS
from .recurrent_checks import CHECKS as RECURRENT_CHECKS

# Every layer type's own check, by the layer's oneof case.
LAYER_CHECKS = {**CLASSIC_CHECKS, **RECURRENT_CHECKS, **ND_CHECKS}


@dataclass
class LayerProblem:
    layer: object  # the NeuralNetworkLayer proto (possibly inside a branch or loop)
    rule: Rule
    message: str


@dataclass
class NetworkWalker:
    """NeuralNetworkSpecValidator: walks a layer list, tracking which blobs exist and, in N-D mode, their ranks.

    ``blobs`` maps each blob name to the names of the layers that produce it (model inputs:
    ``MODEL_INPUT_PRODUCER``); it grows as layers are walked, so after ``walk`` it holds every blob.
    """

    blobs: dict[str, set[str]]
    io_ranks: dict[str, int]
    nd_array: bool
    loop_depth: int = 0
    ranks: dict[str, int] = field(default_factory=dict)

    def child(self, loop_depth: int | None = None) -> "NetworkWalker":
        return NetworkWalker({name: set(producers) for name, producers in self.blobs.items()}, self.io_ranks,
                             self.nd_array, self.loop_depth if loop_depth is None else loop_depth, dict(self.ranks))

    def walk(self, layers) -> list[LayerProblem]:
        problems: list[LayerProblem] = []
        blobs = self.blobs
        for layer in layers:
            kind = layer.WhichOneof("layer")
            own = self._tensor_problem(layer) if self.nd_array else None
            if own is not None:
                problems.append(LayerProblem(layer, *own))
            elif kind == "branch" or kind == "loop":
                problems += getattr(self, f"_{kind}_problems")(layer)
            elif (problem := self._layer_problem(layer, kind)) is not None:
                problems.append(LayerProblem(layer, *problem))
            for blob in layer.input:
                if blob not in blobs:
                    problems.append(LayerProblem(layer, MISSING_INPUT_BLOB, (
                        f"{label(layer)} reads blob '{blob}', which no model input or earlier layer produces; "
                        "rename the input to an existing blob or add/move its producer before this layer")))
            name = layer.name
            for blob in layer.output:
                producers = blobs.get(blob)
                if producers is None:
                    blobs[blob] = {name}
                    continue
                if kind != "copy":
                    producer = min(producers)
                    source = "a model input" if producer == MODEL_INPUT_PRODUCER else f"layer '{producer}'"
                    problems.append(LayerProblem(layer, DUPLICATE_OUTPUT_BLOB, (
                        f"{label(layer)} writes blob '{blob}', which {source} already produces; give the output "
                        "a new name and update its readers")))
                producers.add(name)
        return problems

    # -- per-layer -----------------------------------------------------------------------------------------

    def _tensor_problem(self, layer) -> Problem | None:
        for role, blobs, tensors in (("input", layer.input, layer.inputTensor),
                                     ("output", layer.output, layer.outputTensor)):
            if not len(tensors):
                continue
            if len(blobs) != len(tensors):
                return LAYER_TENSORS, (f"{label(layer)} has {len(blobs)} {role}s but {len(tensors)} {role}Tensor "
                                       f"entries; give one {role}Tensor per {role} or none")
            for blob, tensor in zip(blobs, tensors):
                rank = int32(tensor.rank)
                if len(tensor.dimValue):
                    if rank != len(tensor.dimValue):
                        return LAYER_TENSORS, (f"{label(layer)}: a tensor's rank {rank} does not match the length "
                                               f"of its dimValue ({len(tensor.dimValue)}); make them agree")
                    if rank < 1:
                        return LAYER_TENSORS, f"{label(layer)}: a tensor's rank must be positive"
                if blob in self.io_ranks and rank != self.io_ranks[blob]:
                    side = "an input to" if role == "input" else "an output of"
                    return LAYER_TENSORS, (f"{label(layer)}: {role} '{blob}' is {side} the model with rank "
                                           f"{self.io_ranks[blob]}, but the layer declares rank {rank}; make them "
                                           "agree")
                known = self.ranks.setdefault(blob, rank)
                if known != rank:
                    return LAYER_TENSORS, (f"{label(layer)}: inconsistent rank for blob '{blob}' ({rank} here, "
                                           f"{known} elsewhere); declare the same rank everywhere")
        return None

    def _layer_problem(self, layer, kind: str | None) -> Problem | None:
        """The first problem of the layer's own checks (a branch or loop has its own walk)."""
        check = LAYER_CHECKS.get(kind)
        if check is None:
            return (UNSUPPORTED_LAYER, f"layer '{layer.name}' has no (or an unknown) layer type; set one of the "
                                       "NeuralNetworkLayer types")
        return check(self, layer)

    def rank_of(self, blob: str) -> int | None:
        return self.ranks.get(blob)

    def rank_count(self, layer, type_name: str, low: int, high: int) -> Problem | None:
        """validateRankCount: the first input's and first output's known ranks."""
        for role, blob in (("input", layer.input[0]), ("output", layer.output[0])):
            rank = self.rank_of(blob)
            if rank is not None:
                problem = rank_problem(layer, type_name, low, high, role, rank)
                if problem:
                    return problem
        return None

    def rank_equality(self, layer, type_name: str) -> Problem | None:
        """validateInputOutputRankEquality."""
        input_rank, output_rank = self.rank_of(layer.input[0]), self.rank_of(layer.output[0])
        if input_rank is not None and output_rank is not None and input_rank != output_rank:
            return LAYER_RANK, (f"{label(layer)}: {type_name} expects equal input and output ranks, but they are "
                                f"{input_rank} and {output_rank}; fix the declared ranks")
        return None

    def equal_ranks(self, layer, blobs, type_name: str, role: str) -> Problem | None:
        """All known ranks among ``blobs`` equal the first blob's (concat, split, crop, dot, cropResize)."""
        first = self.rank_of(blobs[0])
        if first is None:
            return None
        if any(self.rank_of(blob) not in (None, first) for blob in blobs):
            return LAYER_RANK, (f"{label(layer)}: {type_name} expects equal ranks for its {role}s, but they "
                                "differ; fix the declared ranks")
        return None

    def nd_ranks(self, layer, type_name: str, low: int, high: int) -> Problem | None:
        """The common N-D pair: equal input/output ranks, then the rank range."""
        if not self.nd_array:
            return None
        return self.rank_equality(layer, type_name) or self.rank_count(layer, type_name, low, high)

    # -- control flow ---------------------------------------------------------------------------------------

    def _branch_problems(self, layer) -> list[LayerProblem]:
        def single(message: str) -> list[LayerProblem]:
            return [LayerProblem(layer, CONTROL_FLOW, message)]

        problem = count_problem(layer, "input", len(layer.input), 1, 1)
        if problem:
            return [LayerProblem(layer, *problem)]
        if len(layer.inputTensor) and any(size > 1 for size in layer.inputTensor[0].dimValue):
            return single(f"{label(layer)}: the condition input must hold a single value (its length cannot be "
                          "more than 1)")
        condition = layer.input[0]
        if condition not in self.blobs:
            return single(f"{label(layer)} needs condition blob '{condition}', which is not produced before this "
                          "layer; produce it earlier")
        params = layer.branch
        if not len(params.ifBranch.layers):
            return single(f"{label(layer)} has an empty if-branch; add its layers")
        if_walker = self.child()
        problems = if_walker.walk(params.ifBranch.layers)
        if len(params.elseBranch.layers):
            else_walker = self.child()
            problems += else_walker.walk(params.elseBranch.layers)
            # Only blobs produced on both branches exist after the branch.
            for blob, producers in if_walker.blobs.items():
                if blob in else_walker.blobs:
                    self.blobs.setdefault(blob, set()).update(producers, else_walker.blobs[blob])
        return problems

    def _loop_problems(self, layer) -> list[LayerProblem]:
        def single(message: str) -> list[LayerProblem]:
            return [LayerProblem(layer, CONTROL_FLOW, message)]

        problem = count_problem(layer, "input", len(layer.input), 0, 1)
        if problem:
            return [LayerProblem(layer, *problem)]
        if len(layer.inputTensor) and any(size > 1 for size in layer.inputTensor[0].dimValue):
            return single(f"{label(layer)}: the iteration-count input must hold a single value (its length cannot "
                          "be more than 1)")
        params = layer.loop
        has_condition_network = len(params.conditionNetwork.layers) > 0
        condition = params.conditionVar
        if not len(params.bodyNetwork.layers):
            return single(f"{label(layer)} has an empty body network; add its layers")
        if bool(condition) != has_condition_network:
            return single(f"{label(layer)}: conditionVar must be set exactly when there is a condition network; "
                          "set both or neither")
        if not has_condition_network and params.maxLoopIterations == 0 and not len(layer.input):
            return single(f"{label(layer)} has no input, no condition network and maxLoopIterations 0, so it "
                          "cannot run; set maxLoopIterations or add a condition")
        problems: list[LayerProblem] = []
        condition_walker = self.child()
        if has_condition_network:
            problems += condition_walker.walk(params.conditionNetwork.layers)
            produced_here = (condition in condition_walker.blobs if condition not in self.blobs
                             else self.blobs[condition] != condition_walker.blobs.get(condition))
            if not produced_here:
                problems.append(LayerProblem(layer, CONTROL_FLOW, (
                    f"{label(layer)}: conditionVar '{condition}' is not produced by the condition network; make "
                    "the condition network write it")))
            for blob, producers in condition_walker.blobs.items():
                self.blobs.setdefault(blob, set()).update(producers)
        body_walker = self.child(loop_depth=self.loop_depth + 1)
        problems += body_walker.walk(params.bodyNetwork.layers)
        if not has_condition_network:
            for blob, producers in body_walker.blobs.items():
                self.blobs.setdefault(blob, set()).update(producers)
        else:
            for blob in condition_walker.blobs:
                if blob in body_walker.blobs:
                    self.blobs.setdefault(blob, set()).update(body_walker.blobs[blob])
        return problems


