import inspect

import numpy as np
from prefect.cache_policies import INPUTS

from tasks import caching
from tasks.caching import ModuleSource


def test_module_source_key_changes_when_a_helper_module_changes(monkeypatch):
    policy = ModuleSource(modules=("tasks.train", "tasks.variants"))
    before = policy.compute_key(None, {}, {})
    original = inspect.getsource

    def edited(module):
        source = original(module)
        return source + "\n# edited" if module.__name__ == "tasks.variants" else source

    monkeypatch.setattr(caching.inspect, "getsource", edited)

    assert policy.compute_key(None, {}, {}) != before


def test_array_inputs_are_hashed_by_their_content():
    points = np.zeros((1000, 2), dtype="float32")
    nudged = points.copy()
    nudged[500, 1] = 1e-6

    key = INPUTS.compute_key(None, {"x": points}, {})
    assert INPUTS.compute_key(None, {"x": points.copy()}, {}) == key
    assert INPUTS.compute_key(None, {"x": nudged}, {}) != key
