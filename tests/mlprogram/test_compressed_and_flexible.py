"""Compressed weights (palettized, linearly quantized, sparse) become dense fp32; flexible shapes are kept.

The compressed models' weights are chosen so that coremltools' compression is lossless (four distinct values for
a 2-bit palette, multiples of the int8 step for symmetric quantization, exact zeros for pruning): the converted
model must then give the PyTorch model's own outputs, which no decompression bug could.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlpackages import assert_close, read_package, save_package, torch, torch_outputs
from zoo import Recurrent, ResidualCNN

from mlsurgery.mlprogram.convert import to_neural_network


nn = torch.nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def _losslessly_compressible(kind: str, rng) -> Net:
    module = Net().eval()
    with torch.no_grad():
        for layer in (module.conv, module.fc):
            shape = layer.weight.shape
            if kind == "palettize":
                values = rng.choice(np.float32([-0.3, -0.1, 0.05, 0.2]), shape)
            elif kind == "quantize":  # per output channel, the largest magnitude 0.25 sets the step 0.25 / 127
                values = rng.integers(-127, 128, shape) * np.float32(0.25 / 127)
                values.reshape(shape[0], -1)[:, 0] = 0.25
            else:
                values = rng.standard_normal(shape) * 0.3
                values[rng.random(shape) < 0.6] = 0
            layer.weight.copy_(torch.from_numpy(values.astype(np.float32)))
    return module


def _compress(model, kind: str):
    import coremltools.optimize.coreml as cto

    if kind == "palettize":
        return cto.palettize_weights(model, cto.OptimizationConfig(
            global_config=cto.OpPalettizerConfig(mode="unique", weight_threshold=1)))
    if kind == "quantize":
        return cto.linear_quantize_weights(model, cto.OptimizationConfig(
            global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", weight_threshold=1)))
    return cto.prune_weights(model, cto.OptimizationConfig(global_config=cto.OpThresholdPrunerConfig(
        threshold=1e-12, minimum_sparsity_percentile=0.1, weight_threshold=1)))


# The constexpr op each compression writes, per deployment target (iOS 16 ops; iOS 18's new ones).
COMPRESSED = {
    ("palettize", "iOS16"): "constexpr_lut_to_dense", ("palettize", "iOS18"): "constexpr_lut_to_dense",
    ("quantize", "iOS16"): "constexpr_affine_dequantize", ("quantize", "iOS18"): "constexpr_blockwise_shift_scale",
    ("prune", "iOS16"): "constexpr_sparse_to_dense", ("prune", "iOS18"): "constexpr_sparse_to_dense",
}


@pytest.fixture(scope="module", params=sorted(COMPRESSED))
def compressed(request, tmp_path_factory):
    import coremltools as ct

    kind, target = request.param
    module = _losslessly_compressible(kind, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, torch.randn(1, 3, 6, 6))
        model = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=(1, 3, 6, 6))],
                           compute_precision=ct.precision.FLOAT32, minimum_deployment_target=getattr(ct.target, target))
        model = _compress(model, kind)
    path = tmp_path_factory.mktemp("compressed") / "model.mlpackage"
    model.save(str(path))
    package, weights = read_package(path)
    return module, package, to_neural_network(package, weights, source=str(path)), COMPRESSED[request.param]


def test_compressed_weights_are_expanded_exactly(compressed):
    from mlsurgery.engine import build_model

    module, package, conversion, op_type = compressed
    assert any(op.type == op_type for op in _operations(package)), "the package does not hold the compressed op"
    assert any(op_type in note for note in conversion.notes)
    model = build_model(conversion.spec)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = rng.standard_normal((1, 3, 6, 6)).astype(np.float32)
        (want,) = torch_outputs(module, [x])
        got = model.predict({"x": x})
        assert_close(got[conversion.spec.description.output[0].name], want, fp16=False)


def _operations(package):
    for function in package.mlProgram.functions.values():
        yield from function.block_specializations[function.opset].operations


@pytest.fixture(scope="module")
def flexible(tmp_path_factory):
    import coremltools as ct

    torch.manual_seed(0)
    module = ResidualCNN().eval()
    folder = tmp_path_factory.mktemp("flexible")
    side = ct.RangeDim(4, 16, default=8)
    shapes = {"range": ct.Shape((1, 3, side, side)),
              "enumerated": ct.EnumeratedShapes([(1, 3, 8, 8), (1, 3, 12, 12)], default=(1, 3, 8, 8))}
    result = {}
    for name, shape in shapes.items():
        path = save_package(module, [torch.randn(1, 3, 8, 8)], [ct.TensorType(name="x", shape=shape)],
                            folder / f"{name}.mlpackage", target="iOS16")
        package, weights = read_package(path)
        result[name] = package, to_neural_network(package, weights, source=str(path))
    return module, result


@pytest.mark.parametrize("kind", ["range", "enumerated"])
def test_flexible_shapes_are_kept_and_run(flexible, kind):
    from mlsurgery.engine import build_model
    from mlsurgery.validate import validate_spec

    module, result = flexible
    package, conversion = result[kind]
    assert conversion.spec.description.input[0] == package.description.input[0]
    assert validate_spec(conversion.spec).valid
    model = build_model(conversion.spec)
    for side in (8, 12):  # the default and another allowed size
        x = np.random.default_rng(side).standard_normal((1, 3, side, side)).astype(np.float32)
        (want,) = torch_outputs(module, [x])
        assert_close(model.predict({"x": x})[conversion.spec.description.output[0].name], want, fp16=False)


def test_a_flexible_sequence_through_lstm_and_gru_converts_and_runs_at_two_lengths(tmp_path):
    """coremltools writes the sequence length as getShape-driven layers (fillDynamic for the initial states, a loop
    for the GRU): the engine runs them at any allowed length, as PyTorch does."""
    import coremltools as ct

    from mlsurgery.engine import build_model

    torch.manual_seed(0)
    module = Recurrent().eval()
    steps = ct.RangeDim(2, 20, default=5)
    path = save_package(module, [torch.randn(1, 5, 4)], [ct.TensorType(name="x", shape=ct.Shape((1, steps, 4)))],
                        tmp_path / "sequence.mlpackage", target="iOS16")
    package, weights = read_package(path)
    spec = to_neural_network(package, weights, source=str(path)).spec
    assert "getShape" in {layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers}
    model = build_model(spec)
    for length in (5, 9):
        x = np.random.default_rng(length).standard_normal((1, length, 4)).astype(np.float32)
        (want,) = torch_outputs(module, [x])
        assert_close(model.predict({"x": x})[spec.description.output[0].name], want, fp16=False)


def test_keep_fp16_stores_the_weights_as_fp16(tmp_path):
    """The frozen part: weights stay fp16 (half the size), outputs still within the fp16 tolerance."""
    from mlsurgery.engine import build_model
    from mlsurgery.validate import validate_spec

    torch.manual_seed(0)
    module = Net().eval()
    import coremltools as ct

    path = save_package(module, [torch.randn(1, 3, 6, 6)], [ct.TensorType(name="x", shape=(1, 3, 6, 6))],
                        tmp_path / "half.mlpackage", fp16=True, target="iOS15")
    package, weights = read_package(path)
    kept = to_neural_network(package, weights, source=str(path), keep_fp16=True).spec
    expanded = to_neural_network(package, weights, source=str(path)).spec
    layers = {layer.name: layer for layer in kept.neuralNetwork.layers}
    convolution = layers[next(name for name, layer in layers.items() if layer.WhichOneof("layer") == "convolution")]
    assert len(convolution.convolution.weights.float16Value) == 2 * 8 * 3 * 3 * 3
    assert not convolution.convolution.weights.floatValue
    assert validate_spec(kept).valid
    assert kept.ByteSize() < expanded.ByteSize()
    x = np.random.default_rng(2).standard_normal((1, 3, 6, 6)).astype(np.float32)
    (want,) = torch_outputs(module, [x])
    name = kept.description.output[0].name
    assert_close(build_model(kept).predict({"x": x})[name], want, fp16=True)


def test_joint_compression_chains_expand_as_coremltools_decompresses(tmp_path):
    """Pruned then palettized (iOS 18: constexpr_lut_to_sparse → constexpr_sparse_to_dense) and pruned then
    quantized: the expanded weights are what coremltools' own decompress_weights gives."""
    import coremltools as ct
    import coremltools.optimize.coreml as cto

    from mlsurgery.engine import build_model

    torch.manual_seed(0)
    module = Net().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ct.convert(torch.jit.trace(module, torch.randn(1, 3, 6, 6)),
                           inputs=[ct.TensorType(name="x", shape=(1, 3, 6, 6))],
                           minimum_deployment_target=ct.target.iOS18)
        pruned = cto.prune_weights(model, cto.OptimizationConfig(
            global_config=cto.OpMagnitudePrunerConfig(target_sparsity=0.5, weight_threshold=1)))
        variants = {
            "lut_to_sparse": cto.palettize_weights(pruned, cto.OptimizationConfig(
                global_config=cto.OpPalettizerConfig(nbits=2, weight_threshold=1)), joint_compression=True),
            "sparse_blockwise_shift_scale": cto.linear_quantize_weights(pruned, cto.OptimizationConfig(
                global_config=cto.OpLinearQuantizerConfig(weight_threshold=1)), joint_compression=True),
        }
    x = np.random.default_rng(3).standard_normal((1, 3, 6, 6)).astype(np.float32)
    for name, compressed in variants.items():
        outputs = []
        for label, version in (("compressed", compressed), ("decompressed", cto.decompress_weights(compressed))):
            path = tmp_path / f"{name}_{label}.mlpackage"
            version.save(str(path))
            package, weights = read_package(path)
            assert (label == "compressed") == any(f"constexpr_{name}" == op.type for op in _operations(package))
            spec = to_neural_network(package, weights, source=str(path)).spec
            outputs.append(build_model(spec).predict({"x": x})[spec.description.output[0].name])
        np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6, rtol=0)
