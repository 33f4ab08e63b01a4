"""The study's figures; each function returns a matplotlib Figure."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tasks.data import SpiralSplits  # noqa: E402
from tasks.evaluate import GRID_MARGIN, Evaluation  # noqa: E402
from tasks.variants import VARIANTS  # noqa: E402

VARIANT_COLORS = {
    name: plt.get_cmap("Dark2").colors[index] for index, name in enumerate(VARIANTS)
}
# Under the curves: a network at chance still shows, drawn over the line.
CHANCE_STYLE = {"color": "black", "linestyle": ":", "linewidth": 1.4, "zorder": 1.5}


def title_of(variant: str) -> str:
    return VARIANTS[variant].title


def across_seeds(series: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: the mean over seeds and the band from the lowest to the highest."""
    return series.groupby("epoch")["value"].agg(["mean", "min", "max"])


def seeds_note(history: pd.DataFrame, spread: str | None = "band") -> str:
    """How a figure's values were drawn from the seeds, for its title."""
    seeds = history["seed"].nunique()
    if seeds == 1:
        return "one seed"
    note = f"mean of {seeds} seeds"
    return note + (f", {spread} from lowest to highest" if spread else "")


def class_colormap(classes: int) -> ListedColormap:
    """One distinct colour per class: tab10's, or tab20's beyond ten classes."""
    palette = plt.get_cmap("tab10" if classes <= 10 else "tab20").colors
    return ListedColormap(palette[:classes])


def integer_epochs(axes) -> None:
    """Ticks on whole epochs only: a one-epoch run gets no tick at 0.96."""
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def point_marker(epochs: pd.Index) -> str | None:
    """A marker where a series has a single epoch: a line needs two points."""
    return "o" if len(epochs) == 1 else None


def plot_band(axes, band: pd.DataFrame, color, style: str = "-", label=None) -> None:
    axes.plot(
        band.index,
        band["mean"],
        style,
        color=color,
        label=label,
        marker=point_marker(band.index),
    )
    axes.fill_between(band.index, band["min"], band["max"], color=color, alpha=0.18)


def plot_dataset(splits: SpiralSplits, seed: int) -> Figure:
    """One seed's spiral arms, with train, validation and test points told apart."""
    figure, axes = plt.subplots(figsize=(6, 6))
    markers = {"train": "o", "validation": "s", "test": "^"}
    colors = class_colormap(splits.classes)

    for split, marker in markers.items():
        subset = getattr(splits, split)
        axes.scatter(
            subset.x[:, 0],
            subset.x[:, 1],
            c=subset.y,
            cmap=colors,
            vmin=0,
            vmax=splits.classes - 1,
            marker=marker,
            s=14,
            alpha=0.8,
            label=f"{split} ({len(subset)})",
        )

    axes.set(
        title=f"Spiral data set (seed {seed})",
        xlabel="$x_1$",
        ylabel="$x_2$",
        aspect="equal",
    )
    # The markers tell the splits apart; a class colour in the legend would mislead.
    handles = [
        Line2D([], [], marker=marker, linestyle="", color="0.3", label=label)
        for marker, label in zip(
            markers.values(), axes.get_legend_handles_labels()[1], strict=True
        )
    ]
    axes.legend(handles=handles, loc="upper right", fontsize="small")
    return figure


def plot_training_curves(history: pd.DataFrame, variant: str, classes: int) -> Figure:
    """Loss and accuracy per epoch, train and validation, with chance marked."""
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    rows = history[history["variant"] == variant]
    chance = {"loss": math.log(classes), "accuracy": 1 / classes}
    color = VARIANT_COLORS[variant]

    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for split, style in (("train", "-"), ("validation", "--")):
            series = rows[(rows["metric"] == metric) & (rows["split"] == split)]
            plot_band(axes, across_seeds(series), color, style, label=split)
        axes.axhline(
            chance[metric], **CHANCE_STYLE, label=f"chance ({chance[metric]:.3f})"
        )
        axes.set(xlabel="epoch", ylabel=metric, title=f"{title_of(variant)}: {metric}")
        integer_epochs(axes)
        axes.legend(fontsize="small")
        axes.grid(alpha=0.3)

    accuracy_axes.set_ylim(0, 1.02)
    figure.suptitle(seeds_note(rows), fontsize="small")
    figure.tight_layout()
    return figure


