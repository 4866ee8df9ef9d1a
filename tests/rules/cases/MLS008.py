"""MLS008 state-feature-placement (InterfaceValidators.cpp validateFeatureDescription).

Upstream test: InterfaceTests.cpp testStateFeatureDescriptionInInputs (a state among the inputs is tolerated).
"""

from rules import general_specs as g


def _state(features, name="counter"):
    feature = features.add()
    feature.name = name
    array = feature.type.stateType.arrayType
    array.dataType = g.FLOAT16
    array.shape.append(2)
    return feature


def rejects_state_declared_as_output():
    model = g.plain_network(version=9)
    _state(model.description.output)
    return model


def rejects_array_declared_as_state():
    model = g.plain_network(version=9)
    g.array_feature(model.description.state, "not_a_state", [2])
    return model


def accepts_state_among_inputs():
    model = g.plain_network(version=9)
    _state(model.description.input)
    return model
