"""What a NeuralNetwork cannot express is refused in one line naming the op and its output (exit code 2)."""

from __future__ import annotations

import numpy as np
import pytest

from mlpackages import read_package, save_package, save_program, torch

from mlsurgery.errors import ConversionError, EXIT_USAGE
from mlsurgery.mlprogram.convert import to_neural_network, unconvertible_ops, why_not_convertible


nn = torch.nn


class Accumulator(nn.Module):
    """A stateful model: an fp16 buffer updated in place (coremltools' ct.StateType recipe)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("total", torch.zeros(1, 4, dtype=torch.float16))

    def forward(self, x):
        self.total.add_(x.half())
        return self.total.float() * 2


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("refused")


def _refusal(path) -> str:
    """The one-line refusal of ``path``; ``why_not_convertible`` (inspect's verdict) says the same up front."""
    package, weights = read_package(path)
    with pytest.raises(ConversionError) as refused:
        to_neural_network(package, weights, source=str(path))
    message = str(refused.value)
    assert "\n" not in message and message.startswith(str(path))
    assert refused.value.exit_code == EXIT_USAGE
    assert why_not_convertible(package, str(path)) == message
    return message


def test_an_op_without_a_layer_is_named_with_its_output(folder):
    """Activation quantization (iOS 17 quantize / dequantize) has no NeuralNetwork layer."""
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))], opset_version=ct.target.iOS17)
    def program(x):
        quantized = mb.quantize(input=x, scale=np.float32(0.1), output_dtype="int8", name="q")
        return mb.dequantize(input=quantized, scale=np.float32(0.1), name="dq")

    path = save_program(program, folder / "quantized.mlpackage")
    package, _ = read_package(path)
    found = unconvertible_ops(package)
    assert [op for op, _ in found] == ["quantize", "dequantize"]
    message = _refusal(path)
    assert f"op 'quantize' (output {found[0][1]!r})" in message and "1 more" in message


def test_a_stateful_model_is_refused(folder):
    import coremltools as ct

    path = save_package(Accumulator(), [torch.randn(1, 4)], [ct.TensorType(name="x", shape=(1, 4))],
                        folder / "stateful.mlpackage", fp16=True, target="iOS18",
                        states=[ct.StateType(wrapped_type=ct.TensorType(shape=(1, 4), dtype=np.float16),
                                             name="total")])
    assert "stateful (state 'total')" in _refusal(path)


def test_several_functions_are_refused(folder):
    import coremltools as ct

    single = save_package(Linear(), [torch.randn(1, 4)], [ct.TensorType(name="x", shape=(1, 4))],
                          folder / "single.mlpackage", target="iOS18")
    descriptor = ct.utils.MultiFunctionDescriptor()
    descriptor.add_function(str(single), src_function_name="main", target_function_name="first")
    descriptor.add_function(str(single), src_function_name="main", target_function_name="second")
    descriptor.default_function_name = "first"
    path = folder / "multi.mlpackage"
    ct.utils.save_multifunction(descriptor, str(path))
    assert "2 functions (first, second)" in _refusal(path)


def test_other_model_types_are_refused():
    from conftest import FIXTURES

    from mlsurgery.io import load_spec

    spec = load_spec(FIXTURES / "pipeline.mlmodel")
    with pytest.raises(ConversionError, match="is a pipeline"):
        to_neural_network(spec, None, source="pipeline.mlmodel")


def test_unconvertible_ops_is_empty_for_a_convertible_program(folder):
    import coremltools as ct

    path = save_package(Linear(), [torch.randn(1, 4)], [ct.TensorType(name="x", shape=(1, 4))],
                        folder / "fine.mlpackage", target="iOS16", fp16=True)
    package, _ = read_package(path)
    assert unconvertible_ops(package) == []
    assert why_not_convertible(package, str(path)) is None


class FractionalNearest(nn.Module):
    def forward(self, x):
        return nn.functional.interpolate(x, size=(8, 12), mode="nearest")


def test_nearest_upsampling_by_a_fractional_factor_is_refused(folder):
    """coremltools' backend would write bilinear interpolation there: other numbers than the package computes."""
    import coremltools as ct

    path = save_package(FractionalNearest(), [torch.randn(1, 2, 6, 6)], [ct.TensorType(name="x", shape=(1, 2, 6, 6))],
                        folder / "nearest.mlpackage", target="iOS16")
    package, _ = read_package(path)
    (found,) = unconvertible_ops(package)
    assert found[0] in ("upsample_nearest_neighbor", "resize_nearest_neighbor")
    message = _refusal(path)
    assert f"(output {found[1]!r}) scales by 1.33" in message and "whole factors only" in message


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_unreadable_weights_are_one_line(folder, tmp_path, damage):
    """(The package reader of mlsurgery.io checks weight offsets up front; the converter never crashes either.)"""
    import shutil

    import coremltools as ct

    source = folder / "weights.mlpackage"
    if not source.exists():
        save_package(nn.Linear(16, 8), [torch.randn(1, 16)], [ct.TensorType(name="x", shape=(1, 16))], source)
    path = shutil.copytree(source, tmp_path / "damaged.mlpackage")
    package, weights = read_package(path)  # read while whole: the damage then reaches the converter itself
    weight_file = path / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    if damage == "truncated":
        weight_file.write_bytes(weight_file.read_bytes()[:100])
    else:
        weight_file.unlink()
    with pytest.raises(ConversionError) as refused:
        to_neural_network(package, weights, source=str(path))
    message = str(refused.value)
    assert "\n" not in message and message.startswith(str(path)) and "cannot read this ML Program" in message
