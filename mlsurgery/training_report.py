"""The training report: one self-contained HTML file (``train --report``, ``tune --report``).

It shows the loss per epoch (the last mini-batch's, as Core ML reports it, and the epoch's mean), the validation
loss and accuracy, the confusion matrices (or regression errors) before and after training, the parameters used
and a summary of the data. Charts are SVG drawn by matplotlib's SVG backend and inlined, text kept as text; the
page loads nothing at view time (no script, no font, no stylesheet from the network).

matplotlib is imported only here, and only when a report is written: every other command starts without it.
"""

from __future__ import annotations

import html
import importlib.util
import io
from dataclasses import dataclass, field
from pathlib import Path

from .engine.errors import EngineUnavailableError
from .errors import UsageError

INSTALL_HINT = "pip install 'mlsurgery[train]'"
# Confusion matrices with more classes are drawn without a count in each cell (they would not be readable).
MAX_ANNOTATED_CLASSES = 20
LINE_COLOURS = {"loss": "#1f77b4", "mean_loss": "#9ecae1", "validation_loss": "#d62728",
                "validation_accuracy": "#2ca02c"}


@dataclass
class RunReport:
    """What a report shows; ``before`` / ``after`` are ``evaluation.OutputEvaluation`` lists."""

    title: str
    model: str
    parameters: dict
    data: list[tuple[str, str]]  # (what, value) rows of the data summary
    history: list  # engine.training.EpochRecord
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    evaluated_on: str = ""
    trials: list = field(default_factory=list)  # tuning.Trial, best first (tune only)


def check_report_path(path, *inputs) -> Path:
    """Refuse, before any training, a report path that cannot be written (or is one of ``inputs``) or a missing
    matplotlib."""
    from .io import check_output_path

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report {path}: the report is an HTML file; end its name in .html")
    for source in inputs or (None,):
        check_output_path(path, source=source)
    if importlib.util.find_spec("matplotlib") is None:
        raise EngineUnavailableError(f"--report draws its charts with matplotlib, which is not installed: "
                                     f"{INSTALL_HINT}")
    return path


# ---- building the report from a run ---------------------------------------------------------------------------

def _evaluations(spec_before, spec_after, data):
    """(before, after, dataset) measured on ``data``; when no output of the model can be compared with the data
    (the loss reads an inner blob, not an output), empty lists and None: the report says so instead."""
    from .engine.errors import InputError
    from .evaluation import evaluate_dataset, load_evaluation_data

    try:
        dataset = load_evaluation_data(spec_before, data)
        return evaluate_dataset(spec_before, dataset), evaluate_dataset(spec_after, dataset), dataset
    except InputError:
        return [], [], None


def _label_counts(evaluations) -> str:
    classification = next((e for e in evaluations if e.task == "classification"), None)
    if classification is None:
        return ""
    rows = classification.metrics.per_class
    shown = ", ".join(f"{row.label}: {row.support}" for row in rows[:30] if row.support)
    return shown + (", …" if len(rows) > 30 else "")


def _data_rows(data, examples, batches, validation, evaluation_set, evaluations) -> list[tuple[str, str]]:
    rows = [("training data", f"{data}: {examples} examples, {batches} mini-batches per epoch")]
    if validation is not None:
        rows.append(("validation data", str(validation)))
    if evaluation_set is None:
        rows.append(("measured on", "nothing: no output of the model has true values in the data"))
        return rows
    rows.append(("measured on", f"{evaluation_set.source}: {evaluation_set.count} examples"))
    for name, values in evaluation_set.features.items():
        shape = getattr(values, "shape", None)
        rows.append((f"feature {name}", f"array {list(shape[1:])}" if shape is not None else
                     f"{len(values)} values of type {type(values[0]).__name__ if len(values) else '—'}"))
    counts = _label_counts(evaluations)
    if counts:
        rows.append(("examples per class", counts))
    return rows


def write_train_report(path, model_path, data, validation, result) -> Path:
    """``train --report``: ``result`` is the trainer's ``TrainResult``; the confusion matrices are measured on the
    validation data (the training data without it), before and after training."""
    from .io import load_spec

    measured_on = validation if validation is not None else data
    before, after, dataset = _evaluations(load_spec(model_path), result.spec, measured_on)
    report = RunReport(f"Training {Path(str(model_path)).name}", str(model_path), result.parameters.to_dict(),
                       _data_rows(data, result.examples, result.batches_per_epoch, validation, dataset, after),
                       result.history, before, after, str(measured_on))
    return write_report(report, path)


