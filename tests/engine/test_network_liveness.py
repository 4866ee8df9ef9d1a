"""Inference frees each blob after its last reader: the tensors actually alive before every layer (seen through
weak references) match a last-use table computed here from the spec's wiring, and the outputs are unchanged."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

from mlsurgery.engine import build_model

SHAPE = (3, 6, 6)


def _residual_spec():
    """conv → relu → conv, a skip connection (add), a concat of two older blobs, a dead branch nobody reads, and
    a blob overwritten under the same name (a name with two lifetimes)."""
    import coremltools.models.datatypes as datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("x", datatypes.Array(*SHAPE))], [("y", datatypes.Array(2, 6, 6))])
    rng = np.random.default_rng(0)

    def conv(name, source, target, channels_in, channels_out):
        builder.add_convolution(name, kernel_channels=channels_in, output_channels=channels_out, height=3, width=3,
                                stride_height=1, stride_width=1, border_mode="same", groups=1,
                                W=rng.standard_normal((3, 3, channels_in, channels_out)).astype(np.float32),
                                b=rng.standard_normal(channels_out).astype(np.float32), has_bias=True,
                                input_name=source, output_name=target)

    conv("c1", "x", "a", 3, 4)
    builder.add_activation("r1", "RELU", "a", "b")
    builder.add_activation("dead", "SIGMOID", "a", "unused")  # an output no layer reads and no feature names
    conv("c2", "b", "c", 4, 4)
    builder.add_elementwise("s1", ["b", "c"], "d", "ADD")
    builder.add_activation("r2", "TANH", "d", "e")
    builder.add_activation("r3", "RELU", "e", "e2")
    builder.add_elementwise("again", ["e2", "d"], "e", "MULTIPLY")  # "e" again: its first value is dead by now
    builder.add_elementwise("cat", ["e", "b"], "f", "CONCAT")
    conv("c3", "f", "y", 8, 2)
    return builder.spec


def _expected_alive_before(spec, keep: set[str]) -> list[set[str]]:
    """Independently of the engine: the blobs (produced by a layer) that must still exist before each layer runs
    — produced earlier and read at or after it, or kept — with one lifetime per write of a name."""
    layers = spec.neuralNetwork.layers
    alive_before = []
    for position in range(len(layers) + 1):
        alive = set()
        for producer in range(position):
            for name in layers[producer].output:
                rewritten = any(name in layers[j].output for j in range(producer + 1, position))
                if rewritten:
                    continue
                later_read = any(name in layers[j].input for j in range(position, len(layers)))
                if later_read or name in keep:
                    alive.add(name)
        alive_before.append(alive)
    return alive_before


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_tensors_alive_before_each_layer_match_the_last_use_table(context):
    spec = _residual_spec()
    model = build_model(spec)
    steps = list(model.module.steps)
    produced: dict[str, weakref.ref] = {}
    seen_alive: list[set[str]] = []

    def before(step, args):
        gc.collect()
        seen_alive.append({name for name, ref in produced.items() if ref() is not None})

    def after(position):
        def record(step, args, outputs):
            for name, tensor in zip(model.module.wiring[position][1], outputs):
                produced[name] = weakref.ref(tensor)  # a new write of a name replaces its old lifetime
        return record

    handles = [step.register_forward_pre_hook(before) for step in steps]
    handles += [step.register_forward_hook(after(position)) for position, step in enumerate(steps)]
    x = np.random.default_rng(1).standard_normal(SHAPE).astype(np.float32)
    with context():
        outputs = model.predict({"x": x})
    for handle in handles:
        handle.remove()
    gc.collect()
    seen_alive.append({name for name, ref in produced.items() if ref() is not None} - {"y"})

    expected = _expected_alive_before(spec, keep=set())
    assert seen_alive == expected[:len(steps)] + [set()]
    assert "unused" not in set().union(*seen_alive[3:]), "a blob nobody reads is dropped right after it is made"

    reference = build_model(spec).module({"x": torch.from_numpy(x).unsqueeze(0)}, 1)  # no plan: every blob kept
    assert set(reference) >= {"a", "b", "c", "d", "e", "f", "unused"}
    np.testing.assert_allclose(outputs["y"], reference["y"][0].numpy(), rtol=0, atol=0)


def test_kept_blobs_outlive_their_last_reader():
    spec = _residual_spec()
    model = build_model(spec)
    values = model.module({"x": torch.zeros(1, *SHAPE)}, 1, keep={"y", "b"})
    assert set(values) == {"y", "b"}  # the input too is dropped after its last reader (c1)
