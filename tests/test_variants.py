import keras
import pytest

from tasks.variants import DEFAULT_VARIANTS, VARIANTS, build_model

# The layer stacks of the reference study, layer by layer: (type, units, activation)
# for Dense, the type alone otherwise.
HIDDEN = [("Dense", 64, "sigmoid")] * 5
RELU = [("Dense", 64, "relu")] * 5
OUTPUT = [("Dense", 3, "softmax")]
EXPECTED = {
    "sigmoid": HIDDEN + OUTPUT,
    "relu": RELU + OUTPUT,
    "relu-batchnorm": RELU[:1] + [("BatchNormalization",)] + RELU[1:] + OUTPUT,
    "relu-batchnorm-dropout": RELU[:1]
    + [("BatchNormalization",)]
    + RELU[1:]
    + [("Dropout",)]
    + OUTPUT,
    "relu-batchnorm-every-layer": [
        layer for dense in RELU for layer in [("BatchNormalization",), dense]
    ]
    + OUTPUT,
}


def describe(layer: keras.layers.Layer) -> tuple:
    if isinstance(layer, keras.layers.Dense):
        return ("Dense", layer.units, layer.activation.__name__)
    return (type(layer).__name__,)


def test_the_registry_holds_exactly_the_four_study_variants():
    assert list(VARIANTS) == list(EXPECTED)
    assert DEFAULT_VARIANTS == list(EXPECTED)[:4]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_layer_stack_matches_the_reference_study(name):
    model = build_model(VARIANTS[name], n_features=2, n_classes=3, seed=0)

    assert [describe(layer) for layer in model.layers] == EXPECTED[name]
    assert model.input_shape == (None, 2)


def test_dropout_rate_is_the_reference_rate():
    model = build_model(VARIANTS["relu-batchnorm-dropout"], 2, 3, seed=0)
    (dropout,) = [layer for layer in model.layers if "Dropout" in type(layer).__name__]

    assert dropout.rate == pytest.approx(0.2)


def test_initial_weights_depend_on_the_seed_only():
    spec = VARIANTS["relu"]
    first = build_model(spec, 2, 3, seed=5).get_weights()
    again = build_model(spec, 2, 3, seed=5).get_weights()
    other = build_model(spec, 2, 3, seed=6).get_weights()

    for a, b in zip(first, again, strict=True):
        assert (a == b).all()
    assert not (first[0] == other[0]).all()
    # Each hidden layer draws its own weights, not copies of one another's.
    assert not (first[2] == first[4]).all()
