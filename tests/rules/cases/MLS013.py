"""MLS013 image-size (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_zero_width():
    model = g.conv_network(image_input=True)
    model.description.input[0].type.imageType.width = 0
    return model


def rejects_default_size_not_among_enumerated_sizes():
    model = g.conv_network(version=3, image_input=True)
    size = model.description.input[0].type.imageType.enumeratedSizes.sizes.add()
    size.width, size.height = 16, 16
    return model


def accepts_fixed_size():
    return g.conv_network(image_input=True)


def accepts_size_taken_from_enumerated_sizes():
    model = g.conv_network(version=3, image_input=True)
    image = model.description.input[0].type.imageType
    image.width = image.height = 0
    size = image.enumeratedSizes.sizes.add()
    size.width, size.height = 8, 8
    return model
