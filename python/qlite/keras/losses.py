"""Keras losses: ``SparseCategoricalCrossentropy`` (the one loss qlite trains with)."""


class SparseCategoricalCrossentropy:
    """SparseCategoricalCrossentropy(from_logits=False): integer labels, mean over the batch."""

    def __init__(self, from_logits=False, reduction="auto", name="sparse_categorical_crossentropy"):
        if reduction not in ("auto", "sum_over_batch_size"):
            raise ValueError("SparseCategoricalCrossentropy: only the mean over the batch is supported")
        self.from_logits = bool(from_logits)
        self.name = name

    def get_config(self):
        """The loss's configuration as a dict."""
        return {"name": self.name, "from_logits": self.from_logits}


def get(identifier):
    """A loss from a Keras name ('sparse_categorical_crossentropy') or a loss instance."""
    if isinstance(identifier, SparseCategoricalCrossentropy):
        return identifier
    if identifier == "sparse_categorical_crossentropy":
        return SparseCategoricalCrossentropy()
    raise ValueError("Could not interpret loss identifier: %r (qlite trains with "
                     "SparseCategoricalCrossentropy)" % (identifier,))


__all__ = ["SparseCategoricalCrossentropy", "get"]
