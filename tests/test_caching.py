import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

from tasks import caching
from tasks.caching import ModuleSource, StableInputs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEY_SCRIPT = """
import numpy as np
import tasks
from tasks.caching import StableInputs
from tasks.parameters import TrainingParameters
training = TrainingParameters.model_validate(
    {"epochs": 6, "batch_size": 32, "learning_rate": 0.01}
)
print(StableInputs().compute_key(None, {"x": np.ones(3), "training": training}, {}))
"""


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
    policy = StableInputs()

    key = policy.compute_key(None, {"x": points}, {})
    assert policy.compute_key(None, {"x": points.copy()}, {}) == key
    assert policy.compute_key(None, {"x": nudged}, {}) != key
    assert policy.compute_key(None, {"y": points}, {}) != key


def test_input_keys_are_the_same_in_every_process():
    """Arrays beside pydantic models: the key must not follow string hashing."""

    def key_with(hash_seed: str) -> str:
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    keys = {key_with(seed) for seed in ("1", "2", "3", "4")}
    assert len(keys) == 1


def test_a_list_of_results_keys_the_same_fresh_or_loaded_from_the_cache():
    label = "".join(["relu"] * 20)  # one string object shared by both items
    fresh = [{"variant": label, "x": np.ones(4)}, {"variant": label, "x": np.zeros(4)}]
    loaded = [pickle.loads(pickle.dumps(item)) for item in fresh]
    policy = StableInputs()

    assert policy.compute_key(None, {"trained": loaded}, {}) == policy.compute_key(
        None, {"trained": fresh}, {}
    )
