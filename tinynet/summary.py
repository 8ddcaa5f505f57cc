"""model.summary()'s text, as Keras 3 prints it for a Sequential model when its output is not
a terminal (a pipe, a file, a notebook's captured output, or print_fn).

Keras 3 draws the table with the `rich` package; tinynet does not depend on it, so this module
draws the same characters itself:

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ dense (Dense)                   │ (None, 64)             │         1,344 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ batch_normalization             │ (None, 64)             │           256 │
    │ (BatchNormalization)            │                        │               │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 1,600 (6.25 KB)
     Trainable params: 1,472 (5.75 KB)
     Non-trainable params: 128 (512.00 B)

How wide: Keras makes the line min(88, columns - 4) characters (100 with show_trainable),
columns being shutil.get_terminal_size().columns: the COLUMNS variable if set, else the
terminal's width, else 80 (so 76 in a pipe). Each column gets a fixed share of it, and text
that does not fit its column wraps onto more lines of the row at spaces; a word longer than
the whole column is cut with '…'. The lines outside the table wrap at the console's width.
"""

import os
import shutil

BOX_TOP, BOX_HEAD, BOX_BELOW_HEAD = "┏━┳┓", "┃ ┃┃", "┡━╇┩"
BOX_ROW, BOX_BETWEEN, BOX_BOTTOM = "│ ││", "├─┼┤", "└─┴┘"


def summary_text(model, show_trainable=False, line_length=None):
    """The whole text Keras 3's model.summary() hands to print_fn (at once, ending in a
    newline): the model's name, the table (one row per layer: name and type, output shape,
    number of weights, and with show_trainable Keras's column 'Trainable': Y, N for a frozen
    layer, - for a layer without weights), then the totals, each line indented by a space.
    line_length: the table's width, Keras's summary(line_length=...); None for Keras's
    default (table_width)."""
    header = ["Layer (type)", "Output Shape", "Param #"]
    justify = ["left", "left", "right"]
    rows = [layer_row(layer) for layer in model.layers]
    if show_trainable:
        header.append("Trainable")
        justify.append("center")
        rows = [[*row, trainable_mark(layer)]
                for row, layer in zip(rows, model.layers, strict=True)]
    widths = column_widths(line_length or table_width(show_trainable), show_trainable)
    console = console_width()
    table = [line[:console] for line in draw_table(header, rows, widths, justify)]
    lines = [*wrap_plain(f'Model: "{model.name}"', console), *table]
    for total in totals_lines(model):
        lines += wrap_plain(total, console)
    return "\n".join(lines) + "\n"


def layer_row(layer):
    """A layer's cells: 'name (ClassName)', its output shape as Keras writes it (None for the
    batch: '(None, 26, 26, 8)'), its weight count with thousands commas. An unbuilt layer,
    as in Keras 3, has the shape '?' and the count '0 (unbuilt)'."""
    name = f"{layer.name} ({type(layer).__name__})"
    if not layer.built:
        return [name, "?", "0 (unbuilt)"]
    shape = "(" + ", ".join(str(size) for size in layer.output_shape) + ")"
    return [name, shape, f"{layer.count_params():,}"]


def trainable_mark(layer):
    """Keras's 'Trainable' cell: - for a layer without weights, else Y or N (frozen)."""
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def totals_lines(model):
    """' Total params: 3,841 (15.00 KB)' and the trainable and non-trainable lines, counted
    from the weights themselves (each array once, its own dtype's bytes: a float64 model
    takes twice the memory). Once the optimizer is built (has taken a step, or was loaded
    with the model), Keras 3.15 counts its variables too: a line 'Optimizer params', also
    included in 'Total params'."""
    from tinynet import saving

    trainable = count_and_bytes(model.trainable_weights)
    frozen = count_and_bytes(model.non_trainable_weights)
    optimizer = (saving.optimizer_params(model) if saving.optimizer_built(model)
                 else None)
    every = [trainable, frozen] + ([optimizer] if optimizer else [])
    total = (sum(count for count, _ in every), sum(size for _, size in every))
    named = [("Total", total), ("Trainable", trainable), ("Non-trainable", frozen)]
    if optimizer:
        named.append(("Optimizer", optimizer))
    return [f" {name} params: {count:,} ({format_bytes(size)})"
            for name, (count, size) in named]


def count_and_bytes(arrays):
    """(number of scalars, bytes) of weight arrays, an array listed twice counted once."""
    unique = list({id(array): array for array in arrays}.values())
    return (int(sum(array.size for array in unique)),
            int(sum(array.size * array.dtype.itemsize for array in unique)))


def format_bytes(size):
    """15360 -> '15.00 KB', as Keras's summary shows memory (1024 bytes a KB, up to PB)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


# -- widths -----------------------------------------------------------------------------------

def table_width(show_trainable):
    """The table's width as Keras computes it: 88 characters (100 with the Trainable column),
    or less when shutil.get_terminal_size() reports a narrower terminal (its width - 4). Not
    in a terminal and without COLUMNS set, that is 80 - 4 = 76."""
    return min(100 if show_trainable else 88, shutil.get_terminal_size().columns - 4)


def console_width():
    """The width rich's console wraps the lines outside the table at (and crops the table
    at): COLUMNS if it is a number, else the width of the first of stdin, stdout, stderr
    that is a terminal, else 80. This differs from table_width's terminal only when stdout
    is not a terminal but stdin or stderr is."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns):
        return int(columns)
    for descriptor in (0, 1, 2):
        try:
            return os.get_terminal_size(descriptor).columns or 80
        except (OSError, ValueError):
            continue
    return 80