def plot_validation_accuracy(history: pd.DataFrame, classes: int) -> Figure:
    """All variants' validation accuracy on one set of axes."""
    figure, axes = plt.subplots(figsize=(8, 5))
    rows = history[
        (history["metric"] == "accuracy") & (history["split"] == "validation")
    ]

    for variant, series in rows.groupby("variant", sort=False):
        plot_band(
            axes, across_seeds(series), VARIANT_COLORS[variant], label=title_of(variant)
        )

    axes.axhline(1 / classes, **CHANCE_STYLE, label=f"chance ({1 / classes:.3f})")
    axes.set(
        xlabel="epoch",
        ylabel="validation accuracy",
        title=f"Validation accuracy of every variant ({seeds_note(rows)})",
        ylim=(0, 1.02),
    )
    integer_epochs(axes)
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def plot_decision_boundaries(
    evaluations: list[Evaluation], splits: SpiralSplits
) -> Figure:
    """Each model's predicted class over the plane, with the test points on top.

    `evaluations` are one seed's, the seed `splits` was drawn with.
    """
    columns = min(2, len(evaluations))
    rows = math.ceil(len(evaluations) / columns)
    figure, axes_grid = plt.subplots(
        rows, columns, figsize=(5.5 * columns, 5.5 * rows), squeeze=False
    )
    colors = class_colormap(splits.classes)
    test = splits.test

    for axes, evaluation in zip(axes_grid.flat, evaluations, strict=False):
        grid = evaluation.decision_grid
        if grid is None:
            axes.text(
                0.5,
                0.5,
                "training diverged:\nno decision boundaries",
                ha="center",
                va="center",
                transform=axes.transAxes,
            )
            low = test.x.min(axis=0) - GRID_MARGIN
            high = test.x.max(axis=0) + GRID_MARGIN
            axes.set(
                title=title_of(evaluation.variant),
                xlim=(low[0], high[0]),
                ylim=(low[1], high[1]),
                aspect="equal",
                xticks=[],
                yticks=[],
            )
            continue
        axes.contourf(
            grid.xx,
            grid.yy,
            grid.predicted,
            levels=np.arange(splits.classes + 1) - 0.5,
            cmap=colors,
            alpha=0.3,
        )
        axes.scatter(
            test.x[:, 0],
            test.x[:, 1],
            c=test.y,
            cmap=colors,
            vmin=0,
            vmax=splits.classes - 1,
            s=12,
            edgecolors="black",
            linewidths=0.3,
        )
        axes.set(
            title=f"{title_of(evaluation.variant)}: test accuracy "
            f"{evaluation.test_accuracy:.3f}",
            aspect="equal",
            xticks=[],
            yticks=[],
        )

    for axes in list(axes_grid.flat)[len(evaluations) :]:
        axes.axis("off")
    seed = evaluations[0].seed
    figure.suptitle(f"Decision boundaries on the held-out test points (seed {seed})")
    figure.tight_layout()
    return figure


def layer_series(
    history: pd.DataFrame, variant: str, prefix: str, statistic: str = "mean"
) -> pd.DataFrame:
    """Epochs by layer, a statistic over seeds, for metrics named prefix<i>."""
    rows = history[
        (history["variant"] == variant) & history["metric"].str.startswith(prefix)
    ]
    table = rows.pivot_table(
        index="epoch", columns="metric", values="value", aggfunc=statistic
    )
    table.columns = [int(name.removeprefix(prefix)) for name in table.columns]
    return table.sort_index(axis=1)


def shared_gradient_range(history: pd.DataFrame) -> tuple[float, float]:
    """A log-scale range holding every variant's finite, positive gradient norms."""
    rows = history[history["metric"].str.startswith("gradient_norm_layer_")]
    values = rows["value"][np.isfinite(rows["value"]) & (rows["value"] > 0)]
    return values.min() / 1.5, values.max() * 1.5


