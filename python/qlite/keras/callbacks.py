"""Keras callbacks: ``Callback`` to subclass, ``History``, ``TerminateOnNaN``, ``ProgbarLogger``.

fit() calls on_train_begin, on_epoch_begin, on_epoch_end (with the epoch's
loss, accuracy and val_* when validating), on_train_batch_end / on_batch_end
(only when a callback overrides one: a Python call per batch costs time) and
on_train_end. Setting ``self.model.stop_training = True`` in on_epoch_end
ends training after that epoch, as in Keras.
"""


class Callback:
    """Base class of the callbacks fit() accepts; override the hooks you need."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        """Called by fit() with the model being trained."""
        self.model = model

    def set_params(self, params):
        """Called by fit() with {'epochs', 'steps', 'verbose'}."""
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called before each epoch (from Python, just before C++ runs it: on_epoch_end of the previous one)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called after every epoch with its loss, accuracy (and val_* when validating)."""

    def on_train_batch_begin(self, batch, logs=None):
        """Not called by qlite (batches run in C++ without a Python call before each)."""

    def on_train_batch_end(self, batch, logs=None):
        """Called after every batch with the epoch's running loss and accuracy (when overridden)."""

    def on_batch_begin(self, batch, logs=None):
        """Not called by qlite (Keras' older name of on_train_batch_begin)."""

    def on_batch_end(self, batch, logs=None):
        """Called after every batch, as on_train_batch_end (Keras' older name; when overridden)."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch."""


class History(Callback):
    """What fit() returns: ``history`` maps 'loss', 'accuracy' (and 'val_loss', 'val_accuracy') to per-epoch lists."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        """Starts with empty lists, as Keras."""
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        """Appends the epoch's logs to ``history``."""
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, as Keras' TerminateOnNaN.

    Without it qlite's fit raises RuntimeError on a non-finite loss (the
    weights are garbage from there); with it fit prints
    "Batch N: Invalid loss, terminating training", calls on_epoch_end with a
    NaN loss for the epoch that diverged and returns normally.
    """


class ProgbarLogger(Callback):
    """Keras' progress bar callback. fit() prints the bar itself from C++, following ``verbose``
    (0 silent, 1 bar, 2 one line per epoch, 'auto' = 1), as Keras' own ProgbarLogger does; listing one
    changes nothing."""

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        self.count_mode = count_mode
        self.stateful_metrics = stateful_metrics


__all__ = ["Callback", "History", "TerminateOnNaN", "ProgbarLogger"]
