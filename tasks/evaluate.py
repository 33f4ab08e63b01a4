"""Stage 3: evaluate one trained variant, once, on the held-out test set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
from prefect import task
from prefect.logging import get_run_logger
from sklearn.metrics import confusion_matrix

from tasks.caching import stage_cache
from tasks.data import Subset
from tasks.train import TrainedModel

ACCURACY_THRESHOLDS = (0.9, 0.95)
GRID_POINTS = 200
# How far the decision grid reaches beyond the outermost test points.
GRID_MARGIN = 0.15


@dataclass(frozen=True)
class DecisionGrid:
    """Predicted class over a regular grid of the input plane, for plotting."""

    xx: np.ndarray
    yy: np.ndarray
    predicted: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    variant: str
    seed: int
    test_loss: float
    test_accuracy: float
    confusion: np.ndarray
    epochs_to: dict[float, int | None]
    decision_grid: DecisionGrid | None

    @property
    def diverged(self) -> bool:
        return math.isnan(self.test_accuracy)


def epochs_to_reach(history: pd.DataFrame, threshold: float) -> int | None:
    """First epoch whose validation accuracy reaches `threshold`, or None."""
    reached = history.loc[history["val_accuracy"] >= threshold, "epoch"]
    return int(reached.iloc[0]) if len(reached) else None


def decision_grid(model, points: np.ndarray) -> DecisionGrid:
    low = points.min(axis=0) - GRID_MARGIN
    high = points.max(axis=0) + GRID_MARGIN
    xx, yy = np.meshgrid(
        np.linspace(low[0], high[0], GRID_POINTS),
        np.linspace(low[1], high[1], GRID_POINTS),
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype("float32")
    # In slices: the whole grid at once holds every layer's activations for
    # 40,000 points in memory, four models at a time.
    predicted = np.concatenate(
        [
            np.asarray(model(points, training=False)).argmax(axis=1)
            for points in np.array_split(grid, 20)
        ]
    )
    return DecisionGrid(xx, yy, predicted.reshape(xx.shape))


@task(
    name="evaluate-variant",
    task_run_name="evaluate-{trained.variant}-seed-{trained.seed}",
    cache_policy=stage_cache("tasks.evaluate"),
    persist_result=True,
)
def evaluate_variant(
    trained: TrainedModel,
    test: Subset,
    n_classes: int,
    with_decision_grid: bool = False,
) -> Evaluation:
    """Test loss, accuracy and confusion matrix, and epochs to reach accuracy.

    The decision grid, for the plot of decision boundaries, is predicted only
    when asked for: one seed's boundaries are enough to look at. A model whose
    training diverged has weights that are not numbers: its test figures are
    missing, not the chance-level accuracy its constant predictions would get.
    """
    epochs_to = {
        threshold: epochs_to_reach(trained.history_frame, threshold)
        for threshold in ACCURACY_THRESHOLDS
    }
    if trained.diverged_at is not None:
        get_run_logger().warning(
            "%s seed %d diverged at epoch %d: it is not evaluated, and its test "
            "figures count as missing",
            trained.variant,
            trained.seed,
            trained.diverged_at,
        )
        return Evaluation(
            variant=trained.variant,
            seed=trained.seed,
            test_loss=math.nan,
            test_accuracy=math.nan,
            confusion=np.zeros((n_classes, n_classes), dtype=int),
            epochs_to=epochs_to,
            decision_grid=None,
        )

    model = trained.load_model()
    probabilities = model(test.x, training=False)
    predicted = np.asarray(probabilities).argmax(axis=1)
    # The same cross-entropy as in training, so test and validation loss compare.
    loss = keras.losses.CategoricalCrossentropy()(
        keras.ops.one_hot(test.y, n_classes), probabilities
    )
    labels = list(range(n_classes))

    evaluation = Evaluation(
        variant=trained.variant,
        seed=trained.seed,
        test_loss=float(loss),
        test_accuracy=float((predicted == test.y).mean()),
        confusion=confusion_matrix(test.y, predicted, labels=labels),
        epochs_to=epochs_to,
        decision_grid=decision_grid(model, test.x) if with_decision_grid else None,
    )
    get_run_logger().info(
        "%s seed %d on the held-out test set: loss %.4f, accuracy %.4f",
        trained.variant,
        trained.seed,
        evaluation.test_loss,
        evaluation.test_accuracy,
    )
    return evaluation
