"""MLS480 vision-feature-print-type."""

from rules import model_specs

def bad_no_print_type():
    spec = model_specs.scene_print()
    spec.visionFeaturePrint.ClearField("scene")
    spec.visionFeaturePrint.SetInParent()
    return spec


def bad_scene_version_invalid():
    spec = model_specs.scene_print()
    spec.visionFeaturePrint.scene.version = 0
    return spec


def bad_unknown_scene_version():
    spec = model_specs.scene_print()
    spec.visionFeaturePrint.scene.version = 3
    return spec


def bad_unknown_objects_version():
    spec = model_specs.objects_print()
    spec.visionFeaturePrint.objects.version = 2
    return spec


def good_scene_version_2():
    spec = model_specs.scene_print()
    spec.visionFeaturePrint.scene.version = 2
    return spec
