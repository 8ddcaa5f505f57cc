"""Keras's weight constraints (keras.constraints: MaxNorm, NonNeg, UnitNorm, MinMaxNorm and
their function names max_norm, ...), which tinynet does not have.

A constraint changes a weight after each optimizer update, outside the gradient step (MaxNorm
rescales each column of a kernel whose norm is above max_value). tinynet's training step is
the gradient step only, so this module holds no constraints: each name gives an error that
says so, where a tutorial imports it (`from keras.constraints import max_norm`), instead of
Python's "No module named". A layer's kernel_constraint=None (Keras's default) is accepted.
"""

from tinynet.validation import missing_attribute

ADVICE = ("a constraint changes a weight after each update (MaxNorm rescales a kernel's "
          "columns to a norm of at most max_value), which tinynet does not do; leave "
          "kernel_constraint=... out (a regularizer, kernel_regularizer=tinynet.regularizers."
          "L2(0.001), pulls weights towards small values instead, through the gradient)")

KERAS_NAMES = ("Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm",
               "min_max_norm", "non_neg", "unit_norm", "get", "serialize", "deserialize")


def __getattr__(name):
    raise missing_attribute("tinynet.constraints", name, [],
                            {keras_name: ADVICE for keras_name in KERAS_NAMES})
