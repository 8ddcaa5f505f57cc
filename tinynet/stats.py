"""Honest comparisons for the lessons: a number measured over several seeds, with its noise,
and words chosen from the numbers.

One training run is one draw of the initial weights and of the batch order. To say "BN gives
a lower loss" a lesson trains both networks from the same n seeds and looks at the n paired
differences d_i = a_i - b_i:

    mean difference   d_bar = (1/n) * sum_i d_i
    standard error    se = std(d, ddof=1) / sqrt(n)     (how much d_bar moves between repeats)

A difference is "beyond the noise" when its 95 % confidence interval leaves out 0, that is
when |d_bar| > t * se, with t Student's two-sided 95 % critical value for n - 1 degrees of
freedom (12.7 for 2 seeds, 4.30 for 3, 2.78 for 5, 2.26 for 10, 2.01 for 50, towards 1.96
for very many): few seeds need a larger margin. Otherwise it reads "no clear difference at
this scale". With one seed there is no noise estimate at all, and the verdict says so; nor
with two seeds that give exactly the same difference (se = 0, easy with counts such as "runs
that diverged").

    result = compare(loss_bn, loss_plain, "final validation loss", ("with BN", "without BN"))
    print(result.sentence())
    # final validation loss: 0.2810 with BN vs 0.2620 without BN; difference +0.019 ± 0.011
    # s.e. over 5 seeds: no clear difference at this scale

The means get one digit more than the difference, and the difference printed is the
difference of the printed means: the numbers add up as you read them (Comparison.shown).
"""

import re
import string
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

import numpy as np

from tinynet.validation import check_bool, check_float, check_int

# Two-sided 95 % critical values of Student's t for 1, 2, ..., 30 degrees of freedom, as in the
# t table of the NIST/SEMATECH e-Handbook of Statistical Methods and in Quené & van den Bergh's
# "Quantitative Methods and Statistics", appendix C; for more, see t_critical_95.
T_CRITICAL_95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)

# A format that prints a fixed number of digits after the point: '{:.3f}', '{:+.2f}', '{:.1%}'
FIXED_POINT = re.compile(r"\{:\+?\.(\d+)([f%])\}")


def noise_multiple(n):
    """How many standard errors a mean of n values must be from 0 to be told from noise.
    Raises ValueError for n < 2: one value has no noise estimate."""
    n = check_int(n, "noise_multiple(n=...)")
    if n < 2:
        raise ValueError(f"noise_multiple(n={n}): a mean of fewer than 2 values has no noise "
                         f"estimate, so no margin")
    return t_critical_95(n - 1)


