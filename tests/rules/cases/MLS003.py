"""MLS003 multi-function-description (InterfaceValidators.cpp validateModelDescription).

Upstream tests: InterfaceTests.cpp testMultiFunctionTopLevelFeatureDescriptionsMustBeEmpty, testMultiFunctionAllowed.
"""

from rules import general_specs as g


def _with_function(model):
    function = model.description.functions.add()
    function.name = "main"
    function.input.extend(model.description.input)
    function.output.extend(model.description.output)
    model.description.defaultFunctionName = "main"
    return model


def rejects_functions_next_to_top_level_inputs():
    return _with_function(g.plain_network(version=9))


def rejects_functions_on_a_neural_network():
    model = _with_function(g.plain_network(version=9))
    del model.description.input[:]
    del model.description.output[:]
    return model


def accepts_single_function_description():
    return g.plain_network(version=9)
