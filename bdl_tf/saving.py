"""Save and load tf_keras models that hold TensorFlow Probability layers: config + weights.

Keras' whole-model formats are fragile with ``tfp.layers``: the layers store their distribution
function as pickled Python code, which Keras refuses to load by default (and which may not load in
another Python version), a lambda ``convert_to_tensor_fn`` cannot be named back at all ("Unknown
convert-to-tensor function"), and custom losses and subclassed models need extra care. Weights
alone always round-trip. So a model is saved as a folder with

- ``config.json``: the model's Keras config (``keras.saving.serialize_keras_object``) and the
  library versions that wrote it;
- ``weights.*``: a TensorFlow checkpoint of its variables (matched by object structure, so it
  works for functional, Sequential and subclassed models alike).

``load_model`` rebuilds the model from its config and restores every variable, checking that none
is left out. Named TFP layers (``IndependentNormal``, ``MultivariateNormalTriL``,
``IndependentBernoulli``, ...) are rebuilt from their constructor arguments, so no pickled code
runs. A plain ``tfpl.DistributionLambda(make_distribution_fn)`` can only be rebuilt by unpickling
its function: that needs ``safe_mode=False`` (only for files you trust). Layers that implement
``get_config`` (``bdl_tf.heads``, ``bdl_tf.layers``, the VAE models) need nothing special.

Only the architecture and the weights are saved, not the compile() settings (loss, optimizer and
its state): compile the loaded model again to train it further.
"""
from __future__ import annotations

import json
import math

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_bool, check_path, check_tf_keras_model, reading_file

tfpl = tfp.layers

__all__ = ["save_model", "load_model", "FORMAT"]

#: Written into config.json; ``load_model`` refuses folders of another format.
FORMAT = "bdl_tf.saving/1"
_CONFIG = "config.json"
_REMEDY = "the folder is damaged or incomplete: save the model again with bdl_tf.save_model"
_WEIGHTS = "weights"

# Keys Keras' Lambda layer adds to a config: the pickled function, unused by named TFP layers.
_PICKLED_KEYS = (
    "function",
    "function_type",
    "module",
    "output_shape",
    "output_shape_type",
    "output_shape_module",
    "arguments",
    "make_distribution_fn",
)


class _FromArguments:
    """Rebuilds a named TFP distribution layer from its constructor arguments, ignoring the
    pickled distribution function that TFP also writes into its config."""

    def __init__(self, layer_class):
        self.layer_class = layer_class

    def from_config(self, config):
        return self.layer_class(**{k: v for k, v in config.items() if k not in _PICKLED_KEYS})


class _PickledDistributionLambda:
    """Loads a plain DistributionLambda, whose function exists only as pickled code."""

    def __init__(self, safe_mode):
        self.safe_mode = safe_mode

    def from_config(self, config):
        if self.safe_mode:
            raise ValueError(
                f"layer {config.get('name')!r} is a tfp.layers.DistributionLambda whose distribution "
                "function is stored as pickled Python code; loading it runs that code. Pass "
                "safe_mode=False if you trust the file, or build the head from a layer with a config "
                "(bdl_tf.heads, tfpl.IndependentNormal, ...)."
            )
        return tfpl.DistributionLambda.from_config(config)


def _named_tfp_layers():
    return {
        name: cls
        for name, cls in vars(tfpl).items()
        if isinstance(cls, type) and issubclass(cls, tfpl.DistributionLambda) and cls is not tfpl.DistributionLambda
    }


def _loader_key(class_name):
    return f"bdl_tf.saving>{class_name}"


def _loaders(safe_mode):
    loaders = {_loader_key(name): _FromArguments(cls) for name, cls in _named_tfp_layers().items()}
    loaders[_loader_key("DistributionLambda")] = _PickledDistributionLambda(safe_mode)
    return loaders


