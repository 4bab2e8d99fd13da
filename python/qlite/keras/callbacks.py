"""Keras callbacks: ``Callback`` (on_epoch_end is called with the epoch's logs) and ``History``."""


class Callback:
    """Base class of the callbacks fit() accepts; qlite calls on_train_begin, on_epoch_end and on_train_end."""

    def __init__(self):
        self.model = None

    def set_model(self, model):
        """Called by fit() with the model being trained."""
        self.model = model

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called after every epoch with its loss, accuracy (and val_* when validating)."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch."""


class History(Callback):
    """What fit() returns: ``history`` maps 'loss', 'accuracy' (and 'val_loss', 'val_accuracy') to per-epoch lists."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Appends the epoch's logs to ``history``."""
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


__all__ = ["Callback", "History"]
