"""tfmot.quantization.keras: the names of ``qlite.quantization.keras``."""
from ...quantization.keras import *  # noqa: F401,F403
from ...quantization.keras import __all__  # noqa: F401
