"""keras.backend's queries that Keras code calls, answered for tinynet (which computes with
NumPy): clear_session, floatx, set_floatx, epsilon, image_data_format, backend. See
tinynet.config, where they live."""

from tinynet.config import (  # noqa: F401  (re-exported: keras.backend.floatx() and so on)
    backend,
    clear_session,
    epsilon,
    floatx,
    image_data_format,
    set_floatx,
)
