"""ML Program → NeuralNetwork: coremltools' MIL-proto reader and NeuralNetwork backend, joined, plus what they lack.

coremltools can read an ML Program back into its MIL representation
(``coremltools.converters.mil.frontend.milproto.load``) and can write a MIL program as a NeuralNetwork
(``mil_convert(..., convert_from="milinternal", convert_to="neuralnetwork")``). Between the two this module:

- expands fp16 constants and compressed weights (every ``constexpr_*`` op: fp16 cast, palettization, linear
  quantization, sparsity) into fp32 constants, and turns casts to fp16 into casts to fp32 (int16 / int8 into
  int32), so every layer of the result holds fp32 weights and can be made updatable;
- decomposes iOS 18's ``scaled_dot_product_attention`` into the ops it stands for;
- takes the image preprocessing coremltools writes as the first ops of an ML Program (``mul`` by the scale, then
  ``add`` of the per-channel bias) back into the NeuralNetwork's ``preprocessing`` scaler;
- takes the ``classify`` op out (the backend cannot write its dictionary output) and makes the result a
  ``neuralNetworkClassifier`` with the same labels and the same predicted-feature and probability names;
- runs a classifier's softmax head on rank-4 blobs (``head``), as cross-entropy training needs;
- gives the result the package's own description (input and output names, types, flexible shapes, metadata).

What it cannot express is refused before any work, from the protobuf alone (``scan``).

coremltools is imported only inside ``to_neural_network``: ``unconvertible_ops`` reads the protobuf alone.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..coreml import MIN_UPDATABLE_SPEC_VERSION, NETWORK_KINDS
from ..errors import ConversionError, MLSurgeryError
from .scan import scan


@dataclass
class Conversion:
    spec: object  # a Model_pb2.Model whose Type is neuralNetwork / neuralNetworkClassifier / neuralNetworkRegressor
    notes: list[str] = field(default_factory=list)  # one line each: what the conversion did


def unconvertible_ops(spec) -> list[tuple[str, str]]:
    """``(op type, first output name)`` of every op of ``spec``'s ML Program that no NeuralNetwork layer computes
    (or computes differently: nearest-neighbour upsampling by a fractional factor), in program order, nested
    blocks included; empty for a convertible program or a spec that is not an ML Program. Reads the protobuf only.
    """
    return [(found.op_type, found.output) for found in scan(spec)]


def why_not_convertible(spec, source: str) -> str | None:
    """The one line ``to_neural_network`` would refuse ``spec`` with before converting (several functions, state,
    an op with no NeuralNetwork layer), or ``None``; reads the protobuf only, for ``inspect``'s verdict."""
    try:
        _refuse_unconvertible(spec, source)
    except ConversionError as refused:
        return str(refused)
    return None


def to_neural_network(spec, weights_dir: Path | None, *, source: str, keep_fp16: bool = False) -> Conversion:
    """The NeuralNetwork equivalent of ML Program ``spec`` (the package's root spec; ``weights_dir`` its
    ``Data/com.apple.CoreML/weights`` folder, ``None`` when it has none).

    Weights become fp32; with ``keep_fp16``, a package that computes in fp16 keeps its layers' weights as fp16 (a
    frozen part: Core ML trains only fp32 layers, so such a model is made updatable with ``split``, which trains
    an fp32 head after it); a package without fp16 is unaffected. Raises ``ConversionError`` (one line naming the
    op and its output) for what a NeuralNetwork cannot express: an op with no layer (or whose layer computes
    something else), a stateful model, several functions.
    """
    kind = spec.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        result = copy.deepcopy(spec)
        return Conversion(result, [f"already a {kind} (specification version {spec.specificationVersion}); "
                                   "nothing to convert"])
    if kind != "mlProgram":
        raise ConversionError(f"{source}: is a {kind} model, not an ML Program; only ML Programs are converted")
    _refuse_unconvertible(spec, source)
    description = interface(spec)
    notes: list[str] = []
    with _quiet_coremltools():
        try:
            program = _load_program(spec, weights_dir, source)
            from . import _mil

            had_fp16 = _mil.expand_weights(program, notes)
            _mil.decompose_attention(program, notes)
            images = _mil.take_image_preprocessing(program, description)
            classifier = _mil.take_classify(program)
            _mil.set_input_types(program, description)
            network = _run_backend(program, source)
            if classifier is not None:
                classifier.probability_name = program.functions["main"].outputs[classifier.probability_output].name
            shapes = _mil.blob_shapes(program)
        except MLSurgeryError:
            raise
        except Exception as error:  # noqa: BLE001 (coremltools on a program it was not written for: any error)
            raise ConversionError(
                f"{source}: the conversion stopped ({type(error).__name__}: {_one_line(error)}); please report it "
                "with the package, or convert the source model with coremltools.convert(..., "
                "convert_to=\"neuralnetwork\")") from None
    from .assemble import assemble

    result = assemble(network, description, images=images, classifier=classifier, notes=notes)
    if classifier is not None:
        from .head import lift_classifier_head

        lift_classifier_head(result, shapes, notes)
    version = result.specificationVersion
    why = "iOS 13, the first that trains on device" if version == MIN_UPDATABLE_SPEC_VERSION else "the lowest for its layers"
    notes.append(f"specification version {version} ({why})")
    if keep_fp16 and had_fp16:
        from .assemble import store_weights_fp16

        store_weights_fp16(result, notes)
    return Conversion(result, notes)


