"""The project's compiled epoch does what one epoch of Keras `fit` does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

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

    run_epochs = make_epoch_function(
        ours,
        SPLITS.train,
        SPLITS.validation,
        TRAINING.batch_size,
        SEED,
        shuffle=False,
    )
    [metrics] = run_epochs(1, 1)
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


def test_gradient_norms_are_the_mean_over_the_epochs_steps():
    ours, reference = compiled("sigmoid"), compiled("sigmoid")
    [metrics] = make_epoch_function(
        ours, SPLITS.train, SPLITS.validation, 32, SEED, shuffle=False
    )(1, 1)

    loss_fn = keras.losses.CategoricalCrossentropy()
    kernels = [layer.kernel for layer in reference.layers]
    norms = []
    for start in range(0, len(SPLITS.train), 32):
        x = SPLITS.train.x[start : start + 32]
        y = keras.ops.one_hot(SPLITS.train.y[start : start + 32], 3)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, reference(x, training=True))
        gradients = tape.gradient(loss, reference.trainable_variables)
        reference.optimizer.apply_gradients(
            zip(gradients, reference.trainable_variables, strict=True)
        )
        by_variable = dict(
            zip(map(id, reference.trainable_variables), gradients, strict=True)
        )
        norms.append([np.linalg.norm(by_variable[id(k)]) for k in kernels])

    expected = np.mean(norms, axis=0)
    measured = [metrics[f"gradient_norm_layer_{i}"] for i in range(1, 7)]
    np.testing.assert_allclose(measured, expected, rtol=1e-4)


def test_unit_statistics_count_saturated_and_dead_units():
    from tasks.train import activation_statistic

    _, saturated = activation_statistic("sigmoid")
    outputs = tf.constant([[0.5, 0.999], [0.001, 0.5]])
    assert float(saturated(outputs)) == pytest.approx(0.5)

    _, dead = activation_statistic("relu")
    outputs = tf.constant([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert float(dead(outputs)) == pytest.approx(1 / 3)
    assert activation_statistic("linear") is None


def test_epochs_trained_in_one_call_match_epochs_trained_one_by_one():
    together = compiled("relu-batchnorm-dropout")
    one_by_one = compiled("relu-batchnorm-dropout")
    run_together, run_one_by_one = (
        make_epoch_function(model, SPLITS.train, SPLITS.validation, 32, SEED)
        for model in (together, one_by_one)
    )

    rows = run_together(1, 3)
    single_rows = [row for epoch in (1, 2, 3) for row in run_one_by_one(epoch, 1)]

    assert len(rows) == 3
    assert rows == single_rows
    for a, b in zip(together.get_weights(), one_by_one.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
