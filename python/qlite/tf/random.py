"""tf.random.set_seed: the seed qlite's training uses (keras.utils.set_random_seed)."""
from ..keras.utils import set_random_seed as set_seed

__all__ = ["set_seed"]
