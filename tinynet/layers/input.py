"""Input and InputLayer: a model's first item, saying what one sample looks like.

    model = Sequential([Input(shape=(20,)), Dense(64), ...])

is the same model as `Sequential([Dense(64, input_shape=(20,)), ...])`, Keras 3's preferred
spelling. The input is not a layer that computes anything: the model takes the shape from it
and does not list it in `model.layers` or in `summary()` (as Keras).

A layer called on an input works out its output shape, as Keras's docs show it:
Flatten()(Input(shape=(10, 64))).shape is (None, 640) (see symbolic.py; tinynet has no
functional API, so that is all such a call does).
"""

from tinynet.layers.base import Layer, channels_first_hint, check_sample_shape
from tinynet.validation import check_int, unknown_argument_error


class InputLayer(Layer):
    """InputLayer(shape=None, batch_size=None, dtype=None, *, name=None, input_shape=None):
    the first three in Keras 3's order (InputLayer((20,), None, 'float64') is dtype float64,
    as in Keras), the others by keyword only. Keras's next positional arguments (sparse,
    ragged, batch_shape, input_tensor, optional) are not tinynet's: given by keyword they
    are refused with a TypeError that lists the arguments InputLayer takes.

    shape: the shape of one sample, e.g. (20,) or (28, 28, 1), without the batch axis.
    batch_size: None, or a positive int (Keras's fixed batch size; tinynet only keeps it).
    dtype: 'float32' (None) or 'float64', as for every layer.
    input_shape: the same as shape (Keras's older name); give one of the two.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, *, input_shape=None,
                 **kwargs):
        if shape is None and input_shape is None:
            raise TypeError("InputLayer: give the shape of one sample, e.g. "
                            "InputLayer(shape=(20,))")
        if shape is not None and input_shape is not None:
            raise ValueError("InputLayer: give shape or input_shape, not both")
        shape = shape if shape is not None else input_shape
        if isinstance(shape, (tuple, list)) and any(size is None for size in shape):
            raise TypeError(f"InputLayer: shape={tuple(shape)} has a size None (Keras's "
                            f"variable size, as in Input(shape=(None, None, 3)) for images of "
                            f"any size): tinynet needs fixed image sizes; give them, e.g. "
                            f"Input(shape=(32, 32, 3))")
        shape = check_sample_shape(shape, "InputLayer")
        super().__init__(input_shape=shape, dtype=dtype, **kwargs)
        self.batch_size = (None if batch_size is None
                           else check_int(batch_size, "InputLayer(batch_size=...)", minimum=1))
        self.build(self.input_shape)
        self.ran_forward = None

    @classmethod
    def from_config(cls, config):
        """An InputLayer from get_config()'s dict, which holds Keras's keys (batch_shape,
        dtype, sparse, ragged, name, optional), tinynet's or Keras's. sparse, ragged and
        optional are Keras's and taken at False only (a ValueError otherwise)."""
        if not isinstance(config, dict):
            raise TypeError(f"InputLayer.from_config: config must be a dict, got {config!r}")
        on = [key for key in ("sparse", "ragged", "optional") if config.get(key)]
        if on:
            raise ValueError(f"InputLayer.from_config: tinynet's inputs are dense and required; "
                             f"got {on[0]}={config[on[0]]!r}")
        batch_shape = config.get("batch_shape") or config.get("batch_input_shape")
        if not isinstance(batch_shape, (list, tuple)) or len(batch_shape) < 2:
            raise ValueError(f"InputLayer.from_config: config needs a batch_shape such as "
                             f"[None, 20], got {batch_shape!r}")
        dtype = config.get("dtype")
        if isinstance(dtype, dict):  # Keras's DTypePolicy entry
            dtype = (dtype.get("config") or {}).get("name")
        return cls(shape=tuple(batch_shape[1:]), batch_size=batch_shape[0], dtype=dtype,
                   name=config.get("name"))

    @property
    def shape(self):
        """(batch_size, *sample_shape), batch_size None unless given: the batch axis first, as
        Keras shows it. A layer called on the input, layer(Input(shape=...)), returns a
        SymbolicTensor with the layer's output shape in the same form (symbolic.py)."""
        return (self.batch_size, *self.input_shape[1:])

    def build_for(self, shape):
        """An input layer's shape is fixed: x of another shape is refused."""
        if shape[1:] == tuple(self.input_shape[1:]):
            return super().build_for(shape)
        raise ValueError(f"{self.where} takes samples of shape {tuple(self.input_shape[1:])}, "
                         f"got x of shape {shape}"
                         f"{channels_first_hint(shape, self.input_shape)}")

    def forward(self, x, training=False):
        """Inputs: x (N, *shape). Returns: x unchanged."""
        self.check_input(x)
        self.ran_forward = True
        return x

    def backward(self, grad_output):
        """Inputs: grad_output (N, *shape). Returns: it unchanged."""
        self.check_grad_output(grad_output, self.ran_forward)
        return grad_output


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,  # noqa: N802
          batch_shape=None, name=None, tensor=None, optional=False, **unknown):
    """Input(shape=(20,)): the first item of a Sequential model (see InputLayer). (Input is
    Keras's name, a function that looks like a class.) The arguments are Keras 3's, in its
    order; batch_shape=(None, 20) is shape=(20,) with its batch size first. Keras's
    sparse, ragged, tensor and optional are taken at their defaults only (tinynet has dense
    arrays and no symbolic tensors); any other value, or an unknown argument, gets a
    TypeError that says so."""
    if unknown:
        raise unknown_argument_error("Input()", unknown, ("shape", "batch_size", "dtype",
                                                          "batch_shape", "name"))
    for argument, value, default in (("sparse", sparse, (None, False)),
                                     ("ragged", ragged, (None, False)),
                                     ("tensor", tensor, (None,)), ("optional", optional, (False,))):
        if not any(value is allowed for allowed in default):
            raise TypeError(f"Input({argument}={value!r}): tinynet takes Keras's {argument} "
                            f"at its default {default[0]!r} only (dense arrays, no symbolic "
                            f"tensors); valid arguments: shape, batch_size, dtype, "
                            f"batch_shape, name")
    if batch_shape is not None:
        if shape is not None or batch_size is not None:
            raise ValueError("Input(): give batch_shape, or shape (and batch_size), not both")
        if not isinstance(batch_shape, (tuple, list)) or len(batch_shape) < 2:
            raise TypeError(f"Input(batch_shape=...) must be a tuple with the batch size first, "
                            f"e.g. (None, 20), got {batch_shape!r}")
        batch_size, *shape = batch_shape
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype)
