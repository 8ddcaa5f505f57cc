"""Make tests/data/keras_snippets_reference.npz: short Keras programs and what Keras 3 computes.

Each snippet below is Keras code of the kinds the Keras guides show (the Sequential model,
training and evaluation with the built-in methods, callbacks, transfer learning and freezing,
the BatchNormalization and Dropout pages). tests/test_keras_snippets.py runs the same text in
tinynet with only its import lines changed (`import keras` -> `import tinynet as keras`,
`from keras... import` -> `from tinynet... import`) and compares the numbers it records.

Two helpers tie the runs together; they are not part of the Keras code itself:
    start_weights(model)  Keras: the model's own first weights, recorded; tinynet: the same
                          weights, so both start from one point (get_weights/set_weights)
    record(**values)      saves numbers (lists, arrays, floats) under the snippet's name
The data (x, y, x_val, ...) are fixed NumPy arrays made here and saved in the fixture. Every
fit uses shuffle=False, so the batches are the same.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_snippets_reference.py
"""

import os
import re
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_snippets_reference.npz")


def make_data():
    """Small fixed data sets: binary, 3-class and regression, with validation parts."""
    rng = np.random.default_rng(2026)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    w = rng.normal(size=(6,))
    y_bin = (x @ w + 0.5 * rng.normal(size=96) > 0).astype(np.float32)
    y_cls = np.digitize(x @ w, [-1.0, 1.0])          # labels 0, 1, 2
    y_reg = (x @ rng.normal(size=(6, 2)) + 0.1 * rng.normal(size=(96, 2))).astype(np.float32)
    return {"x": x[:64], "x_val": x[64:], "y_bin": y_bin[:64], "y_bin_val": y_bin[64:],
            "y_cls": y_cls[:64], "y_cls_val": y_cls[64:], "y_reg": y_reg[:64],
            "y_reg_val": y_reg[64:],
            "weights": rng.uniform(0.2, 2.0, size=64).astype(np.float32)}


# -- the snippets ----------------------------------------------------------------------------
# name -> Keras code. Only the lines that start with `import` or `from` change for tinynet.

SNIPPETS = {}

SNIPPETS["sequential_add_and_pop"] = """
import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(6,)))
model.add(layers.Dense(8, activation="relu"))
model.add(layers.Dense(4, activation="relu"))
model.add(layers.Dense(3))
model.pop()
model.set_weights(start_weights(model))
record(n_layers=len(model.layers), n_weights=len(model.weights),
       params=model.count_params(), predict=model.predict(x, verbose=0))
"""

SNIPPETS["sequential_list_with_names"] = """
import keras
from keras import layers

model = keras.Sequential([
    layers.Input(shape=(6,)),
    layers.Dense(5, activation="relu", name="layer1"),
    layers.Dense(3, activation="relu", name="layer2"),
    layers.Dense(2, name="layer3"),
])
model.set_weights(start_weights(model))
layer = model.get_layer(name="layer2")
record(kernel=layer.get_weights()[0], same=model.get_layer(index=1) is layer,
       predict=model.predict(x, verbose=0))
"""

SNIPPETS["sequential_build_later"] = """
import keras
from keras import layers

model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
model.build((None, 6))
model.set_weights(start_weights(model))
record(params=model.count_params(), n_weights=len(model.weights),
       predict=model.predict(x[:10], verbose=0))
"""

SNIPPETS["input_dim_and_summary_counts"] = """
from keras.models import Sequential
from keras.layers import Dense, BatchNormalization, Activation

model = Sequential([Dense(16, input_dim=6), BatchNormalization(), Activation("relu"),
                    Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
record(total=model.count_params(), trainable=trainable, non_trainable=non_trainable)
"""

SNIPPETS["guide_training_rmsprop_sparse"] = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(6,)),
    layers.Dense(16, activation="relu", name="dense_1"),
    layers.Dense(16, activation="relu", name="dense_2"),
    layers.Dense(3, activation="softmax", name="predictions"),
])
model.set_weights(start_weights(model))
model.compile(
    optimizer=keras.optimizers.RMSprop(),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
history = model.fit(x, y_cls, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    validation_data=(x_val, y_cls_val))
results = model.evaluate(x_val, y_cls_val, batch_size=16, verbose=0)
record(**history.history, evaluate=results, predict=model.predict(x_val[:5], verbose=0))
"""

SNIPPETS["guide_training_string_names"] = """
from keras import Sequential
from keras.layers import Dense

model = Sequential([Dense(8, activation="tanh", input_shape=(6,)),
                    Dense(3, activation="softmax")])
model.set_weights(start_weights(model))
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
history = model.fit(x, y_cls, batch_size=32, epochs=3, shuffle=False, verbose=0)
record(**history.history)
"""

SNIPPETS["from_logits_loss"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(3)])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history = model.fit(x, y_cls, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history, logits=model.predict(x_val[:4], verbose=0))
"""

SNIPPETS["categorical_with_to_categorical"] = """
import keras
from keras import layers
from keras.utils import to_categorical

y_onehot = to_categorical(y_cls, num_classes=3)
model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(3, activation="softmax")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="categorical_crossentropy",
              metrics=["accuracy", keras.metrics.CategoricalAccuracy(name="cat_acc")])
history = model.fit(x, y_onehot, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history)
"""

SNIPPETS["custom_metric_function"] = """
import keras
from keras import layers

def abs_error(y_true, y_pred):
    return abs(y_true - y_pred)

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                          layers.Dense(2)])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
              metrics=[abs_error, "mae"])
history = model.fit(x, y_reg, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history)
"""

SNIPPETS["binary_metrics_auc_precision_recall"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="binary_crossentropy",
              metrics=["binary_accuracy", "AUC", keras.metrics.Precision(),
                       keras.metrics.Recall()])
history = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    validation_data=(x_val, y_bin_val))
record(**history.history)
"""

SNIPPETS["sample_weight_in_fit"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(x, y_bin, sample_weight=weights, batch_size=16, epochs=2, shuffle=False,
                    verbose=0)
record(**history.history, weights_after=model.get_weights()[0])
"""

