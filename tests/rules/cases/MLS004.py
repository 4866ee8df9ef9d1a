"""MLS004 no-inputs (Validators.hpp validateFeatureDescriptions; Model.cpp modelTypeAllowsEmptyInput)."""

from rules import general_specs as g


def _input_free_network(version):
    """A network whose only layer is a loadConstant, so it needs no input."""
    model = g.plain_network(version=version)
    del model.description.input[:]
    network = model.neuralNetwork
    del network.layers[:]
    constant = g.add_layer(network, "constant", [], ["y"])
    constant.loadConstant.shape.extend([3, 1, 1])
    constant.loadConstant.data.floatValue.extend([1.0, 2.0, 3.0])
    return model


def rejects_no_inputs_before_spec_version_9():
    return _input_free_network(version=8)


def accepts_no_inputs_from_spec_version_9():
    return _input_free_network(version=9)
