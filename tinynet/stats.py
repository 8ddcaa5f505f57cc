"""Honest comparisons for the lessons: a number measured over several seeds, with its noise,
and words chosen from the numbers.

One training run is one draw of the initial weights and of the batch order. To say "BN gives
a lower loss" a lesson trains both networks from the same n seeds and looks at the n paired
differences d_i = a_i - b_i:

    mean difference   d_bar = (1/n) * sum_i d_i
    standard error    se = std(d, ddof=1) / sqrt(n)     (how much d_bar moves between repeats)

A difference smaller than twice its standard error is read as noise: "no clear difference at
this scale". Twice the standard error is a rough rule, lenient for few seeds; with one seed
there is no noise estimate at all, and the verdict says so.

    result = compare(loss_bn, loss_plain, "final validation loss", ("with BN", "without BN"))
    print(result.sentence())
    # final validation loss: 0.281 with BN vs 0.262 without BN; difference +0.019 ± 0.011
    # s.e. over 5 seeds: no clear difference at this scale
"""

from dataclasses import dataclass

import numpy as np

NOISE_MULTIPLE = 2.0  # a difference below 2 standard errors is called noise


def mean_and_se(values, name="values"):
    """(mean, standard error of the mean) of a 1-D sequence of numbers over seeds.

    values: (n,). The standard error is nan when n == 1 (one seed cannot measure noise)."""
    array = as_vector(values, name)
    if len(array) == 1:
        return float(array[0]), float("nan")  # one value cannot show its spread
    return float(array.mean()), float(array.std(ddof=1) / np.sqrt(len(array)))


@dataclass
class Comparison:
    """The result of compare(): means, their difference (a - b) and its noise."""

    what: str
    names: tuple
    mean_a: float
    mean_b: float
    difference: float
    se: float
    n: int
    lower_is_better: bool
    fmt: str
    over: str = "seed"

    @property
    def clear(self):
        """True when the difference is larger than NOISE_MULTIPLE standard errors."""
        return bool(np.isfinite(self.se) and abs(self.difference) > NOISE_MULTIPLE * self.se)

    @property
    def favours(self):
        """The name of the better side when the difference is clear, else None."""
        if not self.clear or self.lower_is_better is None:
            return None
        a_is_lower = self.difference < 0
        return self.names[0] if a_is_lower == self.lower_is_better else self.names[1]

    @property
    def verdict(self):
        """A few words from the numbers: which side is better, or that noise cannot tell."""
        if not np.isfinite(self.se):
            return "one seed only: no noise estimate, so no verdict"
        if not self.clear:
            return "no clear difference at this scale"
        if self.lower_is_better is None:  # neither side is "better": say which is larger
            direction = "lower" if self.difference < 0 else "higher"
            return f"{self.names[0]} is {direction}, beyond the noise"
        return f"{self.favours} is better, beyond the noise"

    def noise(self):
        """The difference with its noise, e.g. '+0.019 ± 0.011 s.e. over 5 seeds'."""
        value = self.fmt.format(self.difference)
        if not value.startswith(("-", "+")):
            value = "+" + value
        se = "n/a" if not np.isfinite(self.se) else self.fmt.format(self.se).lstrip("+")
        return f"{value} ± {se} s.e. over {self.n} {plural(self.over, self.n)}"

    def sentence(self):
        """One line: both means, the difference with its noise, and the verdict."""
        a, b = self.fmt.format(self.mean_a), self.fmt.format(self.mean_b)
        return (f"{self.what}: {a} {self.names[0]} vs {b} {self.names[1]}; difference "
                f"{self.noise()}: {self.verdict}")


def compare(a, b, what, names=("with BN", "without BN"), lower_is_better=True,
            fmt="{:.3f}", paired=True, over="seed"):
    """Compare a quantity measured over seeds for two kinds of run.

    a, b: (n,) one value per seed (the same seeds in the same order when paired=True).
    what: what was measured, e.g. 'final validation loss'. names: the two kinds.
    lower_is_better: True for losses and steps, False for accuracies, None when neither side
    is better (the verdict then says which is higher).
    paired=False: independent runs; the standard error is sqrt(se_a^2 + se_b^2).
    over: what one value stands for, in the printout ('seed', or e.g. 'batch').
    Returns a Comparison (its .sentence() is ready to print)."""
    a, b = as_vector(a, "a"), as_vector(b, "b")
    if not isinstance(what, str) or not what:
        raise TypeError(f"compare(what=...) must say what was measured, got {what!r}")
    if not (isinstance(names, (tuple, list)) and len(names) == 2
            and all(isinstance(name, str) for name in names)):
        raise TypeError(f"compare(names=...) must be two strings, got {names!r}")
    if paired:
        if len(a) != len(b):
            raise ValueError(f"compare: paired runs need as many values in a as in b, got "
                             f"{len(a)} and {len(b)}")
        difference, se = mean_and_se(a - b, "a - b")
    else:
        (mean_a, se_a), (mean_b, se_b) = mean_and_se(a, "a"), mean_and_se(b, "b")
        difference, se = mean_a - mean_b, float(np.hypot(se_a, se_b))
    return Comparison(what=what, names=tuple(names), mean_a=float(a.mean()),
                      mean_b=float(b.mean()), difference=float(difference), se=float(se),
                      n=min(len(a), len(b)),
                      lower_is_better=None if lower_is_better is None else bool(lower_is_better),
                      fmt=fmt, over=over)


def plural(word, count):
    """'seed' -> 'seeds', 'batch' -> 'batches' (when count is not 1)."""
    if count == 1:
        return word
    return word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")


def as_vector(values, name):
    """values as a 1-D float array with at least one finite number, or a clear error."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, one per seed, got {values!r}") from None
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence (one value per seed), "
                         f"got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds a NaN or infinite value (a diverged run?): {array}; "
                         f"report divergence separately and compare the finite runs")
    return array
