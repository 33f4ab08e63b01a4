import numpy as np
import pytest
from prefect.logging import disable_run_logger

from tasks.data import generate_data, make_spirals, split_spirals
from tasks.parameters import SpiralParameters

DEFAULTS = SpiralParameters()


def sort_rows(points: np.ndarray) -> np.ndarray:
    return points[np.lexsort(points.T[::-1])]


def test_spirals_have_the_requested_shape_and_balanced_classes():
    data = make_spirals(DEFAULTS, seed=0)

    assert data.x.shape == (1500, 2)
    assert data.x.dtype == np.float32
    assert np.bincount(data.y).tolist() == [500, 500, 500]


def test_radius_spans_the_requested_range():
    params = SpiralParameters(radius_min=0.25, radius_max=0.75, angle_noise=0.5)
    radius = np.linalg.norm(make_spirals(params, seed=3).x, axis=1)

    assert radius.min() == pytest.approx(0.25, abs=1e-6)
    assert radius.max() == pytest.approx(0.75, abs=1e-6)


def test_same_seed_gives_the_same_data_and_other_seeds_differ():
    first = make_spirals(DEFAULTS, seed=7)
    again = make_spirals(DEFAULTS, seed=7)
    other = make_spirals(DEFAULTS, seed=8)

    np.testing.assert_array_equal(first.x, again.x)
    assert not np.allclose(first.x, other.x)


def test_splits_are_disjoint_stratified_and_sized_as_asked():
    data = make_spirals(DEFAULTS, seed=0)
    splits = split_spirals(data, DEFAULTS, seed=0)

    assert (len(splits.train), len(splits.validation), len(splits.test)) == (
        960,
        240,
        300,
    )
    for subset in (splits.train, splits.validation, splits.test):
        counts = np.bincount(subset.y, minlength=3)
        assert counts.max() - counts.min() <= 1
    # Together the three parts are the data set, each point exactly once.
    parts = np.concatenate([splits.train.x, splits.validation.x, splits.test.x])
    np.testing.assert_array_equal(sort_rows(parts), sort_rows(data.x))


def test_generate_data_task_is_deterministic_by_seed():
    with disable_run_logger():
        first = generate_data.fn(DEFAULTS, seed=1)
        again = generate_data.fn(DEFAULTS, seed=1)
        other = generate_data.fn(DEFAULTS, seed=2)

    np.testing.assert_array_equal(first.test.x, again.test.x)
    np.testing.assert_array_equal(first.train.y, again.train.y)
    assert not np.array_equal(first.test.x, other.test.x)
