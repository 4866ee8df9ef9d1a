"""mlsurgery.ci_report: validation results as GitHub workflow annotations and as a SARIF 2.1.0 log."""

from rules import specs

from mlsurgery.ci_report import github_annotations, sarif_log
from mlsurgery.rules import ALL_RULES
from mlsurgery.validate import FileResult, validate_spec


def test_github_annotations_escape_workflow_command_syntax():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("epochs")
    results = [FileResult("dir,with:odd%chars.mlmodel", validate_spec(model)),
               FileResult("gone.mlmodel", None, "gone.mlmodel: no such file")]
    lines = github_annotations(results)
    assert lines[0].startswith("::error file=dir%2Cwith%3Aodd%25chars.mlmodel,title=MLS212 epochs-missing::")
    assert lines[0].endswith("[Core ML reports this]")
    assert lines[-1] == "::error file=gone.mlmodel,title=cannot load model::gone.mlmodel: no such file"


def test_sarif_log_lists_rules_results_and_load_failures():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("epochs")
    log = sarif_log([FileResult("a.mlmodel", validate_spec(model)), FileResult("b.mlmodel", None, "b: corrupt")])
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [rule.code for rule in ALL_RULES]
    result = run["results"][0]
    assert result["ruleId"] == "MLS212" and result["level"] == "error" and result["properties"]["coremlFirst"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "MLS212"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.mlmodel"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "b: corrupt"
