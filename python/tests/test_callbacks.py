"""keras.callbacks: TerminateOnNaN, History, user Callback subclasses, model.stop_training, verbose 0/1/2."""
import math
import re

import numpy as np
import pytest

from qlite import keras


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((256, 8, 8)), rng.integers(0, 10, 256).astype(np.int64)


def model(learning_rate):
    m = keras.Sequential([keras.layers.Flatten(input_shape=(8, 8)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return m


def test_terminate_on_nan_stops_fit_as_keras(data, capfd):
    x, y = data
    m = model(1e12)  # the loss overflows within a few batches
    with pytest.raises(RuntimeError, match="training diverged at epoch 1 step"):
        m.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=1)
    m = model(1e12)
    h = m.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=1, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert m.stop_training
    assert len(h.history["loss"]) == 1 and math.isnan(h.history["loss"][0])  # the diverged epoch, loss NaN
    assert h.epoch == [0]
    assert "Invalid loss, terminating training" in capfd.readouterr().out


class Recorder(keras.callbacks.Callback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.events = []
        self.stop_after = stop_after

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))
        if epoch == self.stop_after:
            self.model.stop_training = True

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, round(logs["loss"], 12)))

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_user_callback_hooks_and_stop_training(data):
    x, y = data
    keras.utils.set_random_seed(3)
    rec = Recorder(stop_after=1)
    h = model(0.01).fit(x, y, epochs=5, batch_size=100, validation_split=0.25, verbose=0, seed=1, callbacks=[rec])
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    batches = lambda: [("batch_end", b) for b in range(2)]  # 192 training rows at batch 100
    got = [e[:2] if isinstance(e, tuple) and e[0] == "batch_end" else e for e in rec.events]
    assert got == (["train_begin", ("epoch_begin", 0)] + batches() + [("epoch_end", 0, keys), ("epoch_begin", 1)] +
                   batches() + [("epoch_end", 1, keys), "train_end"])
    assert len(h.history["loss"]) == 2  # stopped after epoch 1 of 5
    # The batch logs are the epoch's running means: the last one is the epoch's loss.
    last_batch_loss = [e[2] for e in rec.events if isinstance(e, tuple) and e[0] == "batch_end"][1]
    assert last_batch_loss == round(h.history["loss"][0], 12)
    keras.utils.set_random_seed(0)


def test_history_equals_with_and_without_callbacks(data):
    """Per-batch Python calls change nothing in the training (the C++ loop is the same)."""
    x, y = data
    keras.utils.set_random_seed(4)
    a = model(0.01).fit(x, y, epochs=2, batch_size=64, verbose=0, seed=2).history
    keras.utils.set_random_seed(4)
    b = model(0.01).fit(x, y, epochs=2, batch_size=64, verbose=0, seed=2, callbacks=[Recorder()]).history
    keras.utils.set_random_seed(0)
    assert a == b


@pytest.mark.parametrize("verbose", [0, 1, 2, "auto"])
def test_verbose_modes(data, capfd, verbose):
    x, y = data
    model(0.01).fit(x, y, epochs=2, batch_size=64, verbose=verbose, seed=2,
                    callbacks=[keras.callbacks.ProgbarLogger()])
    out = capfd.readouterr().out
    if verbose == 0:
        assert out == ""
        return
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    if verbose == 2:
        lines = [l for l in out.splitlines() if l.startswith("4/4 - ")]
        value = r"\d\.\d{4}(e[+-]\d\d)?"  # Keras' "%.4f", "%.4e" when not above 1e-3
        assert len(lines) == 2 and all(re.fullmatch(r"4/4 - \d+s - loss: %s - accuracy: %s - \d+[mu]?s/epoch - "
                                                    r"\d+[mu]?s/step" % (value, value), l) for l in lines), out
        assert "\r" not in out and "=" not in out  # no bar
    else:
        assert "\r" in out or "====" in out  # Keras' bar


def test_callbacks_are_checked(data):
    x, y = data
    with pytest.raises(TypeError, match="Callback instances"):
        model(0.01).fit(x, y, epochs=1, verbose=0, callbacks=[lambda *a: None])
    with pytest.raises(ValueError, match="verbose"):
        model(0.01).fit(x, y, epochs=1, verbose=3)
