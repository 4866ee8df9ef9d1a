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
