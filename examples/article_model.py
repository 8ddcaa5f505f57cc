"""The model of "A Gentle Introduction to Batch Normalization", in tinynet.

The listing below is the article's Keras code with only its import lines changed. It trains
the network on tinynet's synthetic 20-feature task with and without the BatchNormalization
layers (same seed, same data) and prints the final accuracies of both.

Run:  python examples/article_model.py  [--epochs 20] [--seed 1]
"""

import argparse

import tinynet
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam


def build(with_bn):
    """The article's network; without BN the two BatchNormalization layers are left out."""
    if with_bn:
        model = Sequential([
            Dense(64, input_shape=(20,)),
            BatchNormalization(),
            Activation("relu"),
            Dense(32),
            BatchNormalization(),
            Activation("relu"),
            Dense(1, activation="sigmoid"),
        ])
    else:
        model = Sequential([
            Dense(64, input_shape=(20,)),
            Activation("relu"),
            Dense(32),
            Activation("relu"),
            Dense(1, activation="sigmoid"),
        ])
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    x, y = make_classification(n_samples=2000, n_features=20, seed=args.seed)
    results = {}
    for with_bn in (True, False):
        tinynet.set_seed(args.seed)  # the same initial draws for both runs
        model = build(with_bn)
        label = "with BN" if with_bn else "without BN"
        print(f"\n=== {label} ===")
        model.summary()
        history = model.fit(x, y, epochs=args.epochs, batch_size=32, validation_split=0.25,
                            verbose=2)
        results[label] = (history.history["accuracy"][-1], history.history["val_accuracy"][-1])

    print(f"\nAfter {args.epochs} epochs:")
    for label, (train_acc, val_acc) in results.items():
        print(f"  {label:<11} train accuracy {train_acc:.3f}   validation accuracy {val_acc:.3f}")


if __name__ == "__main__":
    main()