def t_critical_95(degrees):
    """Student's two-sided 95 % critical value for `degrees` (an int >= 1) degrees of
    freedom: the table T_CRITICAL_95 up to 30, and beyond it the first terms of its expansion
    about the normal's z = 1.95996 (Cornish-Fisher; Abramowitz & Stegun 26.7.5):

        t = z + (z^3 + z) / (4 v) + (5 z^5 + 16 z^3 + 3 z) / (96 v^2)
              + (3 z^7 + 19 z^5 + 17 z^3 - 15 z) / (384 v^3)

    It gives the tables' 2.042 at v = 30, 2.021 at 40, 2.000 at 60 and 1.984 at 100 (NIST's
    table), and tends to z for very many values. (For few degrees the expansion is far off,
    9.71 instead of 12.706 at v = 1: there the table is used.)"""
    degrees = check_int(degrees, "t_critical_95(degrees=...)", minimum=1)
    if degrees <= 30:
        return T_CRITICAL_95[degrees - 1]
    z, v = NormalDist().inv_cdf(0.975), float(degrees)
    return (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3))


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
    bounds: tuple = None  # (lowest, highest) value one measurement can take, if it has them

    @property
    def measured(self):
        """False when there is no noise estimate to judge by: one seed, or two seeds that
        happen to give exactly the same difference (se = 0, common with counts), which
        measure no noise at all. `verdict` then says so, and words built on "no clear
        difference" would claim more than the runs show."""
        return bool(np.isfinite(self.se)) and not (self.se == 0 and self.n < 3
                                                   and self.difference != 0)

    @property
    def clear(self):
        """True when the 95 % interval of the difference leaves out 0 (see noise_multiple);
        never without a noise estimate (see measured)."""
        if not self.measured:
            return False
        return bool(abs(self.difference) > noise_multiple(self.n) * self.se)

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
        if not self.measured:
            return ("one seed only: no noise estimate, so no verdict"
                    if not np.isfinite(self.se) else
                    f"the same difference in both {self.over}s, too few to measure the noise, "
                    f"so no verdict")
        if not self.clear:
            return "no clear difference at this scale"
        if self.lower_is_better is None:  # neither side is "better": say which is larger
            direction = "lower" if self.difference < 0 else "higher"
            return f"{self.names[0]} is {direction}, beyond the noise"
        return f"{self.favours} is better, beyond the noise"

    def shown(self):
        """The two means and their difference as printed: three texts (a, b, difference) that
        add up as you read them. With fmt '{:.3f}' the means get one digit more (0.80957 and
        0.79220 print as '0.8096' vs '0.7922') and the difference is the difference of those
        printed means, rounded half up to fmt's digits ('+0.017'): each rounded on its own,
        they would print as 0.810 vs 0.792 next to +0.017. With a percent fmt ('{:.1%}') the
        means are percentages (0.10157 and 0.13612 print as '10.16', '13.61') and the
        difference is in points ('-3.5', from 10.16 - 13.61 = -3.45). Any other
        fmt prints each number with fmt as it is. The verdict always comes from the
        unrounded numbers."""
        fixed = FIXED_POINT.fullmatch(self.fmt)
        if fixed is None:
            return self.fmt.format(self.mean_a), self.fmt.format(self.mean_b), \
                signed(self.fmt.format(self.difference))
        digits = int(fixed.group(1))
        scale = 100 if fixed.group(2) == "%" else 1  # percent: the difference in points
        a, b = (f"{scale * mean:.{digits + 1}f}" for mean in (self.mean_a, self.mean_b))
        step = Decimal(1).scaleb(-digits)  # 0.001 for 3 digits
        difference = (Decimal(a) - Decimal(b)).quantize(step, rounding=ROUND_HALF_UP)
        return a, b, signed(f"{difference:f}")

    @property
    def borderline(self):
        """True when the difference is near the edge of the noise (between 0.75 and 1.33 times
        the 95 % margin t * se): there the rounded numbers alone could seem to contradict the
        verdict, so noise() adds the interval itself."""
        if not np.isfinite(self.se) or self.se == 0:
            return False
        return 0.75 < abs(self.difference) / (noise_multiple(self.n) * self.se) < 1.33

    def interval(self):
        """(low, high): the 95 % interval of the difference, difference ± t * se, the interval
        the verdict reads (clear when it leaves out 0)."""
        reach = noise_multiple(self.n) * self.se
        return self.difference - reach, self.difference + reach

    def noise(self, interval=None):
        """The difference with its noise, e.g. '+0.019 ± 0.011 s.e. over 5 seeds' (the
        difference as shown() prints it). With a percent format the difference of two
        percentages is in percentage points: '-5.4 ± 4.2 points s.e. over 4 seeds' (not
        '-5.4%', which reads as a relative change). interval=True adds the 95 % interval,
        ', 95 % interval +0.0001 to +0.0103'; by default it is added when the difference is
        borderline."""
        over = f"s.e. over {self.n} {plural(self.over, self.n)}"
        difference = self.shown()[2]
        fixed = FIXED_POINT.fullmatch(self.fmt)
        if self.fmt.endswith("%}"):
            places = int(fixed.group(1)) if fixed else 1
            se = "n/a" if not np.isfinite(self.se) else f"{100 * self.se:.{places}f}"
            text = f"{difference} ± {se} points {over}"
        else:
            se = "n/a" if not np.isfinite(self.se) else self.fmt.format(self.se).lstrip("+")
            text = f"{difference} ± {se} {over}"
        if np.isfinite(self.se) and (interval or (interval is None and self.borderline)):
            # after a comma, not in brackets: lessons put noise() itself in brackets
            text += f", 95 % interval {self.interval_words()}"
        return text

    def interval_words(self):
        """The 95 % interval as printed, '+0.0001 to +0.0103' ('-3.42 to +1.05 points' with a
        percent fmt). With bounds (say (0, 1) for accuracies) no difference can pass
        ±(highest - lowest); an interval reaching further, as it does with two seeds, whose
        margin is 12.7 standard errors, is cut there and says so, instead of printing an
        impossible range as if it were measured: '-0.4649 to +1.0000, cut at the largest
        possible difference, ±1.0000'. (The true difference lies in that range, so the cut
        interval covers it whenever the whole one does.)"""
        low, high = self.interval()
        points = " points" if self.fmt.endswith("%}") else ""
        widest = np.inf if self.bounds is None else self.bounds[1] - self.bounds[0]
        cut = low < -widest or high > widest
        low, high = max(low, -widest), min(high, widest)
        text = f"{self.finer(low)} to {self.finer(high)}{points}"
        if cut:
            text += f", cut at the largest possible difference, ±{self.finer(widest)[1:]}{points}"
        return text

    def finer(self, value):
        """value signed, one digit finer than fmt (in points for a percent fmt), as the
        interval's ends are printed: '+0.0103'."""
        fixed = FIXED_POINT.fullmatch(self.fmt)
        if fixed is None:
            return signed(self.fmt.format(value))
        scale = 100 if fixed.group(2) == "%" else 1
        return f"{scale * value:+.{int(fixed.group(1)) + 1}f}"

    def sentence(self, interval=None):
        """One line: both means, the difference with its noise (and its interval, see noise),
        and the verdict, e.g. 'final validation loss: 0.2810 with BN vs 0.2620 without BN;
        difference +0.019 ± 0.011 s.e. over 5 seeds: no clear difference at this scale'."""
        a, b, _ = self.shown()
        unit = "%" if self.fmt.endswith("%}") else ""
        return (f"{self.what}: {a}{unit} {self.names[0]} vs {b}{unit} {self.names[1]}; "
                f"difference {self.noise(interval)}: {self.verdict}")


