"""What a NeuralNetwork cannot express is refused in one line naming the op and its output (exit code 2)."""

from __future__ import annotations

import numpy as np
import pytest

from mlpackages import save_package, save_program, torch

from mlsurgery.errors import ConversionError, EXIT_USAGE
from mlsurgery.mlprogram.convert import to_neural_network, unconvertible_ops
from mlsurgery.mlprogram.package import read_package

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
    package, weights = read_package(path)
    with pytest.raises(ConversionError) as refused:
        to_neural_network(package, weights, source=str(path))
    message = str(refused.value)
    assert "\n" not in message and message.startswith(str(path))
    assert refused.value.exit_code == EXIT_USAGE
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
