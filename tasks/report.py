"""The study's report as Markdown, its sentences chosen by this run's numbers."""

from __future__ import annotations

import math

import pandas as pd

from tasks.compare import Comparison, threshold_column
from tasks.evaluate import ACCURACY_THRESHOLDS, Evaluation
from tasks.parameters import StudyParameters, command_line
from tasks.variants import VARIANTS

SUMMARY_COLUMNS = {
    "variant": "Variant",
    "train_accuracy": "Train acc.",
    "val_accuracy": "Val. acc.",
    "test_accuracy": "Test acc.",
    "train_loss": "Train loss",
    "val_loss": "Val. loss",
    "test_loss": "Test loss",
    **{threshold_column(t): f"Epochs to {t:.2f}" for t in ACCURACY_THRESHOLDS},
    "gradient_ratio_epoch_1": "First/last hidden gradient, epoch 1",
    "diverged_at_epoch": "Diverged at epoch",
}


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; missing values read as an em dash."""

    def cell(value: object) -> str:
        if value is None or value is pd.NA:
            return "—"
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, float):
            return f"{value:.4f}" if 1e-2 <= abs(value) < 1e4 else f"{value:.3g}"
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(cell(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def epochs_phrase(epoch: object, threshold: float, epochs: int) -> str:
    if epoch is None or epoch is pd.NA:
        return f"never reached {threshold:.2f} validation accuracy in {epochs} epochs"
    return f"reached {threshold:.2f} validation accuracy at epoch {int(epoch)}"


def findings(summary: pd.DataFrame, params: StudyParameters) -> list[str]:
    """One sentence per comparison the study makes, worded by the numbers."""
    rows = summary.set_index("variant")
    chance = 1 / params.data.classes
    epochs = params.training.epochs
    sentences = []

    for variant, row in rows.iterrows():
        accuracy = row["test_accuracy"]
        if row["diverged_at_epoch"] is not pd.NA:
            sentences.append(
                f"**{VARIANTS[variant].title}** diverged: its training loss stopped "
                f"being a finite number at epoch {row['diverged_at_epoch']}, so "
                "training stopped there and its test figures are meaningless "
                f"(learning rate {params.training.learning_rate} is too high for it)."
            )
            continue
        if accuracy < chance + 0.15:
            verdict = "stayed near chance: it did not learn the spirals"
        elif accuracy < 0.9:
            verdict = "learned part of the spirals"
        else:
            verdict = "learned the spirals"
        reached = "; it " + epochs_phrase(row[threshold_column(0.95)], 0.95, epochs)
        sentences.append(
            f"**{VARIANTS[variant].title}** {verdict} (test accuracy "
            f"{accuracy:.3f} against chance {chance:.3f}){reached}."
        )

    pairs = [
        ("sigmoid", "relu", "replacing sigmoid by ReLU"),
        ("relu", "relu-batchnorm", "adding BatchNormalization"),
        ("relu-batchnorm", "relu-batchnorm-dropout", "adding Dropout"),
    ]
    for before, after, change in pairs:
        if before not in rows.index or after not in rows.index:
            continue
        if rows.loc[[before, after], "diverged_at_epoch"].notna().any():
            continue
        delta = rows.loc[after, "test_accuracy"] - rows.loc[before, "test_accuracy"]
        direction = "raised" if delta > 0 else "lowered" if delta < 0 else "left"
        sentence = (
            f"In this run, {change} {direction} test accuracy "
            f"{'unchanged' if delta == 0 else f'by {abs(delta):.3f}'} "
            f"({rows.loc[before, 'test_accuracy']:.3f} → "
            f"{rows.loc[after, 'test_accuracy']:.3f})"
        )
        first, second = (
            rows.loc[before, threshold_column(0.95)],
            rows.loc[after, threshold_column(0.95)],
        )
        if first is not pd.NA and second is not pd.NA:
            speed = (
                "sooner"
                if second < first
                else "later"
                if second > first
                else "at the same epoch"
            )
            sentence += (
                f", and 0.95 validation accuracy came {speed} "
                f"(epoch {int(first)} → {int(second)})"
            )
        sentences.append(sentence + ".")

    sentences.append(
        "These are single-run figures: differences of a few thousandths in "
        "accuracy or a few epochs are within what another seed could change."
    )
    return sentences


def gradient_sentence(variant: str, ratio: float, when: str) -> str:
    """How the first hidden layer's gradient compares with the last one's."""
    title = VARIANTS[variant].title
    if not math.isfinite(ratio) or ratio <= 0:
        return f"{title}: no finite gradient ratio {when}."
    orders = abs(math.log10(ratio))
    if ratio < 0.1:
        return (
            f"{title}: {when}, the first hidden layer's gradient was {1 / ratio:,.0f} "
            f"times smaller than the last hidden layer's ({orders:.1f} orders of "
            "magnitude): it vanished on its way back to the input."
        )
    if ratio > 10:
        return (
            f"{title}: {when}, the first hidden layer's gradient was {ratio:,.0f} "
            f"times larger than the last hidden layer's ({orders:.1f} orders of "
            "magnitude): it grew on its way back to the input."
        )
    return (
        f"{title}: {when}, the first and last hidden layers' gradients were within "
        f"one order of magnitude of each other (ratio {ratio:.2g})."
    )


def unit_health_sentence(history: pd.DataFrame, variant: str) -> str | None:
    """The worst layer's saturated or dead fraction at the last epoch."""
    rows = history[history["variant"] == variant]
    last = rows[rows["epoch"] == rows["epoch"].max()]
    title = VARIANTS[variant].title
    for prefix, what, none in (
        (
            "saturated_fraction_layer_",
            "of its activations saturated",
            "no hidden activation was saturated, so the shrinking gradient comes "
            "from the sigmoid's derivative, at most 0.25, multiplying it at every "
            "layer",
        ),
        (
            "dead_fraction_layer_",
            "of its units dead (zero for every validation point)",
            "no hidden unit was dead",
        ),
    ):
        measured = last[last["metric"].str.startswith(prefix)]
        if measured.empty:
            continue
        if measured["value"].max() == 0:
            return f"{title}: at the last epoch, {none}."
        worst = measured.loc[measured["value"].idxmax()]
        layer = worst["metric"].removeprefix(prefix)
        return (
            f"{title}: at the last epoch, hidden layer {layer} had the most, "
            f"{worst['value']:.0%} {what}; the mean over hidden layers was "
            f"{measured['value'].mean():.0%}."
        )
    return None


