"""README's ML Program flow, run line by line as README states it: a PyTorch classifier converted with
coremltools' defaults (an .mlpackage) → convert → make-updatable → train → predict. Accuracy is measured against
scikit-learn's digit labels (the independent reference), before and after training."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import numpy as np

from conftest import ROOT


def readme_flow() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test: mlpackage-flow -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert block, "README lost its ML Program flow"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def _accuracy(model_path, data) -> float:
    from mlsurgery.engine.models import build_model
    from mlsurgery.io import load_spec

    model = build_model(load_spec(model_path))
    predicted = [model.predict({"x": row[None, :]})["classLabel"] for row in data["x"]]
    return float(np.mean(np.asarray(predicted) == data["classLabel"]))


def test_readme_flow_from_pytorch_to_a_trained_model(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = readme_flow()
    assert [line.split()[:2] for line in lines] == [["python", "examples/pytorch_digits.py"], ["mlsurgery", "convert"],
                                                   ["mlsurgery", "make-updatable"], ["mlsurgery", "train"],
                                                   ["mlsurgery", "predict"]]
    outputs = {}
    for line in lines:
        words = shlex.split(line)
        if words[0] == "python":
            subprocess.run([sys.executable, str(ROOT / words[1]), *words[2:]], check=True, cwd=tmp_path,
                           capture_output=True)
            assert (tmp_path / "Digits.mlpackage" / "Manifest.json").is_file()
            continue
        result = run_cli(*words[1:])
        assert result.exit_code == 0, (line, result.stderr)
        outputs[words[1]] = result
    # What the package holds is an ML Program, as coremltools' defaults make it.
    assert "mlProgram" in run_cli("inspect", "Digits.mlpackage").stdout
    test = dict(np.load(tmp_path / "digits_test.npz"))
    before, after = _accuracy("DigitsUpdatable.mlmodel", test), _accuracy("DigitsTrained.mlmodel", test)
    assert before < 0.2 < 0.6 < after, (before, after)  # ten classes: chance is 0.1
    # predict prints the class the trained model gives the example; the engine agrees with itself across paths.
    example = np.load(tmp_path / "example.npy")
    from mlsurgery.engine.models import build_model
    from mlsurgery.io import load_spec

    label = build_model(load_spec("DigitsTrained.mlmodel")).predict({"x": example})["classLabel"]
    assert outputs["predict"].stdout.startswith(f"classLabel  {label}")


def test_make_updatable_takes_the_package_directly_and_says_it_converted(tmp_path, run_cli):
    subprocess.run([sys.executable, str(ROOT / "examples" / "pytorch_digits.py"), str(tmp_path)], check=True,
                   capture_output=True)
    output = tmp_path / "DigitsUpdatable.mlmodel"
    result = run_cli("make-updatable", tmp_path / "Digits.mlpackage", "--layers", "auto", "--fix", "-o", output)
    assert result.exit_code == 0, result.stderr
    assert "ML Program converted to a NeuralNetwork" in result.stdout.replace("\n", " ").replace("│", "")
    from mlsurgery.io import load_spec
    from mlsurgery.validate import validate_spec

    spec = load_spec(output)
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier" and spec.isUpdatable
    assert validate_spec(spec).valid
