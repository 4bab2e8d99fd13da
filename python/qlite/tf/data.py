"""tf.data: ``Dataset.from_tensor_slices(array).batch(n).take(k)`` over numpy arrays (for representative datasets)."""
import numpy as np


class Dataset:
    """A finite sequence of numpy arrays (or tuples of them)."""

    def __init__(self, make_iter):
        self._make_iter = make_iter

    @staticmethod
    def from_tensor_slices(tensors):
        """One element per row of ``tensors`` (an array, or a tuple of arrays with the same first dimension)."""
        if isinstance(tensors, tuple):
            arrays = [np.asarray(t) for t in tensors]
            return Dataset(lambda: (tuple(a[i] for a in arrays) for i in range(len(arrays[0]))))
        array = np.asarray(tensors)
        return Dataset(lambda: (array[i] for i in range(len(array))))

    def batch(self, batch_size, drop_remainder=False):
        """Groups consecutive elements into arrays of ``batch_size`` rows."""
        def gen():
            buf = []
            for x in self._make_iter():
                buf.append(x)
                if len(buf) == batch_size:
                    yield _stack(buf)
                    buf = []
            if buf and not drop_remainder:
                yield _stack(buf)
        return Dataset(gen)

    def take(self, count):
        """The first ``count`` elements."""
        def gen():
            for i, x in enumerate(self._make_iter()):
                if i >= count:
                    return
                yield x
        return Dataset(gen)

    def __iter__(self):
        return iter(self._make_iter())


def _stack(items):
    if isinstance(items[0], tuple):
        return tuple(np.stack(col) for col in zip(*items))
    return np.stack(items)


__all__ = ["Dataset"]
