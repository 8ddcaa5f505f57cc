"""What fit, evaluate and predict print, in Keras 3's format.

verbose=1, one bar per epoch (redrawn in place on a terminal while the epoch runs):

    Epoch 1/10
    32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.7871 - loss: 0.4626

verbose=2, one line per epoch, written when the epoch ends:

    Epoch 1/10
    32/32 - 0s - 2ms/step - accuracy: 0.7871 - loss: 0.4626

The parts of a line: steps done / steps in the epoch; the bar (20 cells); the time so far (or,
while the epoch runs, the time it still needs); the time per step; then the logs in the order
they come (Keras sorts them by name, so 'accuracy' comes before 'loss'). A value above 1e-3 is
shown as 0.1234, a smaller one as 1.2345e-04, so a tiny loss never shows as 0.0000.

On a terminal the bar is redrawn in place with a carriage return and its done part is green.
Anywhere else (a file, a pipe, a notebook run by a script) only the finished line is written,
with no control characters at all, so logs stay readable.
"""

import math
import sys
import time

import numpy as np

# the cell Keras draws its bar with; '=' on a stream that cannot encode it (e.g. ASCII)
BAR_CELL = "\u2501"
GREEN, RESET = "\x1b[32m", "\x1b[0m"


def format_value(value, keep_sign=True):
    """0.4626 -> '0.4626'; 0.00012 -> '1.2000e-04' (Keras's rule: 4 decimals above 1e-3).

    keep_sign=False is Keras's verbose=2 rule, which compares the value itself, not its size,
    with 1e-3: there a negative value is always written with an exponent. A metric with one
    number per threshold (TruePositives(thresholds=[0.2, 0.6])) shows their mean, as Keras's
    bar does; the logs and History keep every number.
    """
    if np.ndim(value) > 0:
        value = float(np.mean(value))
    size = abs(value) if keep_sign else value
    return f"{value:.4f}" if size > 1e-3 else f"{value:.4e}"


def format_logs(logs, keep_sign=True):
    """{'accuracy': 0.5, 'loss': 0.69} -> 'accuracy: 0.5000 - loss: 0.6900'."""
    return " - ".join(f"{key}: {format_value(value, keep_sign)}" for key, value in logs.items())


def format_step_time(seconds, unit_name="step"):
    """'2s/step', '2ms/step', or for steps under a millisecond (small models are that fast)
    '250us/step', with the seconds rounded to whole units as Keras does."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds):
    """The time an epoch still needs: '7s', '1:05', '1:01:05'."""
    if seconds > 3600:
        return f"{seconds // 3600:.0f}:{seconds % 3600 // 60:02.0f}:{seconds % 60:02.0f}"
    if seconds > 60:
        return f"{seconds // 60:.0f}:{seconds % 60:02.0f}"
    return f"{seconds:.0f}s"


class ProgressBar:
    """The progress of one epoch (or one evaluate / predict): ProgressBar(target, verbose).

        bar = ProgressBar(steps, verbose=1)
        for step in range(steps):
            ...
            bar.update(step + 1, logs)      # logs: the running means so far
        bar.finish(epoch_logs)              # the finished line, with the validation logs

    target:  the number of steps (None when unknown: the finished line then counts the steps
    that were updated); verbose: 1 (a bar) or 2 (one line at the end); 0 prints nothing.
    stream: where to write (sys.stdout by default, looked up when the bar is made).
    """

    def __init__(self, target, verbose=1, width=20, stream=None, unit_name="step",
                 interval=0.05):
        self.target = target
        self.verbose = verbose
        self.width = width
        self.stream = stream if stream is not None else sys.stdout
        self.unit_name = unit_name
        self.interval = interval  # seconds between two redraws of a live bar
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.cell = BAR_CELL if can_encode(self.stream, BAR_CELL) else "="
        self.start = time.perf_counter()
        self.after_first_step = None  # when step 1 ended: the first step is not typical
        self.last_draw = 0.0
        self.drawn_width = 0  # length of the line on screen, to blank it when redrawing
        self.current = 0  # steps done so far

    def step_time(self, current, now):
        """Seconds per step, leaving out the first step (it includes one-time costs) once
        there are others to average, as Keras does."""
        if current == 0:
            return 0.0
        if self.after_first_step is not None and current > 1:
            return (now - self.after_first_step) / (current - 1)
        if current == 1:
            self.after_first_step = now
        return (now - self.start) / current

    def update(self, current, logs=None):
        """Steps done so far, and the running logs. Draws only on a terminal (at most every
        `interval` seconds): elsewhere the finished line is all that is written."""
        now = time.perf_counter()
        per_step = self.step_time(current, now)
        self.current = current
        if self.verbose != 1 or not self.live or self.target is None \
                or now - self.last_draw < self.interval:
            return
        eta = format_eta(per_step * (self.target - current))
        self.draw(self.bar_line(current, eta, per_step, logs or {}), end="")
        self.last_draw = now

    def finish(self, logs=None):
        """Write the finished line: all steps done, the time the whole epoch took."""
        if self.verbose not in (1, 2):
            return
        if self.target is None:
            self.target = self.current
        now = time.perf_counter()
        per_step = self.step_time(self.target, now)
        elapsed = f"{now - self.start:.0f}s"
        if self.verbose == 1:
            self.draw(self.bar_line(self.target, elapsed, per_step, logs or {}), end="\n")
        else:
            count = f"{self.target:{digits(self.target)}d}/{self.target}"
            line = f"{count} - {elapsed} - {format_step_time(per_step, self.unit_name)}"
            # Keras's verbose=2 line writes any value not above 1e-3 with an exponent
            logs_text = format_logs(logs or {}, keep_sign=False)
            self.draw(line + (f" - {logs_text}" if logs_text else ""), end="\n")

    def bar_line(self, current, time_text, per_step, logs):
        """'12/32 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - loss: 0.6931' (cells done in green on a
        terminal)."""
        done = int(self.width * current / self.target) if self.target else self.width
        bar = self.paint(self.cell * done, GREEN) + self.cell * (self.width - done)
        line = (f"{current:{digits(self.target)}d}/{self.target} {bar} {time_text} "
                f"{format_step_time(per_step, self.unit_name)}")
        logs_text = format_logs(logs)
        return line + (f" - {logs_text}" if logs_text else "")

    def paint(self, text, colour):
        return f"{colour}{text}{RESET}" if self.live and text else text

    def draw(self, line, end):
        """On a terminal: back to the start of the line, the new line, blanks over what is
        left of a longer old one. Elsewhere: the line alone."""
        if self.live:
            width = len(line.replace(GREEN, "").replace(RESET, ""))  # what the eye sees
            padding = " " * max(self.drawn_width - width, 0)
            self.drawn_width = 0 if end else width
            line = "\r" + line + padding
        self.stream.write(line + end)
        self.stream.flush()


def digits(number):
    """How many digits `number` has (at least 1): the step count is right-aligned to it."""
    return int(math.log10(number)) + 1 if number > 0 else 1


def can_encode(stream, text):
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
