"""model.summary()'s text: a row per layer (name and type, output shape, number of weights),
then the totals and their memory, as Keras 3 prints them."""

import numpy as np

from tinynet.config import floatx


def summary_text(model, show_trainable=False):
    """The text of model.summary(): one row per layer, then the totals. show_trainable adds
    Keras's column 'Trainable': Y, N for a frozen layer, - for a layer without weights."""
    from tinynet import saving

    rows = [(f"{layer.name} ({type(layer).__name__})", str(layer.output_shape),
             f"{layer.count_params():,}") if layer.built else
            (f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)")
            for layer in model.layers]
    header = ("Layer (type)", "Output Shape", "Param #")
    if show_trainable:
        header += ("Trainable",)
        rows = [(*row, "-" if not layer.weights else "Y" if layer.trainable else "N")
                for row, layer in zip(rows, model.layers, strict=True)]
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    width = [max(width[0], 30), max(width[1], 20), max(width[2], 10)]

    def line(cells):
        text = f"{cells[0]:<{width[0]}}  {cells[1]:<{width[1]}}  {cells[2]:>{width[2]}}"
        return (text + (f"  {cells[3]:^9}" if show_trainable else "")).rstrip()

    rule = "-" * len(line(header))
    trainable = sum(layer.count_trainable_params() for layer in model.layers)
    total = model.count_params()
    itemsize = np.dtype(model.layers[0].dtype if model.layers else floatx()).itemsize
    # Keras 3.15 counts the optimizer's variables too once it is built (has taken a step,
    # or was loaded with the model): "Optimizer params", included in "Total params"
    optimizer_count, optimizer_bytes = (saving.optimizer_params(model)
                                        if saving.optimizer_built(model) else (0, 0))
    lines = [f'Model: "{model.name}"', rule, line(header), rule, *[line(r) for r in rows], rule,
             f"Total params: {total + optimizer_count:,} "
             f"({format_bytes(total * itemsize + optimizer_bytes)})",
             f"Trainable params: {trainable:,} ({format_bytes(trainable * itemsize)})",
             f"Non-trainable params: {total - trainable:,} "
             f"({format_bytes((total - trainable) * itemsize)})"]
    if saving.optimizer_built(model):
        lines.append(f"Optimizer params: {optimizer_count:,} "
                     f"({format_bytes(optimizer_bytes)})")
    return "\n".join([*lines, rule])


def format_bytes(size):
    """15360 -> '15.00 KB', as Keras's summary shows memory."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
