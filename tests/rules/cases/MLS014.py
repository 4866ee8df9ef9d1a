"""MLS014 image-color-space (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_missing_color_space():
    model = g.conv_network(image_input=True)
    model.description.input[0].type.imageType.colorSpace = 0
    return model


def rejects_grayscale_float16_before_spec_version_7():
    model = g.conv_network(version=6, image_input=True)
    model.description.input[0].type.imageType.colorSpace = 40  # GRAYSCALE_FLOAT16
    return model


def accepts_bgr():
    model = g.conv_network(image_input=True)
    model.description.input[0].type.imageType.colorSpace = 30  # BGR
    return model
