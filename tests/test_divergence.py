"""Training failures are reported, not hidden: a NaN or infinite loss stops fit with a message
that says where and what to try, and keeps the history; a batch of one sample through
BatchNormalization stays finite (output beta, zero gradients), as documented."""

import warnings

import numpy as np
import pytest

import tinynet
from tinynet.callbacks import Callback
from tinynet.layers import BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam


def regression_data(n=64, scale=1.0):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)) * scale
    return x, x[:, 0] * 0.5


def deep_relu_model(learning_rate):
    tinynet.set_seed(0)
    model = Sequential([Dense(32, activation="relu", input_shape=(5,)),
                        Dense(32, activation="relu"), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="mse")
    return model


class BlowUpAfterEpoch(Callback):
    """Multiplies the first kernel by 1e38 at the end of one epoch: the next loss is inf."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self.ended = False

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.layers[0].params["kernel"][...] *= np.float32(1e38)

    def on_train_end(self, logs=None):
        self.ended = True


def test_a_huge_learning_rate_stops_fit_with_a_message_instead_of_raising():
    x, y = regression_data(scale=100.0)
    model = deep_relu_model(learning_rate=10.0)
    with pytest.warns(RuntimeWarning) as record:
        history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.diverged
    assert len(history.history["loss"]) < 5  # stopped before the last epoch
    assert not np.isfinite(history.history["loss"][-1])
    message = history.stop_message
    for words in ("Training stopped at epoch 1", "step", "/8", "smaller learning rate",
                  "(now 10)", "standardized", "BatchNormalization"):
        assert words in message
    assert any(message == str(warning.message) for warning in record)


def test_numpy_overflow_warnings_are_replaced_by_the_one_clear_message():
    x, y = regression_data(scale=100.0)
    model = deep_relu_model(learning_rate=10.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    texts = [str(warning.message) for warning in record]
    assert len(texts) == 1 and texts[0].startswith("Training stopped")


def test_the_history_before_the_failure_is_kept():
    x, y = regression_data()
    model = deep_relu_model(learning_rate=0.01)
    callback = BlowUpAfterEpoch(epoch=1)
    with pytest.warns(RuntimeWarning, match="epoch 3, step 1/"):
        history = model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[callback])
    losses = history.history["loss"]
    assert len(losses) == 3 and history.epoch == [0, 1, 2]
    assert np.all(np.isfinite(losses[:2])) and not np.isfinite(losses[2])
    assert model.history is history
    assert callback.ended  # callbacks still hear about the end of training


def test_validation_is_skipped_after_the_failure():
    x, y = regression_data()
    model = deep_relu_model(learning_rate=0.01)
    with pytest.warns(RuntimeWarning):
        history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_split=0.25,
                            callbacks=[BlowUpAfterEpoch(epoch=0)])
    assert len(history.history["val_loss"]) == 1  # only the healthy first epoch
    assert len(history.history["loss"]) == 2


def test_with_verbose_the_message_goes_to_stderr(capsys):
    x, y = regression_data(scale=100.0)
    history = deep_relu_model(learning_rate=10.0).fit(x, y, epochs=2, batch_size=8, verbose=2)
    assert history.diverged
    assert history.stop_message in capsys.readouterr().err


def test_a_healthy_run_reports_no_divergence():
    x, y = regression_data()
    history = deep_relu_model(learning_rate=0.01).fit(x, y, epochs=2, verbose=0)
    assert not history.diverged and history.stop_message is None
    assert len(history.history["loss"]) == 2


def test_train_on_batch_warns_when_the_loss_is_not_finite():
    x, y = regression_data()
    model = deep_relu_model(learning_rate=0.01)
    model.layers[0].params["kernel"][...] *= np.float32(1e38)
    with pytest.warns(RuntimeWarning, match="train_on_batch: the loss became"):
        loss = model.train_on_batch(x, y)
    assert not np.isfinite(loss)


# -- BatchNormalization with a batch of one sample ------------------------------------------

def built_batchnorm(features=3):
    layer = BatchNormalization()
    layer.build((None, features))
    layer.params["gamma"][...] = [2.0, -1.0, 0.5]
    layer.params["beta"][...] = [0.3, -0.7, 1.1]
    return layer


def test_batch_of_one_in_training_outputs_beta():
    layer = built_batchnorm()
    y = layer.forward(np.array([[5.0, -2.0, 1e4]], dtype=np.float32), training=True)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[0], layer.params["beta"])


def test_batch_of_one_in_training_passes_back_zero_gradients():
    layer = built_batchnorm()
    layer.forward(np.array([[5.0, -2.0, 7.0]], dtype=np.float32), training=True)
    grad_output = np.array([[1.5, -2.0, 0.25]], dtype=np.float32)
    grad_input = layer.backward(grad_output)
    assert np.all(grad_input == 0)
    assert np.all(layer.grads["gamma"] == 0)  # x_hat is 0, so gamma cannot matter
    np.testing.assert_allclose(layer.grads["beta"], grad_output[0])  # beta still learns


def test_batch_of_one_pulls_the_moving_variance_towards_zero_but_stays_finite():
    layer = built_batchnorm()
    layer.forward(np.array([[5.0, -2.0, 7.0]], dtype=np.float32), training=True)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.99)  # 0.99 * 1 + 0.01 * 0
    np.testing.assert_allclose(layer.state["moving_mean"], [0.05, -0.02, 0.07], rtol=1e-6)


def test_fit_with_batch_size_one_and_batchnorm_warns_and_the_layers_below_do_not_learn():
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(), loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(6, 3))
    y = (x[:, 0] > 0).astype(float)
    kernel_before = model.layers[0].params["kernel"].copy()
    with pytest.warns(RuntimeWarning, match="batches of one sample with BatchNormalization"):
        history = model.fit(x, y, batch_size=1, epochs=2, verbose=0)
    assert not history.diverged
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    np.testing.assert_array_equal(model.layers[0].params["kernel"], kernel_before)
    assert not np.array_equal(model.layers[1].params["beta"], np.zeros(4))  # beta did learn


def test_fit_with_batches_of_two_does_not_warn():
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(1)])
    model.compile(loss="mse")
    x = np.random.default_rng(0).normal(size=(6, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, x[:, 0], batch_size=2, verbose=0)


def test_one_image_a_batch_does_not_warn_about_batch_norm_after_a_convolution():
    # per channel, BN takes the statistics over every pixel of the one image: it learns, as
    # in Keras (which warns about nothing); only BN on vectors (N, D) sees variance 0
    import warnings

    from tinynet.layers import Conv2D, Flatten

    tinynet.set_seed(0)
    model = Sequential([Conv2D(3, 3, padding="same", input_shape=(4, 4, 2)),
                        BatchNormalization(), Flatten(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 4, 4, 2)), rng.normal(size=(3, 1))
    kernel_before = model.layers[0].params["kernel"].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.fit(x, y, batch_size=1, epochs=1, verbose=0)
        model.train_on_batch(x[:1], y[:1])
    assert not np.array_equal(model.layers[0].params["kernel"], kernel_before)  # it learned


def test_one_image_a_batch_still_warns_when_the_maps_are_one_pixel():
    from tinynet.layers import Conv2D, Flatten

    model = Sequential([Conv2D(3, 4, input_shape=(4, 4, 2)), BatchNormalization(), Flatten(),
                        Dense(1)])  # 1 x 1 maps: one value per channel per image
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((2, 4, 4, 2)), np.ones((2, 1))
    with pytest.warns(RuntimeWarning, match="batches of one sample with BatchNormalization"):
        model.fit(x, y, batch_size=1, epochs=1, verbose=0)
