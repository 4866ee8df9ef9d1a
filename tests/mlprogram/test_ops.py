"""The op facts ``unconvertible_ops`` reads without coremltools are the installed coremltools' own."""

from __future__ import annotations

from mlsurgery.mlprogram.ops import ATTENTION, CLASSIFY, NN_BACKEND_OPS, has_neural_network_layer


def test_backend_ops_are_coremltools_registry():
    from coremltools.converters.mil.backend.nn.op_mapping import MIL_TO_NN_MAPPING_REGISTRY

    assert NN_BACKEND_OPS == frozenset(MIL_TO_NN_MAPPING_REGISTRY)


def test_ops_converted_before_the_backend_are_not_in_its_registry():
    """Each has its own handling in mlsurgery.mlprogram; the backend alone would refuse it."""
    for op_type in (CLASSIFY, ATTENTION, "constexpr_lut_to_dense", "constexpr_blockwise_shift_scale"):
        assert op_type not in NN_BACKEND_OPS
        assert has_neural_network_layer(op_type)
    assert not has_neural_network_layer("read_state")
    assert not has_neural_network_layer("quantize")


def test_unconvertible_ops_does_not_import_coremltools(tmp_path):
    """inspect calls it on every ML Program: it must stay as fast as reading the protobuf."""
    import subprocess
    import sys

    from conftest import ROOT

    script = (
        "import sys\n"
        "from mlsurgery._proto import model_pb2\n"
        "from mlsurgery.mlprogram.convert import unconvertible_ops\n"
        "spec = model_pb2().Model()\n"
        "spec.specificationVersion = 6\n"
        "spec.mlProgram.version = 1\n"
        "function = spec.mlProgram.functions['main']\n"
        "function.opset = 'CoreML6'\n"
        "block = function.block_specializations['CoreML6']\n"
        "operation = block.operations.add(type='read_state')\n"
        "operation.outputs.add(name='s')\n"
        "assert unconvertible_ops(spec) == [('read_state', 's')], unconvertible_ops(spec)\n"
        "assert 'coremltools' not in sys.modules, 'coremltools was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
