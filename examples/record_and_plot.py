"""Train the article's model with and without BN under a Recorder; save three figures.

The core is the ten lines in main(): data, two recorded runs, three plots. Everything runs
offline on the synthetic 20-feature task.

Run:  python examples/record_and_plot.py  [--out examples/figures] [--epochs 20] [--seed 1]
Writes loss_curves.png, gradient_flow.png and percentile_bands.png to --out.
"""

import argparse
import os

import tinynet
from tinynet import plot
from tinynet.callbacks import Recorder
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam


def build(with_bn):
    """The article's network; without BN its two BatchNormalization layers are left out."""
    def bn():
        return [BatchNormalization()] if with_bn else []

    model = Sequential([Dense(64, input_shape=(20,)), *bn(), Activation("relu"),
                        Dense(32), *bn(), Activation("relu"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("examples", "figures"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    x, y = make_classification(n_samples=2000, n_features=20, seed=args.seed)
    histories, recorders = {}, {}
    for label, with_bn in (("with BN", True), ("without BN", False)):
        tinynet.set_seed(args.seed)  # the same initial draws for both runs
        recorders[label] = Recorder(every=10)
        histories[label] = build(with_bn).fit(x, y, epochs=args.epochs, batch_size=32, verbose=0,
                                              validation_split=0.25, callbacks=[recorders[label]])
    plot.loss_curves(histories, path=os.path.join(args.out, "loss_curves.png"))
    plot.gradient_flow(recorders, path=os.path.join(args.out, "gradient_flow.png"))
    # the input of the second ReLU: normalized with BN, the raw Dense output without
    plot.percentile_bands(recorders, "activation_1",
                          path=os.path.join(args.out, "percentile_bands.png"))

    for label, history in histories.items():
        print(f"{label:<11} final loss {history.history['loss'][-1]:.3f}, "
              f"validation accuracy {history.history['val_accuracy'][-1]:.3f}")
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
