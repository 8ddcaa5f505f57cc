"""The model of "A Gentle Introduction to Batch Normalization", in tinynet.

The listing below is the article's Keras code with only its import lines changed. It trains
the network on tinynet's synthetic 20-feature task with and without the BatchNormalization
layers, in the article's setup (20 epochs, batches of 32, validation_split=0.25), and shows
one run of each the way the article does (summary, then one line per epoch). One run is one
draw of the initial weights and of the batch order, so it cannot say which network is better:
the two networks are then trained again from a few more seeds (same data, silently), and the
validation numbers are compared over those seeds, with their noise. Lesson 01 asks the same
question in depth.

Run:  python examples/article_model.py  [--epochs 20] [--seed 1] [--seeds 5]
"""

import argparse

import tinynet
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam
from tinynet.stats import compare


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


def train(with_bn, seed, x, y, epochs, verbose):
    """Train the article's network (with or without BN) from `seed`; returns History.history."""
    tinynet.set_seed(seed)  # the same initial draws and batch order for both networks
    model = build(with_bn)
    if verbose:
        model.summary()
    history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.25,
                        verbose=2 if verbose else 0)
    return history.history


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1,
                        help="the data's seed and the seed of the run shown (default: 1)")
    parser.add_argument("--seeds", type=int, default=5,
                        help="how many seeds the comparison uses, from --seed on (default: 5)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")

    x, y = make_classification(n_samples=2000, n_features=20, seed=args.seed)
    epochs = f"{args.epochs} epoch" + ("s" if args.epochs != 1 else "")
    labels = {True: "with BN", False: "without BN"}
    seeds = [args.seed + k for k in range(args.seeds)]
    runs = {label: [] for label in labels.values()}
    for with_bn, label in labels.items():  # the article's display: one run of each
        print(f"\n=== {label} (seed {args.seed}) ===")
        runs[label].append(train(with_bn, args.seed, x, y, args.epochs, verbose=True))

    print(f"\nOne run of each (seed {args.seed} only: an illustration, not a comparison), "
          f"after {epochs}:")
    for label, (history,) in runs.items():
        print(f"  {label:<11} train accuracy {history['accuracy'][-1]:.3f} (fit's)   "
              f"validation accuracy {history['val_accuracy'][-1]:.3f}")

    for seed in seeds[1:]:  # the same data, other initial weights and batch order
        for with_bn, label in labels.items():
            runs[label].append(train(with_bn, seed, x, y, args.epochs, verbose=False))

    def final(label, key):
        return [history[key][-1] for history in runs[label]]

    others = "; the same data, other initial weights and batch order" if len(seeds) > 1 else ""
    print(f"\nBoth networks from {plural(len(seeds))} ({', '.join(map(str, seeds))}{others}), "
          f"after {epochs}:")
    for key, lower_is_better in (("val_accuracy", False), ("val_loss", True)):
        result = compare(final("with BN", key), final("without BN", key),
                         f"  {key.replace('val_', 'validation ')}",
                         lower_is_better=lower_is_better)
        print(result.sentence(interval=True))  # the interval shows how near 0 it comes
    print("Lesson 01 (python lessons/01_article_model.py) asks the same question in depth, "
          "in its own setup (30 epochs, 8 seeds from 0, other data), so its numbers and "
          "verdicts are its own: the curves, the over-fitting gap, and why BN's first "
          "validation loss is high.")


def plural(count):
    return f"{count} seed" if count == 1 else f"{count} seeds"


if __name__ == "__main__":
    main()
