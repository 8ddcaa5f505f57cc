"""One class per pixel, the output of a segmentation network: a Conv2D with a softmax over K
classes gives (N, H, W, K), and the cross-entropies and accuracies are taken per pixel, as in
Keras 3 (tests/data/make_keras_pixel_classes_reference.py made the reference numbers)."""

import pathlib

import numpy as np
import pytest

import tinynet as keras

REFERENCE = np.load(pathlib.Path(__file__).parent / "data" / "keras_pixel_classes_reference.npz")
X, LABELS, WEIGHTS = REFERENCE["x"], REFERENCE["labels"], REFERENCE["weights"]
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS]

# case -> (output activation, loss, metric, targets, sample weights); as in the script
CASES = {
    "sparse": ("softmax", "sparse_categorical_crossentropy", "accuracy", LABELS, None),
    "sparse_ones": ("softmax", "sparse_categorical_crossentropy", "accuracy",
                    LABELS[..., None], None),
    "onehot": ("softmax", "categorical_crossentropy", "accuracy", ONE_HOT, None),
    "logits": ("linear", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
               "sparse_categorical_accuracy", LABELS, WEIGHTS),
    "logits_onehot": ("linear", keras.losses.CategoricalCrossentropy(from_logits=True),
                      "categorical_accuracy", ONE_HOT, WEIGHTS),
    "topk": ("softmax", "sparse_categorical_crossentropy",
             keras.metrics.SparseTopKCategoricalAccuracy(k=2), LABELS, None),
    "topk_onehot": ("softmax", "categorical_crossentropy",
                    keras.metrics.TopKCategoricalAccuracy(k=2), ONE_HOT, None),
}
# Keras's torch backend trains only the one-hot cases (see the script); a sparse case must
# train exactly as its one-hot twin
TRAINED_AS = {"sparse": "onehot", "sparse_ones": "onehot", "onehot": "onehot",
              "logits": "logits_onehot", "logits_onehot": "logits_onehot",
              "topk": "topk_onehot", "topk_onehot": "topk_onehot"}


def compiled(case):
    activation, loss, metric, _, _ = CASES[case]
    model = keras.Sequential([keras.Input(shape=(5, 5, 2)),
                              keras.layers.Conv2D(3, 3, padding="same", activation=activation)])
    model.set_weights([REFERENCE["kernel"], REFERENCE["bias"]])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, metrics=[metric])
    return model


@pytest.mark.parametrize("case", CASES)
def test_evaluate_takes_the_loss_and_the_metric_per_pixel_as_keras_does(case):
    _, _, _, y, weights = CASES[case]
    result = compiled(case).evaluate(X, y, sample_weight=weights, verbose=0)
    np.testing.assert_allclose(result, REFERENCE[f"{case}_evaluate"], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("case", CASES)
def test_fit_trains_per_pixel_as_keras_does(case):
    _, _, _, y, weights = CASES[case]
    model = compiled(case)
    history = model.fit(X, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                        sample_weight=weights)
    twin = TRAINED_AS[case]
    metric = [key for key in history.history if key != "loss"][0]
    np.testing.assert_allclose(history.history["loss"], REFERENCE[f"{twin}_loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history[metric], REFERENCE[f"{twin}_metric"], rtol=1e-6)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, REFERENCE[f"{twin}_kernel"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, REFERENCE[f"{twin}_bias"], rtol=1e-5, atol=1e-6)


def test_one_weight_per_image_may_have_the_pixel_axes_too():
    # Keras 3.15 (torch) takes sample weights (N, 1, 1) for per-pixel losses (N, H, W), and
    # refuses (N,); tinynet takes both, one weight per image
    model = compiled("logits")
    assert model.evaluate(X, LABELS, sample_weight=WEIGHTS[:, None, None], verbose=0) == \
        model.evaluate(X, LABELS, sample_weight=WEIGHTS, verbose=0)


def test_wrong_per_pixel_targets_are_refused_with_the_shapes_that_would_fit():
    with pytest.raises(ValueError, match=r"integer labels of shape \(6, 5, 5\).*"
                                         r"one-hot targets of shape \(6, 5, 5, 3\)"):
        compiled("sparse").evaluate(X, ONE_HOT, verbose=0)
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(6, 5, 5, 3\).*"
                                         r"integer labels of shape \(6, 5, 5\)"):
        compiled("onehot").evaluate(X, LABELS, verbose=0)
    with pytest.raises(ValueError, match=r"labels of shape \(6, 5, 5\)"):
        compiled("sparse").evaluate(X, LABELS[:, :4], verbose=0)


def test_the_sparse_loss_called_by_hand_takes_one_label_per_pixel():
    probabilities = keras.activations.softmax(np.random.default_rng(0).normal(
        size=(6, 5, 5, 3)))
    sparse = keras.losses.SparseCategoricalCrossentropy()(LABELS, probabilities)
    dense = keras.losses.CategoricalCrossentropy()(ONE_HOT, probabilities)
    assert sparse == pytest.approx(dense, rel=1e-12)
    values = keras.metrics.sparse_categorical_accuracy(LABELS, probabilities)
    assert values.shape == (6, 5, 5)
    np.testing.assert_array_equal(values, probabilities.argmax(-1) == LABELS)