SNIPPETS["class_weight_in_fit"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(3, activation="softmax")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
class_weight = {0: 1.0, 1: 0.5, 2: 2.0}
history = model.fit(x, y_cls, class_weight=class_weight, batch_size=16, epochs=2,
                    shuffle=False, verbose=0)
record(**history.history)
"""

SNIPPETS["validation_split_and_history"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y_bin, validation_split=0.25, batch_size=16, epochs=3, shuffle=False,
                    verbose=0)
record(**history.history, epoch=history.epoch, epochs=history.params["epochs"],
       steps=history.params["steps"])
"""

SNIPPETS["evaluate_return_dict_and_batches"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
first = model.train_on_batch(x[:16], y_bin[:16])
second = model.train_on_batch(x[16:32], y_bin[16:32])
tested = model.test_on_batch(x_val, y_bin_val)
predicted = model.predict_on_batch(x_val[:3])
scores = model.evaluate(x_val, y_bin_val, verbose=0, return_dict=True)
record(first=first, second=second, tested=tested, predicted=predicted,
       loss=scores["loss"], accuracy=scores["accuracy"], names=len(model.metrics_names))
"""

SNIPPETS["evaluate_with_sample_weight"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(2)])
model.set_weights(start_weights(model))
model.compile(optimizer="sgd", loss="mse")
plain = model.evaluate(x, y_reg, verbose=0)
weighted = model.evaluate(x, y_reg, sample_weight=weights, verbose=0)
record(plain=plain, weighted=weighted)
"""

SNIPPETS["regression_mae_huber_adagrad"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="elu"),
                          layers.Dense(2)])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.1),
              loss=keras.losses.Huber(delta=0.5), metrics=["mae", "mse"])
history = model.fit(x, y_reg, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    validation_data=(x_val, y_reg_val))
record(**history.history)
"""

SNIPPETS["adamw_regression"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="gelu"),
                          layers.Dense(2)])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
              loss="mean_absolute_error")
history = model.fit(x, y_reg, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history, final=model.get_weights()[0])
"""

SNIPPETS["kernel_regularizer_l2"] = """
import keras
from keras import layers, regularizers

model = keras.Sequential([
    keras.Input(shape=(6,)),
    layers.Dense(8, activation="relu", kernel_regularizer=regularizers.l2(0.01),
                 bias_regularizer=regularizers.l1(0.01)),
    layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.01)),
])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    validation_data=(x_val, y_bin_val))
record(**history.history)
"""

SNIPPETS["more_activations"] = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(6,)),
    layers.Dense(8, activation="selu", kernel_initializer="lecun_normal"),
    layers.Dense(8, activation="swish"),
    layers.Dense(8, activation="leaky_relu"),
    layers.Dense(8, activation="softplus"),
    layers.Dense(1, activation="hard_sigmoid"),
])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
              loss="binary_crossentropy")
history = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history)
"""

SNIPPETS["callback_collects_batch_losses"] = """
import keras
from keras import layers

class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs=None):
        self.per_batch_losses.append(logs.get("loss"))

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="binary_crossentropy")
losses = LossHistory()
model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[losses])
record(per_batch_losses=losses.per_batch_losses)
"""

SNIPPETS["callback_epoch_logs_and_early_stopping"] = """
import keras
from keras import layers