def _mvn_tril_event_size(node):
    """TFP's MultivariateNormalTriL leaves its event size d out of its config; recover it from
    the number of inputs it was built on, d + d (d + 1) / 2."""
    params = int(node["build_config"]["input_shape"][-1])
    size = int(round((math.sqrt(9 + 8 * params) - 3) / 2))
    if size * (size + 3) // 2 != params:
        raise ValueError(f"MultivariateNormalTriL layer {node['config'].get('name')!r} built on {params} inputs")
    return size


def _route_tfp_layers(node, names):
    """Copy of a serialized config in which every TFP distribution layer is loaded by ``_loaders``:
    Keras would otherwise look the class up itself (TFP registers some globally) and unpickle."""
    if isinstance(node, list):
        return [_route_tfp_layers(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _route_tfp_layers(value, names) for key, value in node.items()}
    if node.get("class_name") in names and isinstance(node.get("config"), dict):
        node["registered_name"] = _loader_key(node["class_name"])
        if node["class_name"] == "MultivariateNormalTriL" and "event_size" not in node["config"]:
            node["config"]["event_size"] = _mvn_tril_event_size(node)
    return node


def _versions():
    return {"tensorflow": tf.__version__, "tf_keras": keras.__version__, "tensorflow_probability": tfp.__version__}


def save_model(model, path, overwrite=False):
    """Save ``model`` (a tf_keras model, possibly holding tfp.layers) to the folder ``path``.

    Writes ``config.json`` and a ``weights`` checkpoint; returns the folder as a ``Path``. An
    existing folder is replaced only with ``overwrite=True``.
    """
    check_tf_keras_model(model)
    folder = check_path("path", path)
    overwrite = check_bool("overwrite", overwrite)
    if folder.exists() and not overwrite:
        raise FileExistsError(f"path {str(folder)!r} exists; pass overwrite=True to replace it")
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path {str(folder)!r} is a file, not a folder")
    if not model.built:
        raise ValueError("model has no weights yet: build it (call it on data) before saving")
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # architecture only: losses and optimizers are set by compile()
    text = json.dumps({"format": FORMAT, "versions": _versions(), "model": config}, indent=1)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{_WEIGHTS}.*"):
        old.unlink()
    (folder / _CONFIG).write_text(text)
    model.save_weights(str(folder / _WEIGHTS), save_format="tf")
    return folder


def load_model(path, custom_objects=None, safe_mode=True):
    """Load a model written by :func:`save_model`: rebuild it from its config, restore its weights.

    Args:
        path: the folder given to ``save_model``.
        custom_objects: classes or functions the config names that are neither Keras built-ins nor
            registered with ``keras.saving.register_keras_serializable``.
        safe_mode: refuse to unpickle Python code (plain ``DistributionLambda`` layers). Set it to
            False only for files you trust.
    """
    folder = check_path("path", path)
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict, got {type(custom_objects).__name__}")
    safe_mode = check_bool("safe_mode", safe_mode)
    config_file = folder / _CONFIG
    if not config_file.is_file():
        raise FileNotFoundError(f"no {_CONFIG} in {str(folder)!r}: not a folder written by bdl_tf.saving.save_model")
    with reading_file(config_file, "model config written by bdl_tf.saving.save_model", _REMEDY):
        saved = json.loads(config_file.read_text())
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            found = saved.get("format") if isinstance(saved, dict) else type(saved).__name__
            raise ValueError(f"format {found!r}, expected {FORMAT!r}")
        config = _route_tfp_layers(saved["model"], {*_named_tfp_layers(), "DistributionLambda"})
    objects = {**_loaders(safe_mode), **(custom_objects or {})}
    with keras.saving.custom_object_scope(objects):
        model = keras.saving.deserialize_keras_object(config, safe_mode=safe_mode)
    with reading_file(folder / _WEIGHTS, "weights checkpoint matching config.json", _REMEDY):
        status = model.load_weights(str(folder / _WEIGHTS))
        status.assert_existing_objects_matched()
    status.expect_partial()  # the optimizer's slots, if it was saved compiled, are not restored
    return model
