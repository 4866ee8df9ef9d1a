"""Checks of the Create ML vision and audio feature extractors (MLS480–MLS484).

Upstream: mlmodel/src/Validation/VisionFeaturePrintValidator.cpp, SoundAnalysisPreprocessingValidator.cpp and
AudioFeaturePrintValidator.cpp. These models are built into the OS; the spec only picks one and its version, so
the checks are about that choice and the shapes of the features around it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import Check, Problem, Rule, define_rule
from .other_models import UNCLAIMED_FEATURE, data_type_name, features_problem, model_check

_VALIDATION = "mlmodel/src/Validation/"
# VGGish preprocessing: 975 ms of 16 kHz mono audio in, a 96-frame × 64-band log-mel spectrogram out.
_VGGISH_INPUT_SHAPE = [15600]
_VGGISH_OUTPUT_SHAPE = [1, 96, 64]
_SCENE_VERSIONS = (1, 2)
_OBJECTS_VERSION = 1
_SOUND_VERSION = 1


VISION_PRINT_TYPE = define_rule(
    "MLS480", "vision-feature-print-type", "A vision feature print must choose scene or objects and a known version.",
    "visionFeaturePrint sets scene (version 1 or 2) or objects (version 1): \"Type for vision feature print "
    "not set\", \"Version for scene is invalid\".",
    "Set scene.version to 1 or 2 (or objects.version to 1).", _VALIDATION + "VisionFeaturePrintValidator.cpp")

VISION_OBJECTS_OUTPUTS = define_rule(
    "MLS481", "vision-objects-outputs", "An objects feature print must name its two outputs.",
    "objects.output lists the names of the two multi-array outputs: \"Two outputs for objects need to be "
    "provided\".",
    "List the two output names in objects.output.", _VALIDATION + "VisionFeaturePrintValidator.cpp")

SOUND_PREPROCESSING_TYPE = define_rule(
    "MLS482", "sound-preprocessing-type", "A sound analysis preprocessing model must choose its preprocessing.",
    "soundAnalysisPreprocessing must set vggish: \"Type for sound analysis preprocessing not set\".",
    "Set vggish.", _VALIDATION + "SoundAnalysisPreprocessingValidator.cpp")

VGGISH_ARRAYS = define_rule(
    "MLS483", "vggish-arrays", "VGGish preprocessing takes a [15600] FLOAT32 array and gives [1, 96, 64] FLOAT32.",
    "The input is 975 ms of 16 kHz audio (shape [15600]) and the output a 96 × 64 log-mel spectrogram (shape "
    "[1, 96, 64]), both FLOAT32: \"Incorrect input shape, should be 1-dimension, of length: 15600\".",
    "Declare the input as FLOAT32 [15600] and the output as FLOAT32 [1, 96, 64].",
    _VALIDATION + "SoundAnalysisPreprocessingValidator.cpp")

AUDIO_PRINT_TYPE = define_rule(
    "MLS484", "audio-feature-print-type", "An audio feature print must choose sound and a known version.",
    "audioFeaturePrint sets sound with a version other than SOUND_VERSION_INVALID (0): \"Type for audio feature "
    "print not set\", \"Version for sound is invalid\".",
    "Set sound.version to 1.", _VALIDATION + "AudioFeaturePrintValidator.cpp")

RULES: list[Rule] = [VISION_PRINT_TYPE, VISION_OBJECTS_OUTPUTS, SOUND_PREPROCESSING_TYPE, VGGISH_ARRAYS,
                     AUDIO_PRINT_TYPE]


@model_check
def vision_feature_print_problems(spec) -> Iterator[Problem]:
    """``validate<visionFeaturePrint>``: one image in, then the print type, its version and outputs."""
    description = spec.description
    problem = features_problem(description.input, ("imageType",), "visionFeaturePrint", "input", limit=1)
    if problem is not None:
        yield problem
        return
    printer = spec.visionFeaturePrint
    kind = printer.WhichOneof("VisionFeaturePrintType")
    if kind is None:
        yield (VISION_PRINT_TYPE, "the vision feature print sets neither scene nor objects; set one")
        return
    version = getattr(printer, kind).version
    if kind == "scene":
        if version not in _SCENE_VERSIONS:
            yield (VISION_PRINT_TYPE, f"scene version {version} is not valid; use 1 or 2")
            return
        problem = features_problem(description.output, ("multiArrayType",), "visionFeaturePrint", "output", limit=1)
        if problem is not None:
            yield problem
        return
    if version != _OBJECTS_VERSION:
        yield (VISION_PRINT_TYPE, f"objects version {version} is not valid; use 1")
        return
    names = list(printer.objects.output)
    if len(names) != 2:
        yield (VISION_OBJECTS_OUTPUTS, f"objects.output lists {len(names)} names; list the two outputs")
        return
    problem = features_problem(description.output, ("multiArrayType",), "visionFeaturePrint", "output", limit=2)
    if problem is not None:
        yield problem
        return
    unlisted = next((output for output in description.output if output.name not in names), None)
    if unlisted is not None:
        yield (UNCLAIMED_FEATURE, f"output '{unlisted.name}' is not listed in objects.output ({names}); list it "
                                  "or rename the output")


@model_check
def sound_preprocessing_problems(spec) -> Iterator[Problem]:
    """``validate<soundAnalysisPreprocessing>``: one array in and out, then VGGish's shapes and data types."""
    description = spec.description
    problem = (features_problem(description.input, ("multiArrayType",), "soundAnalysisPreprocessing", "input",
                                limit=1)
               or features_problem(description.output, ("multiArrayType",), "soundAnalysisPreprocessing", "output",
                                   limit=1))
    if problem is not None:
        yield problem
        return
    if spec.soundAnalysisPreprocessing.WhichOneof("SoundAnalysisPreprocessingType") is None:
        yield (SOUND_PREPROCESSING_TYPE, "the sound analysis preprocessing sets no type; set vggish")
        return
    for feature, shape in ((description.input[0], _VGGISH_INPUT_SHAPE), (description.output[0], _VGGISH_OUTPUT_SHAPE)):
        array = feature.type.multiArrayType
        if list(array.shape) != shape:
            yield (VGGISH_ARRAYS, f"'{feature.name}' has shape {list(array.shape)}; VGGish preprocessing needs {shape}")
            return
        if array.dataType != type(array).FLOAT32:
            yield (VGGISH_ARRAYS, f"'{feature.name}' has dataType {data_type_name(array)}; VGGish preprocessing "
                                  "needs FLOAT32")
            return


@model_check
def audio_feature_print_problems(spec) -> Iterator[Problem]:
    """``validate<audioFeaturePrint>``: one array in, then the print type and version; version 1: one array out."""
    description = spec.description
    problem = features_problem(description.input, ("multiArrayType",), "audioFeaturePrint", "input", limit=1)
    if problem is not None:
        yield problem
        return
    printer = spec.audioFeaturePrint
    if printer.WhichOneof("AudioFeaturePrintType") is None:
        yield (AUDIO_PRINT_TYPE, "the audio feature print sets no type; set sound")
        return
    version = printer.sound.version
    if version == 0:
        yield (AUDIO_PRINT_TYPE, "sound version is SOUND_VERSION_INVALID (0); use 1")
    elif version == _SOUND_VERSION:
        # Only version 1 restricts the outputs; later versions pass unchecked.
        problem = features_problem(description.output, ("multiArrayType",), "audioFeaturePrint", "output", limit=1)
        if problem is not None:
            yield problem


CHECKS: dict[str, Check] = {
    "visionFeaturePrint": vision_feature_print_problems,
    "soundAnalysisPreprocessing": sound_preprocessing_problems,
    "audioFeaturePrint": audio_feature_print_problems,
}
