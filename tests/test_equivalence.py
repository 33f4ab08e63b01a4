"""The project's compiled epoch does what one epoch of Keras `fit` does."""

import keras
import numpy as np
import pytest

from tasks.data import make_spirals, split_spirals
from tasks.parameters import SpiralParameters, TrainingParameters
from tasks.train import compile_model, make_epoch_function
from tasks.variants import VARIANTS, build_model

# 110 points per class leave 211 training points: six batches of 32 and a
# partial one of 19, which both loops must keep.
DATA = SpiralParameters(points_per_class=110)
SPLITS = split_spirals(make_spirals(DATA, seed=4), DATA, seed=4)
TRAINING = TrainingParameters()
SEED = 21


def compiled(name: str) -> keras.Model:
    model = build_model(VARIANTS[name], 2, 3, SEED)
    compile_model(model, TRAINING)
    return model


@pytest.mark.parametrize("name", list(VARIANTS))
def test_one_epoch_matches_keras_fit(name):
    ours, reference = compiled(name), compiled(name)
    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(SPLITS.train) % TRAINING.batch_size != 0

    run_epoch = make_epoch_function(
        ours,
        SPLITS.train,
        SPLITS.validation,
        3,
        TRAINING.batch_size,
        SEED,
        shuffle=False,
    )
    metrics = run_epoch(1)
    history = reference.fit(
        SPLITS.train.x,
        keras.ops.one_hot(SPLITS.train.y, 3),
        batch_size=TRAINING.batch_size,
        epochs=1,
        shuffle=False,
        validation_data=(
            SPLITS.validation.x,
            keras.ops.one_hot(SPLITS.validation.y, 3),
        ),
        verbose=0,
    ).history

    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for metric in ["loss", "accuracy", "val_loss", "val_accuracy"]:
        assert metrics[metric] == pytest.approx(history[metric][0], abs=1e-5), metric
