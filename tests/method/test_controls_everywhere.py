"""One list of controls: every `Settings` field is described once in `controls`, and the
command line, the panel and the app each offer every field the description says they do."""
import dataclasses

import pytest

from course_utils import cli, controls, settings
from course_utils.settings import Settings
from course_utils.widgets import StylePanel

FIELDS = [f.name for f in dataclasses.fields(Settings)]


def descendants(widget):
    """Every widget inside a box (and the box)."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def stylize_options():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")      # argparse's own API
    return {a.dest for a in sub.choices["stylize"]._actions}


@pytest.fixture(scope="module")
def panel():
    return StylePanel(preset="ci")


@pytest.fixture(scope="module")
def app():
    from course_utils.app.page import App
    return App(preset="ci")


def test_every_settings_field_has_one_control_and_a_reason_where_it_is_missing():
    assert [c.name for c in controls.CONTROLS] == list(dict.fromkeys(c.name for c in controls.CONTROLS))
    assert set(FIELDS) == set(controls.BY_NAME)
    for c in controls.CONTROLS:
        assert c.where == controls.EVERYWHERE or c.why, f"{c.name}: say why it is not everywhere"


@pytest.mark.parametrize("name", FIELDS)
def test_the_command_line_offers_the_field(name):
    if "cli" in controls.BY_NAME[name].where:
        assert name in stylize_options()


@pytest.mark.parametrize("name", FIELDS)
def test_the_panel_and_the_app_offer_the_field(name, panel, app):
    if "panel" not in controls.BY_NAME[name].where:
        return
    for page, root in [(panel, panel.widget), (app, app.page)]:
        assert name in page.controls, f"{type(page).__name__} has no control for {name}"
        shown = set(map(id, descendants(root)))
        widgets = page.controls[name]
        widgets = list(widgets.values()) if isinstance(widgets, dict) else [widgets]
        assert all(id(w) in shown for w in widgets), f"{name} is not on {type(page).__name__}'s page"


def test_choices_are_the_ones_settings_accept():
    for c in controls.CONTROLS:
        if c.kind != "choice":
            continue
        for value in c.values:
            Settings(**{c.name: value}, size=64)
        with pytest.raises(ValueError, match=f"{c.name} must be"):
            Settings(**{c.name: "no such " + c.name})
    assert settings.INITS == controls.values("init")


def test_the_panel_gives_what_it_shows(panel):
    panel.tv_weight.value, panel.colour.value, panel.colour_transfer.value = 2.5, "match", "chol"
    panel.learning_rate.value, panel.seed.value = 3.0, 7
    got = panel.settings()
    assert (got["tv_weight"], got["colour"], got["colour_transfer"], got["seed"]) == (2.5, "match", "chol", 7)
    assert not panel.colour_transfer.disabled
    Settings(**got)                                   # a panel's settings are valid settings


def test_the_cli_passes_the_learning_rate_and_tv():
    args = cli.build_parser().parse_args(["stylize", "--learning-rate", "3", "--tv", "1e-4",
                                          "--optimizer", "adam"])
    assert (args.learning_rate, args.tv_weight, args.optimizer) == (3.0, 1e-4, "adam")
