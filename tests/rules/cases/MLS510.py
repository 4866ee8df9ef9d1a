"""MLS510 ml-program-to-neural-network (an info finding on every ML Program, never on other models)."""

from rules import specs


def bad_an_ml_program():
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "x", 1)
    specs.add_array_feature(model.description.output, "y", 1)
    model.specificationVersion = 6  # iOS 15: the first ML Programs
    model.mlProgram.version = 1
    model.mlProgram.functions["main"].opset = "CoreML5"
    return model


def good_another_model_type():
    model = bad_an_ml_program()
    model.identity.SetInParent()
    return model