def write_tune_report(path, model_path, data, validation, outcome) -> Path:
    """``tune --report``: the best trial trained once more (the same run) to measure the model it gives."""
    from dataclasses import replace

    from .tuning import train_run

    result = outcome.tune
    best = result.best
    parameters = result.parameters
    after_spec = outcome.spec
    if best is not None:
        parameters = replace(parameters, learning_rate=best.learning_rate, mini_batch_size=best.mini_batch_size,
                             epochs=best.epochs)
        after_spec = train_run(outcome.spec, outcome.training, parameters, None).spec
    before, after, dataset = _evaluations(outcome.spec, after_spec, validation)
    batches = -(-result.examples // parameters.mini_batch_size)
    report = RunReport(f"Tuning {Path(str(model_path)).name}", str(model_path), parameters.to_dict(),
                       _data_rows(data, result.examples, batches, validation, dataset, after),
                       best.history if best else [], before, after if best else [], str(validation), result.trials)
    return write_report(report, path)


# ---- rendering ------------------------------------------------------------------------------------------------

def write_report(report: RunReport, path) -> Path:
    from .io import write_bytes_atomically

    path = Path(path)
    write_bytes_atomically(render_report(report).encode("utf-8"), path)
    return path


def render_report(report: RunReport) -> str:
    sections = [f"<h1>{_e(report.title)}</h1>", f"<p class=model>{_e(report.model)}</p>"]
    sections.append(_summary(report))
    if report.history:
        sections.append("<h2>Loss per epoch</h2>" + _figure("loss", _loss_chart(report.history)))
        if any(r.validation_accuracy is not None for r in report.history):
            sections.append("<h2>Validation accuracy</h2>" + _figure("accuracy", _accuracy_chart(report.history)))
    if report.trials:
        sections.append("<h2>Trials</h2>" + _figure("trials", _trials_chart(report.trials)) +
                        _trials_table(report.trials))
    sections.append(_before_after(report))
    sections.append("<h2>Parameters</h2>" + _table(["parameter", "value"],
                                                   [(k, _value(v)) for k, v in report.parameters.items()]))
    sections.append("<h2>Data</h2>" + _table(["", ""], report.data))
    if report.history:
        sections.append("<h2>Epochs</h2>" + _history_table(report.history))
    return PAGE.format(title=_e(report.title), body="\n".join(sections))


def _summary(report: RunReport) -> str:
    parts = []
    if report.history:
        last = report.history[-1]
        parts.append(f"{len(report.history)} epochs, last loss {last.loss:.4g} (mean {last.mean_loss:.4g})")
        if last.validation_loss is not None:
            parts.append(f"validation loss {last.validation_loss:.4g}")
    for before, after in zip(report.before, report.after):
        if before.task == "classification":
            parts.append(f"{_e(before.output)}: accuracy {100 * before.metrics.accuracy:.1f} % → "
                         f"{100 * after.metrics.accuracy:.1f} %")
        else:
            parts.append(f"{_e(before.output)}: MSE {before.metrics.mse:.4g} → {after.metrics.mse:.4g}")
    return f"<p class=summary data-summary>{'; '.join(parts)}</p>" if parts else ""


def _before_after(report: RunReport) -> str:
    if not report.before:
        return ""
    blocks = [f"<h2>Before and after training</h2><p>measured on {_e(report.evaluated_on)}</p>"]
    for index, before in enumerate(report.before):
        after = report.after[index] if index < len(report.after) else None
        if before.task == "classification":
            charts = [_figure(f"confusion-before-{index}", _confusion_chart(before.metrics, "before training"))]
            if after is not None:
                charts.append(_figure(f"confusion-after-{index}", _confusion_chart(after.metrics, "after training")))
            blocks.append(f"<h3>{_e(before.output)}: confusion matrices (rows: true class, columns: predicted)"
                          f"</h3><div class=pair>{''.join(charts)}</div>")
            rows = [("accuracy", f"{before.metrics.accuracy:.4f}", f"{after.metrics.accuracy:.4f}" if after else "")]
            rows += [(f"top-{k}", f"{v:.4f}", f"{after.metrics.top_k.get(k, 0):.4f}" if after else "")
                     for k, v in before.metrics.top_k.items()]
            rows.append(("macro F1", f"{before.metrics.macro_f1:.4f}", f"{after.metrics.macro_f1:.4f}" if after
                         else ""))
        else:
            rows = [(name, f"{getattr(before.metrics, name):.6g}",
                     f"{getattr(after.metrics, name):.6g}" if after else "") for name in ("mse", "mae",
                                                                                          "largest_error")]
            blocks.append(f"<h3>{_e(before.output)}: errors</h3>")
        blocks.append(_table(["metric", "before", "after"], rows))
    return "\n".join(blocks)


def _history_table(history) -> str:
    rows = [(str(r.epoch), f"{r.loss:.6g}", f"{r.mean_loss:.6g}", _value(r.validation_loss),
             _value(r.validation_accuracy)) for r in history]
    return _table(["epoch", "loss (last mini-batch)", "mean loss", "validation loss", "validation accuracy"], rows)


def _trials_table(trials) -> str:
    rows = [(str(rank), f"{t.learning_rate:g}", str(t.mini_batch_size), str(t.epochs),
             "diverged" if t.diverged else _value(t.validation_loss),
             "" if t.diverged else _value(t.validation_accuracy), "the model's defaults" if t.default else "")
            for rank, t in enumerate(trials, start=1)]
    return _table(["#", "learningRate", "miniBatchSize", "epochs", "validation loss", "validation accuracy", ""], rows)


def _table(header: list[str], rows) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, svg: str) -> str:
    return f'<figure data-chart="{_e(name)}">{svg}</figure>'


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


