"""MLS481 vision-objects-outputs."""

from rules import model_specs

def bad_objects_print_naming_one_output():
    spec = model_specs.objects_print()
    del spec.visionFeaturePrint.objects.output[1]
    return spec


def good_objects_print_with_two_named_outputs():
    return model_specs.objects_print()
