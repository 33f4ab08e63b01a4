"""Stage 1: the spiral data set, split into train, validation and held-out test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from prefect import task
from prefect.logging import get_run_logger
from sklearn.model_selection import train_test_split

from tasks.caching import stage_cache
from tasks.parameters import SpiralParameters


@dataclass(frozen=True)
class Subset:
    """Points `x` of shape (n_samples, 2) and integer class labels `y`."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class SpiralSplits:
    """The three disjoint parts of one spiral data set.

    Only `train` and `validation` ever reach a training task; `test` is read once,
    by the evaluation.
    """

    train: Subset
    validation: Subset
    test: Subset
    classes: int


def make_spirals(params: SpiralParameters, seed: int) -> Subset:
    """Draw `classes` interleaved spiral arms of `points_per_class` points each."""
    rng = np.random.default_rng(seed)
    n = params.points_per_class
    radius = np.linspace(params.radius_min, params.radius_max, n)
    xs, ys = [], []

    for label in range(params.classes):
        start = label * params.angle_per_class
        angle = np.linspace(start, start + params.angle_per_class, n)
        angle = angle + rng.normal(0.0, params.angle_noise, n)
        xs.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        ys.append(np.full(n, label))

    return Subset(np.concatenate(xs).astype("float32"), np.concatenate(ys))


def split_spirals(data: Subset, params: SpiralParameters, seed: int) -> SpiralSplits:
    """Hold out a stratified test set, then carve validation from what remains."""
    x_rest, x_test, y_rest, y_test = train_test_split(
        data.x,
        data.y,
        test_size=params.test_fraction,
        stratify=data.y,
        random_state=seed,
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=params.validation_fraction,
        stratify=y_rest,
        random_state=seed,
    )
    return SpiralSplits(
        train=Subset(x_train, y_train),
        validation=Subset(x_val, y_val),
        test=Subset(x_test, y_test),
        classes=params.classes,
    )


@task(
    name="generate-data",
    cache_policy=stage_cache("tasks.data"),
    persist_result=True,
)
def generate_data(params: SpiralParameters, seed: int) -> SpiralSplits:
    """Generate the spiral data set and split it; cached on parameters and seed."""
    splits = split_spirals(make_spirals(params, seed), params, seed)
    get_run_logger().info(
        "Spiral data: %d classes; %d train, %d validation, %d held-out test points",
        splits.classes,
        len(splits.train),
        len(splits.validation),
        len(splits.test),
    )
    return splits
