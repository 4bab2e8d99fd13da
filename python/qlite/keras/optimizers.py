"""Keras optimizers: ``Adam`` and ``SGD`` (the update runs in C++)."""
import json


class Optimizer:
    """Base class: an optimizer is its configuration; compile() creates the C++ state."""

    _class_name = None

    def get_config(self):
        """The optimizer's configuration as a dict (Keras' get_config)."""
        return dict(self._config)

    def _config_json(self):
        return json.dumps({"class_name": self._class_name, "config": self._config})

    @property
    def learning_rate(self):
        """The learning rate."""
        return self._config["learning_rate"]


class Adam(Optimizer):
    """Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07), as Keras' Adam."""

    _class_name = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, name="Adam", **kwargs):
        _refuse_extra("Adam", kwargs)
        self._config = {"name": name, "learning_rate": float(learning_rate), "beta_1": float(beta_1),
                        "beta_2": float(beta_2), "epsilon": float(epsilon)}


class SGD(Optimizer):
    """SGD(learning_rate=0.01, momentum=0.0), as Keras' SGD (no Nesterov)."""

    _class_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        _refuse_extra("SGD", kwargs)
        if nesterov:
            raise ValueError("SGD: nesterov=True is not supported by qlite")
        self._config = {"name": name, "learning_rate": float(learning_rate), "momentum": float(momentum)}


def _refuse_extra(who, kwargs):
    if kwargs:
        raise TypeError("%s: unsupported arguments %s" % (who, ", ".join(sorted(kwargs))))


def get(identifier):
    """An optimizer from a Keras name ('adam', 'sgd') or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key == "adam":
            return Adam()
        if key == "sgd":
            return SGD()
    raise ValueError("Could not interpret optimizer identifier: %r (qlite has 'adam' and 'sgd')" % (identifier,))


__all__ = ["Optimizer", "Adam", "SGD", "get"]
