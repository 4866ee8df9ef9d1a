"""A Core ML NeuralNetwork message as a torch module: the layers run in spec order over named blobs."""

from __future__ import annotations

import torch
from torch import nn

from ..coreml import exact_rank_arrays
from .errors import EngineRuntimeError, MLSurgeryError, UnsupportedModelError
from .layers import Context, LayerModule, translate_layer



class NetworkModule(nn.Module):
    """Runs ``layers`` over a dict of blobs, each ``[N, *example shape]`` (see ``layers.base``).

    ``forward(blobs)`` takes the network's input blobs (already in the network's layout) and returns the dict of
    every blob computed, or with ``keep`` only those named (each other blob freed after its last reader). Layers run under ``torch.no_grad`` unless a trainable parameter is at or below them,
    so training pays for autograd only from the lowest updatable layer up.
    """

    def __init__(self, layers, context: Context):
        super().__init__()
        self.context = context
        self.steps = nn.ModuleList(translate_layer(layer, context) for layer in layers)
        self.wiring = [(list(layer.input), list(layer.output)) for layer in layers]

    def forward(self, blobs: dict[str, torch.Tensor], batch_size: int, only: set[int] | None = None,
                keep: set[str] | None = None) -> dict[str, torch.Tensor]:
        """The blobs after running the layers (with ``only``: just the layers at those positions).

        Without ``keep`` every blob computed is returned. With ``keep`` each blob is dropped right after its last
        reader (``release_plan``) and only the blobs named in ``keep`` (and those no layer run reads) remain, so
        the memory held at once is what the layers still to run need, not every intermediate of the network.
        """
        values = dict(blobs)
        release = self.release_plan(keep) if keep is not None else None
        self.run_scope(values, batch_size, only, release)
        return values

    def accesses(self) -> list[tuple[set[str], set[str]]]:
        """(blobs read, blobs written) of each top-level layer; a loop or branch reads and writes, at its own
        position, every blob its nested networks do (they share this network's blobs)."""
        found = []
        for step, (inputs, outputs) in zip(self.steps, self.wiring):
            reads, writes = set(inputs), set(outputs)
            for nested in step.modules():
                if isinstance(nested, NetworkModule):
                    for nested_inputs, nested_outputs in nested.wiring:
                        reads.update(nested_inputs)
                        writes.update(nested_outputs)
            found.append((reads, writes))
        return found

    def release_plan(self, keep: set[str]) -> list[set[str]]:
        """For each layer position, the blobs to drop once it has run: those it is the last to read or write,
        except the ones in ``keep``."""
        last_access: dict[str, int] = {}
        for position, (reads, writes) in enumerate(self.accesses()):
            for name in reads | writes:
                last_access[name] = position
        plan: list[set[str]] = [set() for _ in self.steps]
        for name, position in last_access.items():
            if name not in keep:
                plan[position].add(name)
        return plan

    def run_scope(self, values: dict[str, torch.Tensor], batch_size: int, only: set[int] | None = None,
                  release: list[set[str]] | None = None) -> None:
        """Run the layers on ``values`` in place (nested loop and branch bodies share their parent's blobs, and
        release nothing: the parent's plan counts their reads at the loop's or branch's position)."""
        grad_enabled = torch.is_grad_enabled()
        for position, (step, (inputs, outputs)) in enumerate(zip(self.steps, self.wiring)):
            if only is not None and position not in only:
                continue
            if getattr(step, "scoped", False):
                step.run_scope(values, batch_size)
            else:
                arguments = [self._blob(values, name, step) for name in inputs] if inputs else [batch_size]
                needs_grad = grad_enabled and (step.trainable or any(
                    isinstance(a, torch.Tensor) and a.requires_grad for a in arguments))
                with torch.set_grad_enabled(needs_grad):
                    results = self._run(step, arguments)
                if len(results) < len(outputs):
                    raise EngineRuntimeError(f"layer {step.layer_name!r} ({step.kind}) produced {len(results)} "
                                             f"outputs, the spec names {len(outputs)}")
                values.update(zip(outputs, results))
                del arguments, results  # no reference beyond ``values``: the plan below frees the memory
            if release is not None:
                for name in release[position]:
                    values.pop(name, None)

    @staticmethod
    def _blob(values, name: str, step: LayerModule):
        try:
            return values[name]
        except KeyError:
            raise EngineRuntimeError(f"layer {step.layer_name!r} reads blob {name!r}, which no input or earlier "
                                     "layer produces") from None

    @staticmethod
    def _run(step: LayerModule, arguments):
        try:
            return step(*arguments)
        except MLSurgeryError:
            raise
        except (RuntimeError, IndexError, ValueError, TypeError, AttributeError) as error:
            shapes = ", ".join(str(list(a.shape[1:])) for a in arguments if isinstance(a, torch.Tensor))
            if not shapes:  # a layer that needs inputs but names none is handed only the batch size
                raise EngineRuntimeError(f"layer {step.layer_name!r} ({step.kind}) names no input blob but needs "
                                         "one; give it its input in the spec") from None
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise EngineRuntimeError(f"layer {step.layer_name!r} ({step.kind}) cannot compute on inputs of "
                                     f"shape {shapes}: {message}") from None


    def frozen_split(self, input_names, also_read: set[str]) -> tuple[set[int], set[str]] | None:
        """Layers whose outputs depend on the example only (no trainable weight at or below them), and the blobs
        they hand to the rest (read by a trainable-dependent layer, or in ``also_read``).

        Their results can be computed once per example and reused every epoch. None when the network has
        control flow, whose layers read blobs implicitly.
        """
        if any(getattr(step, "scoped", False) for step in self.steps):
            return None
        frozen_blobs = set(input_names)
        frozen = set()
        for position, (step, (inputs, outputs)) in enumerate(zip(self.steps, self.wiring)):
            if not step.trainable and all(name in frozen_blobs for name in inputs):
                frozen.add(position)
                frozen_blobs.update(outputs)
            else:
                frozen_blobs.difference_update(outputs)
        read_later = set(also_read)
        for position, (inputs, _) in enumerate(self.wiring):
            if position not in frozen:
                read_later.update(inputs)
        return frozen, read_later & frozen_blobs


def build_network(network, where: str = "") -> NetworkModule:
    context = Context(exact_rank=exact_rank_arrays(network), where=where,
                      translate_network=lambda nested: build_network(nested, where))
    return NetworkModule(network.layers, context)


__all__ = ["NetworkModule", "build_network", "UnsupportedModelError"]
