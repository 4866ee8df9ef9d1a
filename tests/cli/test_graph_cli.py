"""`mlsurgery graph`: writes .html or .svg atomically, refuses anything else in one line."""

from conftest import FIXTURES


def test_writes_html_and_svg(run_cli, tmp_path):
    for name in ("model.html", "model.svg"):
        result = run_cli("graph", FIXTURES / "pipeline.mlmodel", "-o", tmp_path / name)
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "model.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    assert "<svg" in (tmp_path / "model.svg").read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.html", "model.svg"]


def test_other_suffix_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("graph", FIXTURES / "pipeline.mlmodel", "-o", tmp_path / "model.png")
    assert result.exit_code == 2 and "written as .html or .svg" in result.stderr
    assert result.stderr.count("\n") == 1


def test_output_is_required_and_the_input_is_never_overwritten(run_cli, fixture_copy):
    model = fixture_copy("regressor.mlmodel")
    assert run_cli("graph", model).exit_code == 2
    result = run_cli("graph", model, "-o", model)
    assert result.exit_code == 2 and "output is the input model" in result.stderr


def test_missing_model_is_exit_2(run_cli, tmp_path):
    result = run_cli("graph", tmp_path / "nope.mlmodel", "-o", tmp_path / "x.html")
    assert result.exit_code == 2 and "no such file" in result.stderr
