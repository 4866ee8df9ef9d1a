"""MLS484 audio-feature-print-type."""

from rules import model_specs

def bad_no_print_type():
    spec = model_specs.audio_print()
    spec.audioFeaturePrint.ClearField("sound")
    spec.audioFeaturePrint.SetInParent()
    return spec


def bad_sound_version_invalid():
    spec = model_specs.audio_print()
    spec.audioFeaturePrint.sound.version = 0
    return spec


def good_later_versions_leave_the_outputs_unchecked():
    spec = model_specs.audio_print()
    spec.audioFeaturePrint.sound.version = 2
    model_specs.feature(spec.description.output, "extra", "stringType")
    return spec
