"""The progress display of `fit`: a live bar (verbose=1) or one line per epoch (verbose=2)."""

import sys
import time


def format_logs(logs):
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())


def format_step_time(seconds):
    """'2ms/step' or, for steps under a millisecond (small models are that fast), '250us/step'."""
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class ProgressBar:
    """Draws `  12/32 [=======>......] - 2ms/step - loss: 0.6931 - accuracy: 0.5000`.

    On a terminal the bar is redrawn in place (carriage return); when the output goes to a
    file or a notebook log, only the finished line is written, so logs stay readable.
    """

    def __init__(self, steps, width=30, stream=None):
        self.steps = steps
        self.width = width
        self.stream = stream or sys.stdout
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_draw = 0.0

    def line(self, step, logs):
        done = int(self.width * step / self.steps)
        arrow = ">" if step < self.steps else "="
        bar = "=" * max(done - 1, 0) + (arrow if done else "") + "." * (self.width - done)
        per_step = (time.perf_counter() - self.start) / max(step, 1)
        digits = len(str(self.steps))
        text = f"{step:{digits}d}/{self.steps} [{bar}] - {format_step_time(per_step)}"
        return text + (f" - {format_logs(logs)}" if logs else "")

    def update(self, step, logs):
        """Redraw at most 20 times a second, and always on the last step."""
        now = time.perf_counter()
        if not self.live or (step < self.steps and now - self.last_draw < 0.05):
            return
        self.last_draw = now
        self.stream.write("\r" + self.line(step, logs))
        self.stream.flush()

    def finish(self, logs):
        self.stream.write(("\r" if self.live else "") + self.line(self.steps, logs) + "\n")
        self.stream.flush()
