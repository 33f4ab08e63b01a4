"""Stage 4: put the variants side by side in two tables."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from prefect import task

from tasks.caching import stage_cache
from tasks.evaluate import Evaluation
from tasks.train import TrainedModel


@dataclass(frozen=True)
class Comparison:
    """`summary`: one row per variant; `history`: tidy per-epoch metrics."""

    summary: pd.DataFrame
    history: pd.DataFrame


def threshold_column(threshold: float) -> str:
    return f"epochs_to_{threshold:.2f}"


def gradient_ratio(history: pd.DataFrame, row: int) -> float:
    """First hidden layer's gradient norm over the last hidden layer's, at a row."""
    layers = [c for c in history.columns if c.startswith("gradient_norm_layer_")]
    last_hidden = f"gradient_norm_layer_{len(layers) - 1}"
    return float(
        history["gradient_norm_layer_1"].iloc[row] / history[last_hidden].iloc[row]
    )


def tidy_history(trained: TrainedModel) -> pd.DataFrame:
    """One row per (variant, epoch, split, metric)."""
    long = trained.history_frame.melt(
        id_vars="epoch", var_name="series", value_name="value"
    )
    is_validation = long["series"].str.startswith("val_")
    return pd.DataFrame(
        {
            "variant": trained.variant,
            "epoch": long["epoch"].astype(int),
            "split": is_validation.map({True: "validation", False: "train"}),
            "metric": long["series"].str.removeprefix("val_"),
            "value": long["value"],
        }
    )


@task(
    name="compare-variants",
    cache_policy=stage_cache("tasks.compare"),
    persist_result=True,
)
def compare_variants(
    trained: list[TrainedModel], evaluations: list[Evaluation]
) -> Comparison:
    """Final train, validation and test figures, and convergence, per variant."""
    rows = []
    for model, evaluation in zip(trained, evaluations, strict=True):
        history = model.history_frame
        last_epoch = history.iloc[-1]
        row = {
            "variant": model.variant,
            "train_accuracy": last_epoch["accuracy"],
            "train_loss": last_epoch["loss"],
            "val_accuracy": last_epoch["val_accuracy"],
            "val_loss": last_epoch["val_loss"],
            "test_accuracy": evaluation.test_accuracy,
            "test_loss": evaluation.test_loss,
        }
        for threshold, epoch in evaluation.epochs_to.items():
            row[threshold_column(threshold)] = epoch
        row["gradient_ratio_epoch_1"] = gradient_ratio(history, 0)
        row["gradient_ratio_last_epoch"] = gradient_ratio(history, -1)
        row["diverged_at_epoch"] = model.diverged_at
        row["train_seconds"] = model.train_seconds
        rows.append(row)

    summary = pd.DataFrame(rows)
    for column in summary.columns:
        if column.startswith("epochs_to_") or column == "diverged_at_epoch":
            summary[column] = summary[column].astype("Int64")
    history = pd.concat([tidy_history(model) for model in trained], ignore_index=True)
    return Comparison(summary=summary, history=history)
