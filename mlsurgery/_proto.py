"""Access to Core ML's protobuf message classes without importing the coremltools package.

``import coremltools`` costs seconds (it loads its converters, and torch when installed), while the generated
``*_pb2`` modules it ships load in tens of milliseconds. We locate coremltools' ``proto`` folder without
executing ``coremltools/__init__.py`` and load those modules under a private package name. Protobuf registers
the messages in its default pool, so the classes are the very same objects ``coremltools.proto`` exposes and
specs move freely between mlsurgery and coremltools in one process.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

_PACKAGE = "mlsurgery._coreml_proto"


def _proto_package() -> types.ModuleType:
    package = sys.modules.get(_PACKAGE)
    if package is not None:
        return package
    found = importlib.util.find_spec("coremltools")
    if found is None or not found.submodule_search_locations:
        raise ImportError("coremltools is not installed: pip install 'coremltools>=9,<10'")
    package = types.ModuleType(_PACKAGE)
    package.__path__ = [os.path.join(found.submodule_search_locations[0], "proto")]
    sys.modules[_PACKAGE] = package
    return package


def proto_module(name: str) -> types.ModuleType:
    """Return a generated module of Core ML's format, e.g. ``proto_module("Model_pb2")``."""
    _proto_package()
    return importlib.import_module(f"{_PACKAGE}.{name}")


def model_pb2() -> types.ModuleType:
    return proto_module("Model_pb2")


def nn_pb2() -> types.ModuleType:
    return proto_module("NeuralNetwork_pb2")


def feature_types_pb2() -> types.ModuleType:
    return proto_module("FeatureTypes_pb2")


def enum_name(enum, value: int) -> str:
    """The name of ``value`` in protobuf enum ``enum``, or the number itself: Core ML's enums are open (proto3),
    so a file may hold a value newer than this schema, or a corrupt one, and still parse."""
    try:
        return enum.Name(value)
    except ValueError:
        return str(value)


def mil_pb2() -> types.ModuleType:
    """An ML Program's messages (MIL.proto): functions, blocks, operations, values."""
    return proto_module("MIL_pb2")
