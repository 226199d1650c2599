"""bdl_tf: Bayesian deep learning with tf_keras (Keras 2) and TensorFlow Probability."""
from bdl_tf._config import by_mode, quick_mode, runtime_summary, set_seed

__version__ = "0.1.0"

__all__ = ["by_mode", "quick_mode", "runtime_summary", "set_seed", "__version__"]
