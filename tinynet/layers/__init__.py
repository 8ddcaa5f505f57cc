"""tinynet's layers, one file each: every one writes its forward and backward by hand."""

from tinynet.layers.activation import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNorm, BatchNormalization
from tinynet.layers.conv2d import Conv2D
from tinynet.layers.dense import Dense
from tinynet.layers.dropout import Dropout
from tinynet.layers.gaussian_dropout import GaussianDropout
from tinynet.layers.gaussian_noise import GaussianNoise
from tinynet.layers.groupnorm import GroupNormalization
from tinynet.layers.input import Input, InputLayer
from tinynet.layers.layernorm import LayerNorm, LayerNormalization
from tinynet.layers.normalization import Normalization
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
from tinynet.layers.rescaling import Rescaling
from tinynet.layers.reshape import Flatten, Reshape
from tinynet.validation import missing_attribute

Convolution2D = Conv2D  # Keras's other name for it

__all__ = [
    "Activation",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNorm",
    "BatchNormalization",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
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
    "Normalization",
    "ReLU",
    "Rescaling",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


# Keras layers tinynet does not have, and what to use instead.
INSTEAD = {
    "ELU": "use Activation('elu')",
    "PReLU": "tinynet has no learnable activation; LeakyReLU(negative_slope=a) is the closest",
    "Conv1D": "tinynet's convolutions are 2-D (Conv2D)", "LSTM": "tinynet has no recurrent "
    "layers", "GRU": "tinynet has no recurrent layers", "Embedding": "tinynet has no "
    "embeddings", "Concatenate": "tinynet has Sequential models only (no functional API)",
    "Add": "tinynet has Sequential models only (no functional API)",
    # data augmentation (the TensorFlow image-classification tutorial): random changes in
    # training, nothing at inference
    **dict.fromkeys(
        ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
         "RandomCrop", "RandomBrightness"),
        "augment the training arrays with NumPy at each epoch instead (a flip of images "
        "(N, H, W, C) is x[:, :, ::-1]; fit them one epoch at a time); these layers change "
        "nothing at inference, so leave them out of the model"),
    "Resizing": "resize the images before fit, to the size the model takes (for example "
    "with PIL's Image.resize, or by keeping every k-th pixel, x[:, ::k, ::k])",
    "CenterCrop": "crop the arrays before fit: x[:, top:top + h, left:left + w]",
    "SeparableConv2D": "use Conv2D (a separable convolution computes a cheaper "
    "approximation of it)",
    "DepthwiseConv2D": "use Conv2D (tinynet has no per-channel convolution)",
    "ZeroPadding2D": "use padding='same' in the next Conv2D, or pad the arrays with np.pad",
    "Cropping2D": "crop the arrays before fit: x[:, top:-bottom, left:-right]",
    "SpatialDropout2D": "use Dropout, which drops single values, not whole channels",
    "UpSampling2D": "tinynet has no upsampling layers (np.repeat repeats the pixels of "
    "arrays)",
    "Conv2DTranspose": "tinynet has no transposed convolution",
    "Lambda": "write a layer of your own with forward and backward (see "
    "tinynet.layers.Layer): without automatic differentiation a function needs its "
    "derivative",
}


def __getattr__(name):
    """A Keras layer tinynet does not have gets an error that says so, what to use instead
    when there is something, and lists what tinynet.layers has."""
    raise missing_attribute("tinynet.layers", name, __all__, INSTEAD)
