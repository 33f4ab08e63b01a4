"""The networks of the study, as data: one spec per variant."""

from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class VariantSpec:
    """One network of the study.

    `batch_norm_before` and `batch_norm_after` list the hidden layers (1-based)
    preceded or followed by a BatchNormalization layer; `dropout_rate` > 0 puts
    a Dropout layer before the softmax output.
    """

    name: str
    title: str
    activation: str
    batch_norm_before: tuple[int, ...] = ()
    batch_norm_after: tuple[int, ...] = ()
    dropout_rate: float = 0.0
    hidden_layers: int = 5
    units: int = 64


VARIANTS: dict[str, VariantSpec] = {
    spec.name: spec
    for spec in (
        VariantSpec("sigmoid", "Sigmoid", activation="sigmoid"),
        VariantSpec("relu", "ReLU", activation="relu"),
        VariantSpec(
            "relu-batchnorm",
            "ReLU + BatchNorm",
            activation="relu",
            batch_norm_after=(1,),
        ),
        VariantSpec(
            "relu-batchnorm-dropout",
            "ReLU + BatchNorm + Dropout",
            activation="relu",
            batch_norm_after=(1,),
            dropout_rate=0.2,
        ),
        # The placement the reference tried first and found worse; optional.
        VariantSpec(
            "relu-batchnorm-every-layer",
            "ReLU + BatchNorm before every layer",
            activation="relu",
            batch_norm_before=(1, 2, 3, 4, 5),
        ),
    )
}
DEFAULT_VARIANTS = [
    "sigmoid",
    "relu",
    "relu-batchnorm",
    "relu-batchnorm-dropout",
]


def build_model(
    spec: VariantSpec, n_features: int, n_classes: int, seed: int
) -> keras.Sequential:
    """Build the variant's network with every random initializer seeded explicitly."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_features,))]

    for index in range(1, spec.hidden_layers + 1):
        if index in spec.batch_norm_before:
            layers.append(
                keras.layers.BatchNormalization(name=f"batchnorm_before_{index}")
            )
        layers.append(
            keras.layers.Dense(
                spec.units,
                activation=spec.activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + index),
                name=f"hidden_{index}",
            )
        )
        if index in spec.batch_norm_after:
            layers.append(keras.layers.BatchNormalization(name=f"batchnorm_{index}"))

    if spec.dropout_rate > 0:
        layers.append(
            keras.layers.Dropout(spec.dropout_rate, seed=seed, name="dropout")
        )
    layers.append(
        keras.layers.Dense(
            n_classes,
            activation="softmax",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            name="output",
        )
    )
    return keras.Sequential(layers, name=spec.name.replace("-", "_"))
