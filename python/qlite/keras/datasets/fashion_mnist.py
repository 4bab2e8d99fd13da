"""Fashion-MNIST, read by qlite's C++ loader (Debian package dataset-fashion-mnist, or $QLITE_DATA_DIR)."""
from ..._qlite import keras as _k


def load_data():
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and uint8 labels (N,), as Keras.

    60,000 training and 10,000 test images, as ``qlite --data fashion-mnist`` reads them.
    """
    return _k.load_data("fashion-mnist")


__all__ = ["load_data"]