def signed(text):
    """'0.017' -> '+0.017'; '-0.017' stays."""
    return text if text.startswith(("-", "+")) else "+" + text


def compare(a, b, what, names=("with BN", "without BN"), lower_is_better=True,
            fmt="{:.3f}", paired=True, over="seed", bounds=None):
    """Compare a quantity measured over seeds for two kinds of run.

    a, b: (n,) one value per seed (the same seeds in the same order when paired=True).
    what: what was measured, e.g. 'final validation loss'. names: the two kinds.
    lower_is_better: True for losses and steps, False for accuracies, None when neither side
    is better (the verdict then says which is higher).
    paired=False: independent runs; the standard error is sqrt(se_a^2 + se_b^2).
    over: what one value stands for, in the printout ('seed', or e.g. 'batch').
    bounds: (lowest, highest) value a measurement can take, e.g. (0, 1) for an accuracy or an
    error rate; an interval printed wider than any difference can be then says so (see
    Comparison.interval_words). Every value of a and b must lie within them.
    fmt: how one number is printed, one replacement field such as '{:.3f}' or '{:.1%}'.
    Returns a Comparison (its .sentence() is ready to print)."""
    a, b = as_vector(a, "a"), as_vector(b, "b")
    if not isinstance(what, str) or not what:
        raise TypeError(f"compare(what=...) must say what was measured, got {what!r}")
    if not (isinstance(names, (tuple, list)) and len(names) == 2
            and all(isinstance(name, str) for name in names)):
        raise TypeError(f"compare(names=...) must be two strings, got {names!r}")
    # 'False' would count as true and flip the verdict: only True, False (or None) will do
    if lower_is_better is not None:
        lower_is_better = check_bool(lower_is_better, "compare(lower_is_better=...)")
    paired = check_bool(paired, "compare(paired=...)")
    check_fmt(fmt)
    bounds = check_bounds(bounds)
    if bounds is not None:
        check_within(a, b, bounds)
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
                      lower_is_better=lower_is_better, fmt=fmt, over=over, bounds=bounds)


def check_bounds(bounds):
    """bounds as a (low, high) pair of floats with low < high, or None."""
    if bounds is None:
        return None
    # a string such as '01' is two items long too: only a pair of numbers will do
    if not isinstance(bounds, (tuple, list, np.ndarray)) or len(bounds) != 2:
        raise TypeError(f"compare(bounds=...) must be (lowest, highest), two numbers, e.g. "
                        f"(0, 1) for an accuracy; got {bounds!r}")
    low, high = (check_float(value, "compare(bounds=...): each end") for value in bounds)
    if not low < high:
        raise ValueError(f"compare(bounds=...): the lowest value must be below the highest, "
                         f"got {bounds!r}")
    return low, high


def check_within(a, b, bounds):
    """A clear error for values outside bounds (their interval would contradict itself)."""
    low, high = bounds
    outside = [float(value) for value in np.concatenate([a, b]) if not low <= value <= high]
    if outside:
        hint = " (percentages? then bounds=(0, 100))" if high <= 1 < max(outside) <= 100 else ""
        shown = ", ".join(f"{value:g}" for value in outside[:5])
        raise ValueError(f"compare: every value of a and b must lie within bounds=({low:g}, "
                         f"{high:g}), got {shown}{' ...' if len(outside) > 5 else ''}{hint}")


def check_fmt(fmt, where="compare"):
    """A clear error now, not later inside .sentence() or a figure, for a fmt that cannot
    print one number: it must have exactly one replacement field ('abc' would print 'abc'
    for every number, '{}{}' needs two) and format a float ('{:d}' cannot). `where` names
    the caller (plot.heatmap uses it too)."""
    if not isinstance(fmt, str):
        raise TypeError(f"{where}(fmt=...) must be a format string such as '{{:.3f}}', "
                        f"got {fmt!r}")
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(fmt) if field is not None]
        fmt.format(0.5)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
        raise ValueError(f"{where}(fmt=...) must format a number, like '{{:.3f}}'; {fmt!r} "
                         f"cannot ({error})") from None
    if len(fields) != 1:
        raise ValueError(f"{where}(fmt=...) must hold one replacement field for the number, "
                         f"like '{{:.3f}}'; {fmt!r} has {len(fields)}")


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