class EpochLogs(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append([epoch, logs["loss"], logs["val_loss"]])

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
seen = EpochLogs()
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
history = model.fit(x, y_bin, batch_size=16, epochs=30, shuffle=False, verbose=0,
                    validation_data=(x_val, y_bin_val), callbacks=[seen, stop])
record(seen=seen.seen, epochs_run=len(history.epoch))
"""

SNIPPETS["freeze_a_dense_layer"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.layers[0].trainable = False
model.compile(optimizer="adam", loss="binary_crossentropy")
history = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(**history.history, frozen=model.layers[0].get_weights()[0],
       trained=model.layers[1].get_weights()[0], n_trainable=len(model.trainable_weights))
"""

SNIPPETS["freeze_batchnorm_issue_case"] = """
import keras
from keras.models import Sequential
from keras.layers import Dense, BatchNormalization, Activation
from keras.optimizers import SGD

model = Sequential([Dense(4, input_shape=(5,)), BatchNormalization(), Activation("relu"),
                    Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.layers[0].trainable = False
model.layers[1].trainable = False
model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
history = model.fit(x[:, :5], y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0)
trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
record(**history.history, weights=model.get_weights(), trainable=trainable)
"""

SNIPPETS["fine_tuning_unfreeze_and_recompile"] = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(6,)),
    layers.Dense(8, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(8, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.set_weights(start_weights(model))
for layer in model.layers[:-1]:
    layer.trainable = False
model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy",
              metrics=[keras.metrics.BinaryAccuracy()])
first = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0)
model.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="binary_crossentropy",
              metrics=[keras.metrics.BinaryAccuracy()])
second = model.fit(x, y_bin, batch_size=16, epochs=2, shuffle=False, verbose=0)
record(first_loss=first.history["loss"], second_loss=second.history["loss"],
       second_acc=second.history["binary_accuracy"], weights=model.get_weights())
"""

SNIPPETS["batchnorm_arguments"] = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(6,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(momentum=0.9, epsilon=1e-5, beta_initializer="zeros",
                              gamma_initializer="ones"),
    layers.Activation("relu"),
    layers.Dense(3, activation="softmax"),
])
model.set_weights(start_weights(model))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x, y_cls, batch_size=16, epochs=2, shuffle=False, verbose=0)
bn = model.layers[1]
record(**history.history, bn_weights=bn.get_weights(),
       predict=model.predict(x_val[:4], verbose=0))
"""

SNIPPETS["batchnorm_training_vs_inference"] = """
import keras
from keras import layers

layer = layers.BatchNormalization()
layer.build((None, 6))
layer.set_weights(start_weights(layer))
in_training = layer(x[:8], training=True)
in_inference = layer(x[:8], training=False)
record(in_training=to_numpy(in_training), in_inference=to_numpy(in_inference),
       moving=layer.get_weights()[2:])
"""

SNIPPETS["dropout_page"] = """
import keras
from keras import layers

layer = layers.Dropout(0.2, input_shape=(2,))
data = np.arange(10).reshape(5, 2).astype(np.float32)
outputs = layer(data, training=False)
big = layers.Dropout(0.2)
kept = to_numpy(big(np.ones((400, 50), dtype=np.float32), training=True))
record(outputs=to_numpy(outputs), values=np.unique(np.round(kept, 5)))
"""

SNIPPETS["dropout_in_a_model_predicts_deterministically"] = """
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(16, activation="relu"),
                          layers.Dropout(0.5), layers.Dense(1, activation="sigmoid")])
model.set_weights(start_weights(model))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
record(predict=model.predict(x_val, verbose=0),
       evaluate=model.evaluate(x_val, y_bin_val, verbose=0))
"""


# -- running a snippet -----------------------------------------------------------------------

def tinynet_source(code):
    """The same program for tinynet: only the import lines change."""
    lines = []
    for line in code.splitlines():
        if line.startswith("import keras"):
            line = re.sub(r"^import keras\b", "import tinynet as keras", line)
        elif line.startswith("from keras"):
            line = re.sub(r"^from keras\b", "from tinynet", line)
        lines.append(line)
    return "\n".join(lines)


def as_array(value):
    """A recorded value as a float64 array (lists of arrays of different shapes are flattened
    one after another)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        parts = [as_array(v).ravel() for v in value]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.asarray(value, dtype=np.float64)


def run_snippet(name, code, data, weights=None):
    """Run one snippet; return ({key: array}, [start weights]). With `weights` (the tinynet
    run), start_weights returns those instead of the model's own."""
    recorded, starts = {}, []

    def start_weights(model):
        if weights is None:
            starts.append([np.array(w) for w in model.get_weights()])
            return starts[-1]
        return weights

    def record(**values):
        recorded.update({key: as_array(value) for key, value in values.items()})

    def to_numpy(tensor):
        return as_array(tensor)

    namespace = {"np": np, "start_weights": start_weights, "record": record,
                 "to_numpy": to_numpy, **data}
    exec(compile(code, f"<snippet {name}>", "exec"), namespace)
    return recorded, (starts[0] if starts else [])


def main():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    data = make_data()
    arrays = {f"data/{key}": value for key, value in data.items()}
    for name, code in SNIPPETS.items():
        keras.utils.set_random_seed(0)
        recorded, starts = run_snippet(name, code, data)
        arrays.update({f"{name}/{key}": value for key, value in recorded.items()})
        arrays.update({f"{name}/start_{i:02d}": w for i, w in enumerate(starts)})
        print(f"{name}: {', '.join(recorded)}")
    arrays["keras_version"] = np.array(keras.__version__)
    tmp = OUT + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, OUT)
    print(f"Keras {keras.__version__} ({keras.backend.backend()}): {len(SNIPPETS)} snippets "
          f"-> {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KB)")


if __name__ == "__main__":
    sys.exit(main())
