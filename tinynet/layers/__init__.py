"""tinynet's layers, one file each: every one writes its forward and backward by hand."""

from tinynet.layers.activation import Activation, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNorm, BatchNormalization
from tinynet.layers.dense import Dense
from tinynet.layers.dropout import Dropout
from tinynet.layers.layernorm import LayerNorm, LayerNormalization

__all__ = [
    "Activation",
    "BatchNorm",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Layer",
    "LayerNorm",
    "LayerNormalization",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