def render_report(
    params: StudyParameters,
    comparison: Comparison,
    evaluations: list[Evaluation],
    figures: dict[str, str],
    run_name: str,
) -> str:
    """The report; `figures` maps each figure's name to its image link."""
    summary = comparison.summary[list(SUMMARY_COLUMNS)].rename(columns=SUMMARY_COLUMNS)
    summary["Variant"] = [
        VARIANTS[name].title for name in comparison.summary["variant"]
    ]
    data, training = params.data, params.training

    def image(name: str, alt: str) -> str:
        return f"![{alt}]({figures[name]})"

    parameters = pd.DataFrame(
        [
            ("points per class", data.points_per_class),
            ("classes", data.classes),
            ("angle noise (rad)", data.angle_noise),
            ("radius", f"{data.radius_min} to {data.radius_max}"),
            ("angle per class (rad)", data.angle_per_class),
            ("test fraction (held out)", data.test_fraction),
            ("validation fraction (of the rest)", data.validation_fraction),
            ("epochs", training.epochs),
            ("batch size", training.batch_size),
            ("optimizer", f"SGD, learning rate {training.learning_rate}"),
            ("loss", "categorical cross-entropy"),
            ("seed", params.seed),
        ],
        columns=["parameter", "value"],
    ).astype(str)
    lines = [
        "# The vanishing-gradient study",
        "",
        f"Run `{run_name}`. A network of 5 hidden Dense layers of 64 units learns "
        f"{data.classes} interleaved spirals. With sigmoid activations its "
        "gradients vanish; ReLU, BatchNormalization and Dropout are the remedies "
        "tried. Train and validation figures are from the last epoch; test "
        "figures are from a test set that no model saw during training.",
        "",
        "## Results",
        "",
        markdown_table(summary),
        "",
        "## Findings",
        "",
        *[f"- {sentence}" for sentence in findings(comparison.summary, params)],
        "",
        "## Parameters",
        "",
        markdown_table(parameters),
        "",
        "## The data",
        "",
        image("dataset", "Spiral data set"),
        "",
        "## The vanishing gradient, measured",
        "",
        "Each training step's gradient of the loss with respect to every Dense "
        "layer's kernel is measured; the figures show its L2 norm averaged over "
        "the epoch's steps.",
        "",
        *[
            "- "
            + gradient_sentence(row.variant, row.gradient_ratio_epoch_1, "at epoch 1")
            for row in comparison.summary.itertuples()
        ],
        "",
        image("gradients_epoch_1", "Gradient norm by layer at epoch 1"),
        "",
        "Hidden units pass no gradient when saturated (a sigmoid's derivative "
        "below 5% of its maximum) or dead (a ReLU that outputs zero for every "
        "input):",
        "",
        *[
            f"- {sentence}"
            for sentence in (
                unit_health_sentence(comparison.history, variant)
                for variant in comparison.summary["variant"]
            )
            if sentence
        ],
        "",
        image("unit_health", "Saturated and dead unit fractions by layer"),
        "",
        "### Gradient norms over training",
        "",
    ]
    for row in comparison.summary.itertuples():
        lines += [
            "- "
            + gradient_sentence(
                row.variant, row.gradient_ratio_last_epoch, "at the last epoch"
            ),
            "",
            image(f"gradients_{row.variant}", f"Gradient norms of {row.variant}"),
            "",
        ]
    lines += [
        "## Validation accuracy, all variants",
        "",
        "The dotted line is chance, 1/classes: a curve lying on it has learned "
        "nothing.",
        "",
        image("validation_accuracy", "Validation accuracy of every variant"),
        "",
        "## Training curves",
        "",
    ]
    for variant in comparison.summary["variant"]:
        lines += [
            f"### {VARIANTS[variant].title}",
            "",
            image(f"curves_{variant}", f"Loss and accuracy of {variant}"),
            "",
        ]
    lines += [
        "## Decision boundaries",
        "",
        image("decision_boundaries", "Decision boundaries"),
        "",
        "## Confusion matrices (test set)",
        "",
        "Rows are true classes, columns predicted classes.",
        "",
    ]
    for evaluation in evaluations:
        matrix = pd.DataFrame(
            evaluation.confusion,
            columns=[f"pred. {k}" for k in range(data.classes)],
        )
        matrix.insert(0, "true", range(data.classes))
        lines += [
            f"**{VARIANTS[evaluation.variant].title}**",
            "",
            markdown_table(matrix),
            "",
        ]
    lines += [
        "## Reproduce",
        "",
        "From the repository root, with the commit recorded in `run.json` beside "
        "this report (which also lists every parameter and package version):",
        "",
        "```sh",
        command_line(params),
        "```",
        "",
    ]
    return "\n".join(lines)
