"""The reference solution's published single-run figures, kept as data.

Source: the student solution to the assignment, results taken from its GitHub
notebook (github.com/jacobalmon/CS-478, Homework/Homework 2/hw2.ipynb), as
quoted in the assignment write-up. Its "validation" set was its test set, and
each figure comes from one run with no seed fixed. Convergence epochs are the
author's reading of the curves ("around 50", "around 20"), not measurements.
"""

from __future__ import annotations

SOURCE = "github.com/jacobalmon/CS-478, Homework/Homework 2/hw2.ipynb"

REFERENCE_RESULTS = {
    "sigmoid": {
        "train_accuracy": 0.3317,
        "val_accuracy": 0.2867,
        "test_accuracy": 0.2867,
        "converged_epoch": None,
    },
    "relu": {
        "train_accuracy": 0.9817,
        "val_accuracy": 0.9933,
        "test_accuracy": 0.9933,
        "converged_epoch": 50,
    },
    "relu-batchnorm": {
        "train_accuracy": 0.9867,
        "val_accuracy": 0.9900,
        "test_accuracy": 0.9900,
        "converged_epoch": 20,
    },
    "relu-batchnorm-dropout": {
        "train_accuracy": 0.9892,
        "val_accuracy": 0.9933,
        "test_accuracy": 0.9933,
        "converged_epoch": 20,
    },
}
