"""tinynet.utils: to_categorical as Keras (fixture) and set_random_seed."""

import os
import random

import numpy as np
import pytest

import tinynet
from tinynet import utils

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))


def test_to_categorical_equals_keras():
    labels = REF["to_categorical_labels"]
    np.testing.assert_array_equal(utils.to_categorical(labels), REF["to_categorical_auto"])
    np.testing.assert_array_equal(utils.to_categorical(labels, num_classes=5),
                                  REF["to_categorical_5"])
    np.testing.assert_array_equal(utils.to_categorical(labels.reshape(-1, 1)),
                                  REF["to_categorical_column"])
    assert utils.to_categorical(labels).dtype == np.float64


def test_to_categorical_rows_pick_out_the_label():
    one_hot = utils.to_categorical([2, 0, 1])
    np.testing.assert_array_equal(one_hot.argmax(axis=1), [2, 0, 1])
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)


def test_to_categorical_keeps_leading_dimensions():
    assert utils.to_categorical(np.zeros((2, 3), dtype=int), num_classes=4).shape == (2, 3, 4)


@pytest.mark.parametrize("x, num_classes, words", [
    ([0, 1.5], None, "integer class labels"),
    ([0, 3], 3, r"\[0, 3\)"),
    ([-1, 0], None, "labels must be in"),
    ([0, 1], "2", "num_classes"),
])
def test_to_categorical_refuses_what_is_not_a_label(x, num_classes, words):
    with pytest.raises((TypeError, ValueError), match=words):
        utils.to_categorical(x, num_classes)


def test_set_random_seed_seeds_tinynet_numpy_and_python():
    def draws():
        return (tinynet.get_rng().normal(size=3), np.random.rand(3), random.random())

    utils.set_random_seed(5)
    first = draws()
    tinynet.set_seed(5)
    np.testing.assert_array_equal(tinynet.get_rng().normal(size=3), first[0])
    utils.set_random_seed(5)
    again = draws()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_random_seed_refuses_a_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        utils.set_random_seed(-1)


def test_to_categorical_takes_booleans_and_empty_labels_as_keras_does():
    # Keras 3.15.1 (checked live): [True, False] are classes 1, 0; no labels with num_classes
    # give (0, num_classes); without num_classes Keras fails inside NumPy, tinynet says why
    np.testing.assert_array_equal(utils.to_categorical(np.array([True, False])),
                                  [[0, 1], [1, 0]])
    assert utils.to_categorical(np.array([], dtype=int), num_classes=3).shape == (0, 3)
    with pytest.raises(ValueError, match="no labels.*num_classes"):
        utils.to_categorical(np.array([], dtype=int))
