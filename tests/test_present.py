"""The presentation app without a browser: its notebook in the package, the quick look,
the same picture every time, Save, the loss curve and the `present` command."""
import importlib.util
import io
import json

import numpy as np
import pytest
from PIL import Image

from course_utils import cli, present


@pytest.fixture
def app(tmp_path):
    a = present.App("tubingen", "starry_night", preset="ci", save_dir=tmp_path / "saved")
    yield a
    a.stop()
    a.wait(timeout=120)


def test_the_apps_notebook_ships_inside_the_package_without_outputs():
    notebook = present.notebook()
    assert notebook.is_file()
    cells = json.loads(notebook.read_text())["cells"]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in cells)
    assert "App()" in "".join("".join(c["source"]) for c in cells)
    template = notebook.parent / "voila" / "templates" / "course"
    assert json.loads((template / "conf.json").read_text()) == {"base_template": "lab"}


def test_the_quick_look_is_a_small_first_stage(app):
    app.size.value, app.steps.value = 256, 65
    (quick, first), (plain, second) = app._stages(app.settings())
    assert (quick, plain) == ("quick look", "")
    assert (first["size"], first["steps"], first["every"]) == (128, 20, 1)
    assert second == app.settings()                      # then the run as chosen, unchanged
    app.quick.value = False
    assert app._stages(app.settings()) == [("", app.settings())]
    app.quick.value, app.size.value = True, 96           # already small: nothing to look at first
    assert len(app._stages(app.settings())) == 1


def test_a_quick_look_previews_early_and_ends_on_the_same_picture(app):
    app.size.value, app.steps.value, app.every.value = 144, 4, 2
    sizes = []
    app.preview.observe(lambda c: sizes.append(Image.open(io.BytesIO(bytes(c["new"]))).size),
                        "value")
    app.quick.value = True
    quick = app.run(wait=True)
    assert app.message.startswith("done"), app.message
    assert max(sizes[0]) == 128 and max(sizes[-1]) == 144   # the small look first, then the run
    app.quick.value = False
    plain = app.run(wait=True)
    assert np.array_equal(quick.best_image, plain.best_image)   # deterministic, quick or not


def test_save_writes_the_best_picture_and_its_settings(app):
    assert app.save() is None and "nothing to save" in app.message
    assert app.save_button.disabled
    app.size.value, app.steps.value = 32, 2
    result = app.run(wait=True)
    assert not app.save_button.disabled
    first, second = app.save(), app.save()
    assert (first.name, second.name) == ("tubingen_starry_night_001.png",
                                         "tubingen_starry_night_002.png")
    first.unlink()
    assert app.save().name == "tubingen_starry_night_001.png"      # the free number, no overwrite
    assert np.array_equal(np.asarray(Image.open(first).convert("RGB")), result.best_image)
    record = json.loads(first.with_suffix(".json").read_text())
    assert record["settings"]["size"] == 32 and record["style"] == "starry_night"
    assert record["steps"] == 2 and app.message.startswith("saved")


def test_save_into_a_folder_that_cannot_be_made_is_one_status_line(app, tmp_path):
    app.size.value, app.steps.value = 32, 1
    app.run(wait=True)
    (tmp_path / "file").write_text("")
    app.save_dir = tmp_path / "file" / "sub"
    assert app.save() is None
    assert app.message.startswith("cannot write") and "\n" not in app.message


def test_the_loss_curve_has_a_point_per_step():
    history = [dict(total=10.0 ** (5 - i / 3)) for i in range(7)]
    svg = present.loss_svg(history)
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 7 and "step 7" in svg
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys)                                  # falling loss: the line goes down
    assert "<polyline" not in present.loss_svg(history[:1])


def test_the_present_command_serves_on_this_machine_only():
    args = cli.build_parser().parse_args(["present", "--port", "9123", "--no-browser"])
    assert (args.port, args.no_browser, args.save_dir) == (9123, True, "stylized")
    command = present.voila_command(9123, present.notebook())
    assert "--Voila.ip=127.0.0.1" in command and "--port=9123" in command
    assert "--no-browser" in command and "--template=course" in command


def test_present_without_voila_is_one_line(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "voila" else real(name, *a))
    assert cli.main(["present", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the app needs Voilà") and err.count("\n") == 1


def test_present_on_a_port_in_use_is_one_line(capsys):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["present", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: port {port} is in use; choose another --port, or leave it out\n"
