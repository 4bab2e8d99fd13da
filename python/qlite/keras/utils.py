"""Seeding: qlite's training is deterministic for a given seed (weights and shuffling)."""

_seed = [0]


def set_random_seed(seed):
    """Sets the seed that models built and fitted afterwards use (weights, shuffling).

    Keras seeds Python, numpy and TensorFlow generators; qlite's C++ generator
    takes this one seed, so the same seed gives the same training as
    ``qlite train --seed``.
    """
    seed = int(seed)
    if seed < 0:
        raise ValueError("set_random_seed: seed must be >= 0, got %d" % seed)
    _seed[0] = seed


def get_random_seed():
    """The seed set by set_random_seed (0 by default)."""
    return _seed[0]


__all__ = ["set_random_seed", "get_random_seed"]
