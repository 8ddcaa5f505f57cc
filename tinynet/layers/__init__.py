"""tinynet's layers, one file each: every one writes its forward and backward by hand."""

from tinynet.layers.activation import Activation, ReLU, Sigmoid, Softmax, Tanh
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
    MaxPool2D,
    MaxPooling2D,
)
from tinynet.layers.reshape import Flatten, Reshape

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
    "GroupNormalization",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNorm",
    "LayerNormalization",
    "MaxPool2D",
    "MaxPooling2D",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


def __getattr__(name):
    """A Keras layer tinynet does not have gets an error that says so and lists what it has."""
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"tinynet.layers has no {name}: tinynet implements the layers a "
                         f"batch-normalization course needs ({', '.join(__all__)}); for "
                         f"rescaling or normalizing inputs, do it on the arrays before fit "
                         f"(e.g. tinynet.datasets.standardize)")
