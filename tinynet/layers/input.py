"""Input and InputLayer: a model's first item, saying what one sample looks like.

    model = Sequential([Input(shape=(20,)), Dense(64), ...])

is the same model as `Sequential([Dense(64, input_shape=(20,)), ...])`, Keras 3's preferred
spelling. The input is not a layer that computes anything: the model takes the shape from it
and does not list it in `model.layers` or in `summary()` (as Keras).
"""

from tinynet.layers.base import Layer, check_sample_shape


class InputLayer(Layer):
    """InputLayer(shape=None, batch_size=None, name=None, dtype=None), also input_shape=.

    shape: the shape of one sample, e.g. (20,) or (28, 28, 1), without the batch axis.
    """

    def __init__(self, shape=None, batch_size=None, input_shape=None, **kwargs):
        if shape is None and input_shape is None:
            raise TypeError("InputLayer: give the shape of one sample, e.g. "
                            "InputLayer(shape=(20,))")
        if shape is not None and input_shape is not None:
            raise ValueError("InputLayer: give shape or input_shape, not both")
        shape = check_sample_shape(shape if shape is not None else input_shape, "InputLayer")
        super().__init__(input_shape=shape, **kwargs)
        self.batch_size = batch_size
        self.build(self.input_shape)

    @property
    def shape(self):
        """(None, *sample_shape): the batch axis first, as Keras shows it."""
        return self.input_shape

    def forward(self, x, training=False):
        """Inputs: x (N, *shape). Returns: x unchanged."""
        return x

    def backward(self, grad_output):
        """Inputs: grad_output (N, *shape). Returns: it unchanged."""
        return grad_output


def Input(shape=None, batch_size=None, name=None, dtype=None):  # noqa: N802 (Keras's name)
    """Input(shape=(20,)): the first item of a Sequential model (see InputLayer)."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype)
