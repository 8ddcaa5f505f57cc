"""tinynet's layers, one file each: every one writes its forward and backward by hand."""

from tinynet.layers.activation import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNorm, BatchNormalization
from tinynet.layers.conv2d import Conv2D
from tinynet.layers.dense import Dense
from tinynet.layers.dropout import Dropout
from tinynet.layers.groupnorm import GroupNormalization
from tinynet.layers.input import Input, InputLayer
from tinynet.layers.layernorm import LayerNorm, LayerNormalization
from tinynet.layers.pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from tinynet.layers.reshape import Flatten, Reshape
from tinynet.validation import missing_attribute

__all__ = [
    "Activation",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNorm",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "GroupNormalization",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNorm",
    "LayerNormalization",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


# Keras layers tinynet does not have, and what to use instead.
INSTEAD = {
    "Rescaling": "scale the arrays before fit (x / 255.0, or tinynet.datasets.standardize)",
    "Normalization": "standardize the arrays before fit (tinynet.datasets.standardize)",
    "ELU": "use Activation('elu')",
    "PReLU": "tinynet has no learnable activation; LeakyReLU(negative_slope=a) is the closest",
    "Conv1D": "tinynet's convolutions are 2-D (Conv2D)", "LSTM": "tinynet has no recurrent "
    "layers", "GRU": "tinynet has no recurrent layers", "Embedding": "tinynet has no "
    "embeddings", "Concatenate": "tinynet has Sequential models only (no functional API)",
    "Add": "tinynet has Sequential models only (no functional API)",
}


def __getattr__(name):
    """A Keras layer tinynet does not have gets an error that says so, what to use instead
    when there is something, and lists what tinynet.layers has."""
    raise missing_attribute("tinynet.layers", name, __all__, INSTEAD)