def interface(spec):
    """The package's description with its one function's inputs, outputs and class names at the top level,
    where a NeuralNetwork has them (coremltools 8+ describes a multifunction package's functions separately,
    even when it keeps only one)."""
    description = type(spec.description)()
    description.CopyFrom(spec.description)
    if description.functions:
        (function,) = description.functions
        for name in ("input", "output", "state"):
            del getattr(description, name)[:]
            getattr(description, name).extend(getattr(function, name))
        description.predictedFeatureName = function.predictedFeatureName
        description.predictedProbabilitiesName = function.predictedProbabilitiesName
    del description.functions[:]
    description.defaultFunctionName = ""
    return description


@contextlib.contextmanager
def _quiet_coremltools():
    """coremltools' import-time warnings (untested torch / scikit-learn versions, no Core ML runtime on Linux)
    and its progress bars say nothing about the user's model: hold them back while it works for us."""
    logger = logging.getLogger("coremltools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _refuse_unconvertible(spec, source: str) -> None:
    functions = sorted(spec.mlProgram.functions)
    if len(functions) > 1:
        raise ConversionError(
            f"{source}: has {len(functions)} functions ({', '.join(functions)}); a NeuralNetwork holds one: save "
            "the function to convert as its own package (coremltools.utils.save_multifunction with one function) "
            "and convert that")
    states = [state for function in [spec.description, *spec.description.functions] for state in function.state]
    if states:
        state = states[0].name
        raise ConversionError(
            f"{source}: is stateful (state {state!r}); NeuralNetwork models have no state: export the model "
            "without ct.StateType inputs (e.g. pass the state as an input and return it as an output)")
    unconvertible = scan(spec)
    if unconvertible:
        first = unconvertible[0]
        more = f" (and {len(unconvertible) - 1} more)" if len(unconvertible) > 1 else ""
        raise ConversionError(f"{source}: op {first.op_type!r} (output {first.output!r}){more} {first.reason}")


def _load_program(spec, weights_dir: Path | None, source: str):
    """The ML Program as a coremltools MIL ``Program`` whose one function is named ``main``."""
    from coremltools.converters.mil.frontend.milproto.load import load

    try:
        program = load(spec, spec.specificationVersion, str(weights_dir) if weights_dir is not None else "")
    except (ValueError, KeyError, TypeError, NotImplementedError, RuntimeError) as error:
        weights = f" or its weights in {weights_dir}" if weights_dir is not None else ""
        raise ConversionError(f"{source}: coremltools cannot read this ML Program{weights} ({_one_line(error)}); "
                              "re-save it with coremltools 9") from None
    (name,) = program.functions
    if name != "main":
        program.functions["main"] = program.functions.pop(name)
    return program


def _run_backend(program, source: str):
    """coremltools' NeuralNetwork backend on ``program``: the network spec it writes (descriptions to be replaced)."""
    import coremltools as ct
    from coremltools.converters.mil.converter import mil_convert

    try:
        model = mil_convert(program, convert_from="milinternal", convert_to="neuralnetwork",
                            compute_units=ct.ComputeUnit.CPU_ONLY, skip_model_load=True)
    except (ValueError, NotImplementedError, TypeError, AssertionError, KeyError) as error:
        raise ConversionError(f"{source}: coremltools' NeuralNetwork backend refused the program "
                              f"({_one_line(error)}); convert the source model with "
                              "coremltools.convert(..., convert_to=\"neuralnetwork\")") from None
    return model.get_spec()


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:197] + "..."