def column_widths(line_length, show_trainable):
    """The text width of each column. Keras gives the columns the shares 45%, 35% and 20% of
    the line (each share times 0.9, and a last column of 10%, with show_trainable), widths
    that rounding down makes add up to the line length, and refuses any narrower than 4.
    rich then fits those widths, plus one space of padding either side, and the borders
    (one more character than there are columns) into the same length: it takes the excess
    evenly from every column, rounding each share half to even as Python's round() does."""
    ends = [0.45, 0.80, 1.0]
    if show_trainable:
        ends = [end * 0.90 for end in ends] + [1.0]
    widths, done = [], 0
    for end in ends:
        widths.append(int(end * line_length) - done)
        done += widths[-1]
        if widths[-1] < 4:
            raise ValueError("Insufficient console width to print summary.")
    padded = [width + 2 for width in widths]
    excess = sum(padded) - (line_length - len(widths) - 1)
    for index, width in enumerate(padded):
        cut = min(width, round(excess / (len(padded) - index)))
        padded[index] = width - cut
        excess -= cut
    return [max(width - 2, 0) for width in padded]


# -- drawing ----------------------------------------------------------------------------------

def draw_table(header, rows, widths, justify):
    """The table's lines: heavy rules around the header, light ones between rows (Keras asks
    rich for show_lines=True), each cell one space in from its borders. A header cell that
    wraps to fewer lines than its neighbours sits at the bottom of the header; a row's cells
    sit at the top."""
    lines = [rule(BOX_TOP, widths)]
    lines += cell_lines(header, widths, justify, BOX_HEAD, at_bottom=True)
    lines.append(rule(BOX_BELOW_HEAD, widths))
    for index, row in enumerate(rows):
        if index:
            lines.append(rule(BOX_BETWEEN, widths))
        lines += cell_lines(row, widths, justify, BOX_ROW, at_bottom=False)
    lines.append(rule(BOX_BOTTOM, widths))
    return lines


def rule(box, widths):
    """A horizontal rule: box is (left corner, line, crossing, right corner)."""
    left, line, cross, right = box
    return left + cross.join(line * (width + 2) for width in widths) + right


def cell_lines(cells, widths, justify, box, at_bottom):
    """The lines of one table row: every cell wrapped and justified to its column, the
    shorter cells padded with blank lines (above them if at_bottom, below otherwise)."""
    fitted = [fit_cell(text, width, how)
              for text, width, how in zip(cells, widths, justify, strict=True)]
    height = max(len(cell) for cell in fitted)
    for cell, width in zip(fitted, widths, strict=True):
        blank = [" " * width] * (height - len(cell))
        cell[:] = blank + cell if at_bottom else cell + blank
    left, _, between, right = box
    return [left + " " + f" {between} ".join(cell[i] for cell in fitted) + " " + right
            for i in range(height)]


def fit_cell(text, width, justify):
    """A cell's text as lines of exactly `width` characters, as rich lays out a table cell:
    wrapped at spaces (a word longer than the width is not split but cut, its last character
    replaced by '…'), then left-aligned, right-aligned or centred (half the spare space on
    the left, rounded down)."""
    lines = []
    for line in wrap_words(text, width, split_long=False):
        if justify != "left":
            line = line.rstrip()
        if len(line) > width:
            line = line[:max(width - 1, 0)] + "…"
        spare = width - len(line)
        left = {"left": 0, "right": spare, "center": spare // 2}[justify]
        lines.append(" " * left + line + " " * (spare - left))
    return lines


def wrap_plain(text, width):
    """A line printed outside the table, wrapped as rich's console wraps it: at spaces, a
    word longer than the width split into pieces of the width; spaces at a break stay at the
    end of the line unless they reach past the width."""
    return [line[:width] for line in wrap_words(text, width, split_long=True)]


def wrap_words(text, width, split_long):
    """Break text into lines of at most `width` characters, rich's way. A word is a run of
    non-spaces with the spaces before it (the first word only) and after it. A word that
    fits the rest of the line joins it, counting its trailing spaces; one that does not
    starts a new line, unless the line is still empty. A word longer than the width starts
    its own line: split into pieces of the width when split_long, else left whole (the
    caller cuts it). Trailing spaces that reach past the width are dropped."""
    lines, line = [], ""
    for word in words(text):
        fits = len(word.rstrip()) <= width - len(line)
        if fits:
            line += word
        elif len(word.rstrip()) > width and split_long:
            if line:
                lines.append(line)
            pieces = [word[i:i + width] for i in range(0, len(word), width)]
            lines += pieces[:-1]
            line = pieces[-1]
        elif line:
            lines.append(line)
            line = word
        else:
            line = word
    lines.append(line)
    return [drop_spaces_past(line, width) for line in lines]


def words(text):
    """Split text into words with their trailing spaces (and the first one with its leading
    ones): ' Total params: 3' -> [' Total ', 'params: ', '3']."""
    pieces, start = [], 0
    while start < len(text):
        end = len(text) - len(text[start:].lstrip(" "))
        end = text.find(" ", end)
        end = len(text) if end < 0 else len(text) - len(text[end:].lstrip(" "))
        pieces.append(text[start:end])
        start = end
    return pieces


def drop_spaces_past(line, width):
    """Drop as many trailing spaces as reach past the width (rich's rstrip_end)."""
    spaces = len(line) - len(line.rstrip(" "))
    return line[:len(line) - min(spaces, max(len(line) - width, 0))]
