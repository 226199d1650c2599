"""Sliders over a lesson's parameter: the static row every reader sees, the widget, and bad arguments."""
import matplotlib.pyplot as plt
import pytest

from bdl_tf.plots import interactive
from bdl_tf.plots.interactive import parameter_panels, parameter_slider


def draw_line(ax, slope, offset=0):
    ax.plot([0, 1], [offset, offset + slope])


def test_panels_draw_each_setting_into_its_own_titled_axes():
    fig = parameter_panels(draw_line, [{"slope": 1}, {"slope": 3}])
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["slope = 1", "slope = 3"]
    assert [ax.lines[0].get_ydata()[1] for ax in fig.axes] == [1, 3]
    plt.close(fig)


def test_slider_shows_the_static_row_then_a_widget_that_redraws_on_every_move(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv(interactive.HEADLESS_ENV_VAR, raising=False)
    shown, calls = [], []
    monkeypatch.setattr("IPython.display.display", shown.append)
    monkeypatch.setattr(plt, "show", lambda: calls.append(len(plt.gcf().axes)))

    def draw(ax, slope, offset):
        calls.append((slope, offset))
        draw_line(ax, slope, offset)

    parameter_slider(draw, {"slope": [1, 2, 3], "offset": [0, 5]}, static=[{"slope": 1, "offset": 0}, {"slope": 3, "offset": 5}])
    assert calls[:3] == [(1, 0), (3, 5), 2]  # the static row: both settings, one figure of two panels
    (widget,) = shown
    slope_slider = next(child for child in widget.children if getattr(child, "description", "") == "slope")
    slope_slider.value = 2
    assert (2, 0) in calls  # moving the slider redraws with the new value and the others unchanged
    plt.close("all")


def test_without_ipywidgets_the_static_figure_is_all_and_a_line_says_so(monkeypatch, capsys):
    monkeypatch.delenv(interactive.HEADLESS_ENV_VAR, raising=False)
    monkeypatch.setattr(interactive.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(plt, "show", lambda: None)
    assert parameter_slider(draw_line, {"slope": [1, 2]}) is None
    assert "pip install ipywidgets for a slider over slope" in capsys.readouterr().out
    plt.close("all")


def test_headless_runs_show_the_static_figure_and_no_widget(monkeypatch, capsys):
    # course run, pytest/nbval and the claims script set it: a widget there can hang nbclient
    monkeypatch.setenv(interactive.HEADLESS_ENV_VAR, "1")
    shown, calls = [], []
    monkeypatch.setattr("IPython.display.display", shown.append)
    monkeypatch.setattr(plt, "show", lambda: calls.append("show"))
    assert parameter_slider(draw_line, {"slope": [1, 2]}) is None
    assert calls == ["show"] and shown == [] and capsys.readouterr().out == ""
    plt.close("all")


@pytest.mark.parametrize(("parameters", "static", "error", "words"), [
    ({}, None, TypeError, "parameters must be a non-empty dict"),
    ([1, 2], None, TypeError, "parameters must be a non-empty dict"),
    ({"slope": []}, None, ValueError, "parameters['slope'] must be a non-empty sequence"),
    ({"slope": "abc"}, None, ValueError, "parameters['slope'] must be a non-empty sequence"),
    ({"the slope": [1]}, None, ValueError, "must be Python identifiers"),
    ({"slope": [1, 2]}, {"slope": 1}, TypeError, "static must be a non-empty list"),
    ({"slope": [1, 2]}, [{"slope": 7}], ValueError, "slope=7 is not one of parameters['slope']"),
    ({"slope": [1, 2]}, [{"offset": 0}], ValueError, "must give exactly ['slope']"),
])
def test_bad_arguments_name_themselves(parameters, static, error, words):
    with pytest.raises(error) as raised:
        parameter_slider(draw_line, parameters, static=static)
    assert words in str(raised.value)


def test_draw_must_be_callable():
    with pytest.raises(TypeError, match="draw"):
        parameter_panels("not a function", [{"slope": 1}])