def plot_gradient_norms(history: pd.DataFrame, variant: str) -> Figure:
    """Mean kernel gradient norm of each Dense layer per epoch, on a log scale.

    Every variant's figure shares one vertical range, so that the figures
    compare at a glance.
    """
    figure, axes = plt.subplots(figsize=(8, 4.5))
    norms = layer_series(history, variant, "gradient_norm_layer_")
    lowest = layer_series(history, variant, "gradient_norm_layer_", "min")
    highest = layer_series(history, variant, "gradient_norm_layer_", "max")
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.8, len(norms.columns)))

    for color, layer in zip(colors, norms.columns, strict=True):
        is_output = layer == norms.columns.max()
        axes.plot(
            norms.index,
            norms[layer],
            color=color,
            linestyle="--" if is_output else "-",
            label="output" if is_output else f"hidden {layer}",
            marker=point_marker(norms.index),
        )
        axes.fill_between(
            norms.index, lowest[layer], highest[layer], color=color, alpha=0.12
        )

    rows = history[history["variant"] == variant]
    axes.set(
        xlabel="epoch",
        ylabel="mean ‖∂loss/∂kernel‖₂",
        title=f"{title_of(variant)}: gradient norm by layer ({seeds_note(rows)})",
    )
    integer_epochs(axes)
    if norms.empty:
        axes.text(
            0.5,
            0.5,
            "no finite gradient norm: training diverged",
            ha="center",
            transform=axes.transAxes,
        )
        return figure
    axes.set_yscale("log")
    axes.set_ylim(shared_gradient_range(history))
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes.grid(alpha=0.3, which="both")
    return figure


def plot_first_epoch_gradients(history: pd.DataFrame) -> Figure:
    """Every variant's gradient norm by layer at epoch 1: the vanishing at a glance."""
    figure, axes = plt.subplots(figsize=(8, 4.5))

    for variant in history["variant"].unique():
        table = layer_series(history, variant, "gradient_norm_layer_")
        if table.empty or table.index[0] != 1:
            continue  # every seed diverged in epoch 1: no finite norm to show
        norms = table.iloc[0]
        lowest = layer_series(history, variant, "gradient_norm_layer_", "min").iloc[0]
        highest = layer_series(history, variant, "gradient_norm_layer_", "max").iloc[0]
        axes.errorbar(
            norms.index,
            norms.to_numpy(),
            yerr=[norms - lowest, highest - norms],
            marker="o",
            capsize=3,
            color=VARIANT_COLORS[variant],
            label=title_of(variant),
        )

    layers = list(range(1, hidden_layer_count(history) + 2))
    axes.set(
        yscale="log",
        xticks=layers,
        xticklabels=[f"hidden {i}" for i in layers[:-1]] + ["output"],
        xlabel="layer (input side on the left)",
        ylabel="mean ‖∂loss/∂kernel‖₂ at epoch 1",
        title="Gradient norm by layer in the first epoch "
        f"({seeds_note(history, spread='bars')})",
    )
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3, which="both")
    return figure


def hidden_layer_count(history: pd.DataFrame) -> int:
    metrics = history["metric"].unique()
    return sum(m.startswith("gradient_norm_layer_") for m in metrics) - 1


def plot_unit_health(history: pd.DataFrame) -> Figure:
    """Saturated (sigmoid) or dead (ReLU) unit fraction per hidden layer."""
    variants = list(history["variant"].unique())
    columns = min(2, len(variants))
    rows = math.ceil(len(variants) / columns)
    figure, axes_grid = plt.subplots(
        rows, columns, figsize=(6 * columns, 3.8 * rows), squeeze=False
    )

    for axes, variant in zip(axes_grid.flat, variants, strict=False):
        for prefix, label, state in (
            ("saturated_fraction_layer_", "saturated fraction", "saturated"),
            ("dead_fraction_layer_", "dead-unit fraction", "dead"),
        ):
            fractions = layer_series(history, variant, prefix)
            if fractions.empty:
                continue
            colors = plt.get_cmap("viridis")(
                np.linspace(0, 0.9, len(fractions.columns))
            )
            for color, layer in zip(colors, fractions.columns, strict=True):
                axes.plot(
                    fractions.index,
                    fractions[layer],
                    color=color,
                    label=f"hidden {layer}",
                    marker=point_marker(fractions.index),
                )
            axes.set(ylabel=label)
            if fractions.max().max() == 0:
                # Every layer's line lies on zero, under the last one drawn.
                axes.text(
                    0.5,
                    0.5,
                    f"no unit {state} in any layer, at any epoch",
                    ha="center",
                    transform=axes.transAxes,
                )
        axes.set(xlabel="epoch", title=title_of(variant), ylim=(-0.02, 1.02))
        integer_epochs(axes)
        axes.legend(fontsize="x-small", ncol=2)
        axes.grid(alpha=0.3)

    for axes in list(axes_grid.flat)[len(variants) :]:
        axes.axis("off")
    figure.suptitle(
        "Hidden units that cannot pass a gradient (validation set, "
        f"{seeds_note(history, spread=None)})"
    )
    figure.tight_layout()
    return figure
