"""The figures draw what their captions promise."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from tasks import plots
from tasks.data import make_spirals, split_spirals
from tasks.parameters import SpiralParameters


def gradient_history(norms_by_variant: dict[str, list[float]]) -> pd.DataFrame:
    """Two epochs of per-layer gradient norms, the same in both, per variant."""
    rows = [
        {
            "variant": variant,
            "seed": 0,
            "epoch": epoch,
            "split": "train",
            "metric": f"gradient_norm_layer_{layer}",
            "value": norm,
        }
        for variant, norms in norms_by_variant.items()
        for epoch in (1, 2)
        for layer, norm in enumerate(norms, start=1)
    ]
    return pd.DataFrame(rows)


def test_every_variants_gradient_figure_shares_one_vertical_range():
    history = gradient_history(
        {"sigmoid": [1e-5, 1e-3, 0.3], "relu-batchnorm": [0.2, 0.3, 0.4]}
    )

    ranges = []
    for variant in ("sigmoid", "relu-batchnorm"):
        figure = plots.plot_gradient_norms(history, variant)
        ranges.append(figure.axes[0].get_ylim())
        plt.close(figure)

    assert ranges[0] == ranges[1]
    low, high = ranges[0]
    assert low < 1e-5 and high > 0.4


def test_dataset_legend_marks_splits_in_no_class_colour():
    params = SpiralParameters()
    splits = split_spirals(make_spirals(params, seed=0), params, seed=0)

    figure = plots.plot_dataset(splits, seed=0)
    legend = figure.axes[0].get_legend()
    class_colours = [to_rgba(colour) for colour in plots.class_colormap(3).colors]

    assert [text.get_text().split()[0] for text in legend.get_texts()] == [
        "train",
        "validation",
        "test",
    ]
    for handle in legend.legend_handles:
        colour = to_rgba(handle.get_markerfacecolor())
        assert not any(np.allclose(colour, c) for c in class_colours)
    plt.close(figure)


def test_every_class_gets_a_colour_of_its_own():
    for classes in (2, 3, 10, 11, 20):
        colours = {tuple(c) for c in plots.class_colormap(classes).colors}
        assert len(colours) == classes