# ---- charts (matplotlib, SVG) ---------------------------------------------------------------------------------

def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure) -> str:
    """The figure as an inline ``<svg>`` element: text kept as text, no XML prologue, ids fixed by a salt so the
    same run gives the same bytes."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mlsurgery"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _loss_chart(history) -> str:
    figure = _new_figure(7, 3.6)
    axes = figure.add_subplot()
    epochs = [r.epoch for r in history]
    axes.plot(epochs, [r.loss for r in history], marker="o", color=LINE_COLOURS["loss"],
              label="loss (last mini-batch, as Core ML reports it)")
    axes.plot(epochs, [r.mean_loss for r in history], marker=".", linestyle="--", color=LINE_COLOURS["mean_loss"],
              label="mean loss of the epoch")
    if any(r.validation_loss is not None for r in history):
        axes.plot(epochs, [r.validation_loss for r in history], marker="s", color=LINE_COLOURS["validation_loss"],
                  label="validation loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    axes.legend()
    return _svg(figure)


def _accuracy_chart(history) -> str:
    figure = _new_figure(7, 3)
    axes = figure.add_subplot()
    axes.plot([r.epoch for r in history], [100 * (r.validation_accuracy or 0) for r in history], marker="s",
              color=LINE_COLOURS["validation_accuracy"], label="validation accuracy")
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy (%)")
    axes.set_ylim(0, 100)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    return _svg(figure)


def _trials_chart(trials) -> str:
    """Validation loss against the learning rate, one line per (mini-batch size, epochs); diverged runs as ×."""
    figure = _new_figure(7, 3.6)
    axes = figure.add_subplot()
    groups: dict[tuple[int, int], list] = {}
    for trial in trials:
        groups.setdefault((trial.mini_batch_size, trial.epochs), []).append(trial)
    for (batch, epochs), members in sorted(groups.items()):
        members = sorted(members, key=lambda t: t.learning_rate)
        fine = [t for t in members if not t.diverged]
        line = axes.plot([t.learning_rate for t in fine], [t.validation_loss for t in fine], marker="o",
                         label=f"miniBatchSize {batch}, epochs {epochs}")
        broken = [t for t in members if t.diverged]
        if broken and fine:
            top = max(t.validation_loss for t in fine)
            axes.plot([t.learning_rate for t in broken], [top] * len(broken), linestyle="none", marker="x",
                      color=line[0].get_color())
    axes.set_xscale("log")
    axes.set_xlabel("learningRate")
    axes.set_ylabel("validation loss")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return _svg(figure)


def _confusion_chart(metrics, title: str) -> str:
    import numpy as np

    confusion = np.asarray(metrics.confusion)
    count = len(metrics.classes)
    side = min(4.6, 2.2 + 0.25 * count)
    figure = _new_figure(side + 0.8, side)
    axes = figure.add_subplot()
    # pcolormesh draws vector cells (imshow would embed a bitmap in the SVG).
    mesh = axes.pcolormesh(confusion, cmap="Blues", edgecolors="white", linewidth=0.5)
    axes.invert_yaxis()
    axes.set_aspect("equal")
    ticks = np.arange(count) + 0.5
    labels = [str(label) for label in metrics.classes]
    axes.set_xticks(ticks, labels, rotation=90 if count > 10 else 0)
    axes.set_yticks(ticks, labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{title}: accuracy {100 * metrics.accuracy:.1f} %")
    if count <= MAX_ANNOTATED_CLASSES:
        high = confusion.max() if confusion.size else 0
        for row in range(count):
            for column in range(count):
                if confusion[row, column]:
                    axes.text(column + 0.5, row + 0.5, str(confusion[row, column]), ha="center", va="center",
                              fontsize=7, color="white" if confusion[row, column] > high / 2 else "black")
    scale = figure.colorbar(mesh, ax=axes, shrink=0.8)
    scale.solids.set_rasterized(False)  # matplotlib rasterizes long colour bars; keep the SVG free of bitmaps
    return _svg(figure)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }}
h1 {{ margin-bottom: 0.1em; }}
.model {{ color: #666; margin-top: 0; font-family: monospace; }}
.summary {{ font-size: 1.1em; background: #f3f6fa; padding: 0.6em 0.9em; border-radius: 4px; }}
figure {{ margin: 0.5em 0; }}
figure svg {{ max-width: 100%; height: auto; }}
.pair {{ display: flex; flex-wrap: wrap; gap: 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }}
th {{ background: #f6f6f6; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
