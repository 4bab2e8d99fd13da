"""How arrays reach C++: float32 C-contiguous images are read in place by fit / evaluate / predict; other dtypes
(float64 from x / 255.0, uint8 images) and layouts (Fortran order, strided views) are converted to float32 first,
as Keras converts them, and give exactly the float32 path's results. Hostile values in set_tensor are ValueErrors.
"""
import numpy as np
import pytest

from qlite import keras
from qlite._qlite import keras as _k
from qlite.lite import Interpreter


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    u8 = rng.integers(0, 256, (300, 10, 10), dtype=np.uint8)
    return u8, rng.integers(0, 10, 300).astype(np.uint8)


def model(seed=3):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.layers.Flatten(input_shape=(10, 10)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(10)])
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    keras.utils.set_random_seed(0)
    return m


def test_which_arrays_are_read_in_place(data):
    u8, _ = data
    m = model()
    x32 = u8 / np.float32(255.0)
    assert x32.dtype == np.float32 and x32.flags.c_contiguous
    assert _k.reads_in_place(m._model, x32)
    assert _k.reads_in_place(m._model, x32[10:50])  # a contiguous slice is read in place too
    assert not _k.reads_in_place(m._model, u8 / 255.0)  # float64: converted
    assert not _k.reads_in_place(m._model, u8)  # uint8: converted
    assert not _k.reads_in_place(m._model, np.asfortranarray(x32))
    assert not _k.reads_in_place(m._model, x32[::2])  # strided view
    assert not _k.reads_in_place(m._model, x32.tolist()[:3])  # a list


def test_fit_reads_float32_in_place(data):
    """Changing a float32 x between epochs changes what epoch 2 trains on; a float64 x was copied (converted)."""
    u8, y = data

    class ZeroAfterFirstEpoch(keras.callbacks.Callback):
        def __init__(self, x):
            super().__init__()
            self.x = x

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.x[...] = 0

    x32, x64 = u8 / np.float32(255.0), u8 / 255.0
    in_place = model().fit(x32, y, epochs=2, batch_size=50, verbose=0, seed=1,
                           callbacks=[ZeroAfterFirstEpoch(x32)]).history
    copied = model().fit(x64, y, epochs=2, batch_size=50, verbose=0, seed=1,
                         callbacks=[ZeroAfterFirstEpoch(x64)]).history
    untouched = model().fit(u8 / np.float32(255.0), y, epochs=2, batch_size=50, verbose=0, seed=1).history
    assert copied == untouched  # the float64 array was converted before training
    assert in_place["loss"][0] == untouched["loss"][0]
    assert in_place["loss"][1] != untouched["loss"][1]  # epoch 2 read the zeroed array


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(np.float64),
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=2)[:, :, ::2],
    lambda x: x.astype(np.uint8),
    lambda x: x.astype(np.int64),
], ids=["float64", "fortran", "strided", "uint8", "int64"])
def test_conversions_equal_the_float32_path(data, convert):
    u8, y = data
    # Integer images are taken as their values (0..255), as Keras takes them; the others are x / 255.
    integer = convert(np.zeros((1, 2, 2), np.float32)).dtype.kind in "iu"
    x32 = u8.astype(np.float32) if integer else u8 / np.float32(255.0)
    other = convert(x32)
    assert other.dtype != np.float32 or not other.flags.c_contiguous
    assert np.array_equal(other.astype(np.float32), x32)
    a, b = model(), model()
    ha = a.fit(x32, y, epochs=2, batch_size=64, verbose=0, seed=2).history
    hb = b.fit(other, y, epochs=2, batch_size=64, verbose=0, seed=2).history
    assert ha == hb
    assert a.evaluate(x32, y, verbose=0) == b.evaluate(other, y, verbose=0)
    assert np.array_equal(a.predict(x32), b.predict(other))
    assert np.array_equal(a.predict(x32), a.predict(other))


def test_hostile_values_in_set_tensor_are_value_errors():
    m = model()
    import qlite.tf as tf
    it = Interpreter(model_content=tf.lite.TFLiteConverter.from_keras_model(m).convert())
    it.allocate_tensors()
    i = it.get_input_details()[0]["index"]
    for bad, message in [(None, "Got value of type object"), ("abc", "Got value of type str"),
                         (np.zeros((1, 10, 10), object), "Got value of type object"),
                         (np.float32(1.0), "Dimension mismatch. Got 0 but expected 3"),
                         (np.zeros((1, 10, 11), np.float32), "Got 11 but expected 10 for dimension 2"),
                         ([[[1] * 10] * 10], "Got value of type int64")]:
        with pytest.raises(ValueError, match=message):
            it.set_tensor(i, bad)
    for bad in (-1, 2 ** 40):
        with pytest.raises((ValueError, TypeError)):
            it.set_tensor(bad, np.zeros((1, 10, 10), np.float32))
    with pytest.raises(ValueError, match="call invoke"):  # outputs have no value before invoke (documented)
        it.get_tensor(it.get_output_details()[0]["index"])
