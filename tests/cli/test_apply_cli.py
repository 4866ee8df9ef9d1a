"""`mlsurgery apply` runs a recipe, prints each step and a summary, and fails in one located line;
`mlsurgery recipe schema` prints the JSON Schema."""

import json
import shutil

from conftest import FIXTURES, ROOT
from mlsurgery.io import load_spec
from mlsurgery.recipe import OPERATIONS

HANDS_TURI = ROOT / "recipes" / "hands-turi.yaml"


def _mnist_recipe(tmp_path, steps: str):
    shutil.copyfile(FIXTURES / "mnist_mlp.mlmodel", tmp_path / "mnist_mlp.mlmodel")
    path = tmp_path / "recipe.yaml"
    path.write_text("input: mnist_mlp.mlmodel\nsteps:\n" + steps, encoding="utf-8")
    return path


def test_apply_writes_every_save_and_prints_the_summary(run_cli, tmp_path):
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path)

    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["HandsEmpty.mlmodel", "HandsTuri.mlmodel"]
    assert "step 1 · widen" in result.stdout and "outputChannels 3 → 10" in result.stdout
    assert f"{HANDS_TURI}: 11 step(s), 2 model(s) written" in result.stdout
    summary = result.stdout.split("model(s) written")[1]
    assert "training-inputs" in summary and str(tmp_path / "HandsEmpty.mlmodel") in summary
    assert "not written" not in summary


def test_dry_run_prints_the_plan_and_verdicts_and_writes_nothing(run_cli, tmp_path):
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path / "out", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "out").exists()
    assert "step 9 · reinit" in result.stdout and "kaiming-uniform" in result.stdout
    assert "HandsTuri.mlmodel: valid: Core ML accepts this model" in result.stdout
    assert "dry run, 2 model(s) checked, nothing written" in result.stdout
    assert "(not written)" in result.stdout


def test_set_overrides_a_step_argument(run_cli, tmp_path):
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path, "--set", "steps.1.widen.num_classes=12",
                     "--set", "steps.1.widen.labels=null", "--set", "seed=7")

    assert result.exit_code == 0, result.stderr
    labels = load_spec(tmp_path / "HandsTuri.mlmodel").neuralNetworkClassifier.stringClassLabels.vector
    assert list(labels)[3:] == [f"user{i}" for i in range(9)]


def test_a_broken_recipe_is_one_line_exit_2_and_nothing_written(run_cli, tmp_path):
    path = _mnist_recipe(tmp_path, "  - make-updatable:\n      layer: [dense_3]\n  - save: {path: out/x.mlmodel}\n")

    result = run_cli("apply", path)

    assert result.exit_code == 2
    assert result.stderr == (f"mlsurgery: error: {path}:4: step 1 (make-updatable): unknown key 'layer' "
                             "(did you mean 'layers'?)\n")
    assert not (tmp_path / "out").exists()


def test_a_bad_set_is_one_line_exit_2(run_cli, tmp_path):
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path, "--set", "steps.1.widen.clases=12")

    assert result.exit_code == 2
    assert result.stderr == ("mlsurgery: error: --set steps.1.widen.clases=12: step 1 (widen): unknown key 'clases' "
                             "(did you mean 'num_classes'?)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_model_core_ml_would_reject_exits_1_with_its_findings(run_cli, tmp_path):
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path,
                     "--set", "steps.2.make-updatable.allow_blocked=true",
                     "--set", "steps.2.make-updatable.layers=[fullyconnected0, conv10, fire9/expand1x1]")

    assert result.exit_code == 1
    assert "fire9/concat" in result.stdout  # the finding, printed with its fix
    assert result.stderr.startswith(f"mlsurgery: error: {HANDS_TURI}:42: step 8 (save): ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_make_updatable_step_refuses_what_the_command_refuses(run_cli, tmp_path):
    # Like `mlsurgery make-updatable`, the step refuses a layer gradients cannot reach before any later step runs.
    result = run_cli("apply", HANDS_TURI, "--output-dir", tmp_path,
                     "--set", "steps.2.make-updatable.layers=[fullyconnected0, conv10, fire9/expand1x1]")

    assert result.exit_code == 1
    assert result.stderr.startswith(f"mlsurgery: error: {HANDS_TURI}:20: step 2 (make-updatable): cannot train "
                                    "'fire9/expand1x1' from the loss on 'labelProbability': Core ML does not "
                                    "backpropagate through 'fire9/concat' (concat)")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_missing_recipe_file(run_cli, tmp_path):
    result = run_cli("apply", tmp_path / "nope.yaml")

    assert result.exit_code == 2
    assert result.stderr == f"mlsurgery: error: {tmp_path / 'nope.yaml'}: no such recipe file\n"


def test_recipe_schema_prints_a_json_schema_naming_every_operation(run_cli):
    result = run_cli("recipe", "schema")

    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert [step["title"] for step in schema["properties"]["steps"]["items"]["oneOf"]] == list(OPERATIONS)
