"""Sliders for the parameters that are a lesson's point, with a static figure for every reader.

A slider only works where a widget front end runs the kernel (Jupyter, Colab). An HTML export, CI
and a reader without ``ipywidgets`` see the figure the notebook stored, so every slider comes with a
static row of panels at chosen settings; the slider then explores the same ``draw`` over all values.
Unlike the rest of :mod:`bdl_tf.plots`, :func:`parameter_slider` displays (it is meant for notebooks).
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt

from bdl_tf._validation import check_callable

__all__ = ["HEADLESS_ENV_VAR", "parameter_panels", "parameter_slider", "widgets_available"]

#: Set to 1 where no widget front end runs the kernel (``python -m course run``, pytest/nbval, the claims
#: script): sliders then show their static figure only, since a widget can hang nbclient (jupyter/nbclient#312).
HEADLESS_ENV_VAR = "BDL_TF_HEADLESS"


def widgets_available() -> bool:
    """Whether a slider can be shown: ``ipywidgets`` installed (Colab and ``.[dev]`` have it), not headless."""
    if os.environ.get(HEADLESS_ENV_VAR, "").strip() == "1":
        return False
    return importlib.util.find_spec("ipywidgets") is not None


def _check_parameters(parameters) -> dict[str, list]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise TypeError(f"parameters must be a non-empty dict of name -> values, got {parameters!r}")
    checked = {}
    for name, values in parameters.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"parameters' names must be Python identifiers (they are draw's keywords), got {name!r}")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"parameters[{name!r}] must be a non-empty sequence of values, got {values!r}")
        checked[name] = list(values)
    return checked


def _check_settings(settings, parameters: dict[str, list]) -> list[dict]:
    if isinstance(settings, Mapping) or not isinstance(settings, Sequence) or len(settings) == 0:
        raise TypeError(f"static must be a non-empty list of settings (dicts of name -> value), got {settings!r}")
    for setting in settings:
        if not isinstance(setting, Mapping) or set(setting) != set(parameters):
            raise ValueError(f"each static setting must give exactly {sorted(parameters)}, got {setting!r}")
        for name, value in setting.items():
            if value not in parameters[name]:
                raise ValueError(f"static setting {name}={value!r} is not one of parameters[{name!r}] = {parameters[name]}")
    return [dict(setting) for setting in settings]


def _label(setting: Mapping) -> str:
    return ", ".join(f"{name} = {value}" for name, value in setting.items())


def parameter_panels(draw: Callable, settings: Sequence[Mapping], panel_size=(4.0, 3.2), sharey: bool = True):
    """One figure, a panel per setting: ``draw(ax, **setting)`` into each, titled by the setting."""
    check_callable("draw", draw)
    if isinstance(settings, Mapping) or not isinstance(settings, Sequence) or len(settings) == 0:
        raise TypeError(f"settings must be a non-empty list of dicts of name -> value, got {settings!r}")
    width, height = panel_size
    fig, axes = plt.subplots(1, len(settings), figsize=(width * len(settings), height), sharey=sharey,
                             squeeze=False, constrained_layout=True)
    for ax, setting in zip(axes[0], settings):
        draw(ax, **setting)
        if not ax.get_title():
            ax.set_title(_label(setting))
    return fig


def parameter_slider(draw: Callable, parameters: Mapping[str, Sequence], static: Sequence[Mapping] | None = None,
                     panel_size=(4.0, 3.2), sharey: bool = True):
    """Show ``draw`` at the ``static`` settings side by side, then a slider per parameter over ``parameters``.

    Args:
        draw: ``draw(ax, **values)`` draws one setting into a matplotlib Axes (cheap: the slider calls
            it on every move, so train the models beforehand and let ``draw`` pick one).
        parameters: name -> the values its slider steps through, e.g. ``{"rate": [0.1, 0.3, 0.5]}``.
        static: the settings of the static row (each a dict giving every parameter); default: the
            first value of each parameter.
        panel_size: (width, height) in inches of one panel.
        sharey: whether the static panels share their y axis (not for densities that sharpen).

    Displays the slider (an ``ipywidgets.interactive``) and returns None; without ``ipywidgets`` the
    static figure is all there is, and a line says how to get the slider.
    """
    check_callable("draw", draw)
    parameters = _check_parameters(parameters)
    settings = _check_settings(static if static is not None else [{n: v[0] for n, v in parameters.items()}], parameters)
    parameter_panels(draw, settings, panel_size=panel_size, sharey=sharey)
    plt.show()
    if not widgets_available():
        if os.environ.get(HEADLESS_ENV_VAR, "").strip() != "1":
            print(f"(pip install ipywidgets for a slider over {', '.join(parameters)})")
        return
    import ipywidgets
    from IPython.display import display

    def show(**values):  # the slider's one panel, drawn and titled as a static panel is
        parameter_panels(draw, [values], panel_size=panel_size)
        plt.show()

    controls = {name: ipywidgets.SelectionSlider(options=values, value=settings[0][name], description=name,
                                                 continuous_update=False)
                for name, values in parameters.items()}
    display(ipywidgets.interactive(show, **controls))
