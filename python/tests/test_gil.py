"""fit, evaluate, predict, convert and invoke release the GIL while C++ works.

A worker thread counts, yielding the GIL after every increment (time.sleep(0)). The switch interval is set so
long that the main thread never hands the GIL over by itself: the worker can only count while the main thread
is inside a call that releases the GIL. So "the counter moved during the call" is the property itself, with no
timing in it; a pure-Python call that holds the GIL is the control that the check can fail.
"""
import sys
import threading
import time

import numpy as np
import pytest

import qlite.tf as tf
from qlite import keras


def released_gil(call, max_calls):
    """True when the worker counted during one of up to max_calls calls of `call`."""
    state = {"count": 0, "stop": False}
    ready = threading.Event()

    def worker():
        ready.set()
        while not state["stop"]:
            state["count"] += 1
            time.sleep(0)  # gives the GIL back at once

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    t = threading.Thread(target=worker, daemon=True)
    try:
        t.start()
        ready.wait()
        for _ in range(max_calls):
            before = state["count"]
            call()
            if state["count"] != before:
                return True
        return False
    finally:
        state["stop"] = True
        sys.setswitchinterval(old)
        t.join()


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    x, y = rng.random((2000, 28, 28)).astype(np.float32), rng.integers(0, 10, 2000)
    m = keras.Sequential([keras.layers.Reshape((28, 28, 1), input_shape=(28, 28)),
                          keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
                          keras.layers.Flatten(), keras.layers.Dense(10)])
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    return m, x, y


def test_the_check_fails_for_a_call_holding_the_gil():
    assert not released_gil(lambda: sum(range(200000)), max_calls=5)


def test_fit_evaluate_predict_release_the_gil(trained):
    m, x, y = trained
    assert released_gil(lambda: m.fit(x, y, epochs=1, batch_size=100, verbose=0), max_calls=20)
    assert released_gil(lambda: m.evaluate(x, y, verbose=0), max_calls=50)
    assert released_gil(lambda: m.predict(x), max_calls=50)


def test_fit_with_callbacks_releases_the_gil(trained):
    """Python hooks take the GIL back for each call and release it again."""
    m, x, y = trained

    class Count(keras.callbacks.Callback):
        batches = 0

        def on_batch_end(self, batch, logs=None):
            Count.batches += 1

    assert released_gil(lambda: m.fit(x, y, epochs=1, batch_size=100, verbose=0, callbacks=[Count()]),
                        max_calls=20)
    assert Count.batches > 0


def test_convert_and_invoke_release_the_gil(trained):
    m, x, _ = trained
    c = tf.lite.TFLiteConverter.from_keras_model(m)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(20))
    assert released_gil(c.convert, max_calls=50)
    it = tf.lite.Interpreter(model_content=c.convert())
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], x[:1])
    assert released_gil(it.invoke, max_calls=100000)
