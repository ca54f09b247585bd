"""Bad input: students' own photos and mistakes.  Every picture here is made by the test.

Handled: grayscale, RGBA/LA/palette transparency (on white), CMYK, 16-bit PNG, EXIF
rotation, animated GIF, progressive JPEG, very wide/tall, larger than the working size.
Refused with one ImageError/ValueError line: missing, directory, empty, not an image,
truncated, corrupt, decompression bomb, unknown course image, too small a size, bad settings.
The CLI says the same in one stderr line with exit code 2, and writes nothing.
"""
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_utils import cli, images, train

ROOT = Path(__file__).resolve().parents[2]
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)

def run_cli(*args, env=None, timeout=300):
    """`python -m course_utils ...` in a subprocess, as a student would run it (TensorFlow's
    log level left as it comes: course_utils.startup keeps its start-up lines off stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {
        "COURSE_PRESET": "ci", **(env or {})}
    return subprocess.run([sys.executable, "-m", "course_utils", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def one_error_line(err):
    """The message of an exception: a single line, and it says something."""
    text = str(err)
    assert text and "\n" not in text, text
    return text


def two_halves(size=(40, 20), left=RED, right=BLUE):
    """An RGB picture, left half `left`, right half `right`."""
    w, h = size
    x = np.zeros((h, w, 3), np.uint8)
    x[:, : w // 2], x[:, w // 2:] = left, right
    return Image.fromarray(x)


def png16(path, a):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB): a is uint16 (H, W[, C])."""
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    raw = b"".join(b"\0" + a[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[channels], 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def near(pixel, colour, tol=12):
    return np.all(np.abs(np.asarray(pixel, float) - colour) <= tol)


# ---------------------------------------------------------------- pictures the course accepts

def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (8, 1))
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    x = images.load_image(tmp_path / "gray.png")
    assert x.shape == (8, 25, 3) and x.dtype == np.float32
    for c in range(3):
        np.testing.assert_array_equal(x[..., c], gray)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparent_pixels_are_composited_on_white(tmp_path, mode):
    img = Image.new(mode, (10, 4), (0, 0) if mode == "LA" else (0, 0, 0, 0))   # transparent black
    img.paste(Image.new(mode, (5, 4), (60, 255) if mode == "LA" else (255, 0, 0, 255)), (5, 0))
    img.save(tmp_path / "alpha.png")
    x = images.load_image(tmp_path / "alpha.png")
    assert near(x[0, 0], WHITE, 0)                                      # transparent -> white
    assert near(x[0, 9], (60,) * 3 if mode == "LA" else RED, 0)          # opaque kept


def test_half_transparent_pixel_is_blended_with_white(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 128)).save(tmp_path / "half.png")
    assert near(images.load_image(tmp_path / "half.png")[0, 0], (127,) * 3, 1)


def test_palette_with_a_transparent_index(tmp_path):
    img = Image.new("P", (6, 2), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (3, 0, 6, 2))
    img.save(tmp_path / "palette.png", transparency=0)
    x = images.load_image(tmp_path / "palette.png")
    assert near(x[0, 0], WHITE, 0) and near(x[0, 5], RED, 0)


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")   # red in CMYK
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    x = images.load_image(tmp_path / "cmyk.jpg")
    assert x.shape == (16, 16, 3) and near(x[8, 8], RED)


def test_16_bit_grayscale_png_is_scaled_not_clipped(tmp_path):
    a = np.array([[0, 257 * 64, 32768, 65535]], np.uint16).repeat(3, axis=0)
    png16(tmp_path / "g16.png", a)
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")          # Pillow's 16-bit mode
    x = images.load_image(tmp_path / "g16.png")
    np.testing.assert_allclose(x[0, :, 0], [0, 64, 128, 255], atol=1)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])


def test_16_bit_rgb_png(tmp_path):
    a = np.zeros((3, 5, 3), np.uint16)
    a[..., 0], a[..., 1], a[..., 2] = 65535, 32768, 2570
    x = images.load_image(png16(tmp_path / "rgb16.png", a))
    np.testing.assert_allclose(x[1, 2], [255, 128, 10], atol=1)


def test_exif_rotated_jpeg_appears_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6                       # Orientation: rotate 90° clockwise to display
    two_halves((40, 20)).save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    x = images.load_image(tmp_path / "phone.jpg")
    assert x.shape == (40, 20, 3)          # stored 40 wide, shown 40 tall
    assert near(x[2, 10], RED) and near(x[-3, 10], BLUE)   # the left half is now on top
    # The same picture through the CLI's route (opened once, then passed on) is not turned twice.
    assert images.load_image(images.open_image(tmp_path / "phone.jpg")).shape == (40, 20, 3)


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 6), RED), Image.new("RGB", (8, 6), BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(tmp_path / "anim.gif").n_frames == 2
    x = images.load_image(tmp_path / "anim.gif")
    assert x.shape == (6, 8, 3) and near(x[3, 4], RED, 0)


def test_progressive_jpeg(tmp_path):
    two_halves((64, 32)).save(tmp_path / "prog.jpg", progressive=True, quality=95)
    assert Image.open(tmp_path / "prog.jpg").info.get("progressive")
    x = images.load_image(tmp_path / "prog.jpg")
    assert x.shape == (32, 64, 3) and near(x[16, 5], RED) and near(x[16, 60], BLUE)


def test_larger_than_the_working_size_is_scaled_down(tmp_path):
    two_halves((300, 150)).save(tmp_path / "big.png")
    x = images.load_image(tmp_path / "big.png", size=64)
    assert x.shape == (32, 64, 3) and near(x[16, 5], RED, 2) and near(x[16, 60], BLUE, 2)


@pytest.mark.parametrize("wh, expected", [((1000, 10), (16, 1600)), ((10, 1000), (1600, 16)),
                                          ((300, 60), (16, 80))])
def test_very_wide_or_tall_pictures_keep_their_shape_and_reach_the_minimum(tmp_path, wh, expected):
    two_halves(wh).save(tmp_path / "pano.png")
    x = images.load_image(tmp_path / "pano.png", size=64, min_side=16)
    assert x.shape[:2] == expected         # aspect ratio kept; shorter side 16 px for conv5_1


def test_a_panorama_stylizes_end_to_end(tmp_path):
    two_halves((600, 20)).save(tmp_path / "pano.png")
    r = train.stylize(tmp_path / "pano.png", "starry_night", size=64, steps=2, progress=False)
    assert r.best_image.shape == (16, 480, 3) and len(r.history) == 2


def test_a_picture_too_elongated_for_any_size_is_refused(tmp_path):
    Image.new("RGB", (5000, 1)).save(tmp_path / "line.png")
    with pytest.raises(images.ImageError, match="too elongated.*crop it") as err:
        images.load_image(tmp_path / "line.png", size=64, min_side=16)
    one_error_line(err.value)


def test_uploads_as_bytes_or_file_objects(tmp_path):
    two_halves((20, 10)).save(tmp_path / "up.png")
    data = (tmp_path / "up.png").read_bytes()
    assert images.load_image(data).shape == (10, 20, 3)
    with open(tmp_path / "up.png", "rb") as f:
        assert images.load_image(f).shape == (10, 20, 3)
    with pytest.raises(images.ImageError, match="the uploaded file is not an image"):
        images.load_image(b"%PDF-1.4 not a picture")


def test_arrays_gray_rgba_and_batched():
    assert images.load_image(np.full((4, 5), 7.0)).shape == (4, 5, 3)
    rgba = np.zeros((4, 5, 4), np.uint8)
    assert near(images.load_image(rgba)[0, 0], WHITE, 0)
    assert images.load_image(np.zeros((1, 4, 5, 3))).shape == (4, 5, 3)
    for bad, match in [(np.zeros((4, 5, 2)), "shape"), (np.full((4, 5, 3), np.nan), "NaN"),
                       (np.zeros((0, 5, 3)), "shape"), (42, "not int"), (None, "not NoneType")]:
        with pytest.raises(images.ImageError, match=match):
            images.load_image(bad)


# ---------------------------------------------------------------- pictures the course refuses

def _truncated(tmp_path, fmt):
    path = tmp_path / f"whole.{fmt}"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 120, 3), np.uint8)).save(path)
    data = path.read_bytes()
    (tmp_path / f"cut.{fmt}").write_bytes(data[: len(data) // 2])
    return tmp_path / f"cut.{fmt}"


def _corrupt_png(tmp_path):
    path = tmp_path / "whole.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (120, 120, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF                  # one flipped byte inside the compressed pixels
    (tmp_path / "flipped.png").write_bytes(bytes(data))
    return tmp_path / "flipped.png"


def _file(path, data):
    path.write_bytes(data)
    return path


REFUSED = {
    "missing": (lambda p: p / "nowhere.jpg", r"no such image file: .*nowhere\.jpg"),
    "directory": (lambda p: p, r"is a directory, not an image file"),
    "empty": (lambda p: _file(p / "empty.jpg", b""), r"is empty \(0 bytes\)"),
    "text": (lambda p: _file(p / "notes.png", b"not a picture"),
             r"notes\.png is not an image Pillow can read \(JPEG, PNG"),
    "truncated jpeg": (lambda p: _truncated(p, "jpg"), r"cut\.jpg is truncated or corrupt"),
    "truncated png": (lambda p: _truncated(p, "png"), r"cut\.png is truncated or corrupt"),
    "corrupt png": (_corrupt_png, r"flipped\.png is truncated or corrupt"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_bad_files_are_refused_in_one_line(tmp_path, case):
    make, message = REFUSED[case]
    path = make(tmp_path)
    with pytest.raises(images.ImageError, match=message) as err:
        images.load_image(path, size=64)
    assert isinstance(err.value, ValueError)       # one clear ValueError for the API
    one_error_line(err.value)


@pytest.mark.parametrize("side", [40, 100])       # above the limit (Pillow warns) and above 2x (it refuses)
def test_decompression_bomb_is_refused_and_the_limit_named(tmp_path, monkeypatch, side):
    Image.new("RGB", (side, side)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(images.ImageError, match=r"Pillow's limit of 1,000 pixels") as err:
        images.load_image(tmp_path / "bomb.png")
    assert f"{side * side:,} pixels" in one_error_line(err.value)
    assert "MAX_IMAGE_PIXELS" in str(err.value)


def test_an_unknown_course_image_lists_the_known_ones():
    with pytest.raises(images.ImageError) as err:
        images.load_image("tubingenn")
    text = one_error_line(err.value)
    assert "did you mean the course image 'tubingen'" in text
    assert "course images: tubingen, starry_night, the_scream" in text
    assert "vgg19_weights" not in text                # only pictures are offered
    with pytest.raises(images.ImageError, match="no image file or course image named 'kandinsky'"):
        images.load_image("kandinsky")
    with pytest.raises(images.ImageError, match="did you mean the course image 'tubingen'"):
        images.load_image("tubingen.jpg")            # a file name that is not there


def test_an_empty_path_is_refused():
    with pytest.raises(images.ImageError, match="no image given"):
        images.load_image("")


# ---------------------------------------------------------------- settings

BAD_SETTINGS = [
    (dict(alpha=-1.0), r"alpha must be a finite number ≥ 0, not -1\.0"),
    (dict(alpha=float("nan")), r"alpha must be a finite number ≥ 0, not nan"),
    (dict(beta=float("inf")), r"beta must be a finite number ≥ 0, not inf"),
    (dict(tv_weight=-1e-3), r"tv_weight must be a finite number ≥ 0"),
    (dict(style_weights=(0.2, 0.2, -0.2, 0.2, 0.2)), r"style weight of conv3_1 .* not -0\.2"),
    (dict(style_weights=(0.2, 0.2, 0.2, 0.2, float("nan"))), r"style weight of conv5_1 .* not nan"),
    (dict(style_weights=(0.5, 0.5)), r"2 style weights for 5 style layers; give one weight per layer"),
    (dict(style_layers=("conv1_1", "conv2_1"), style_weights=(1.0,)), r"1 style weights for 2 style layers"),
    (dict(style_layers=()), r"style_layers is empty; name at least one"),
    (dict(style_layers=("conv6_1",)), r"unknown layer 'conv6_1'; did you mean conv5_1"),
    (dict(content_layers=("conv4_5",)), r"unknown layer 'conv4_5'; did you mean conv4_"),
    (dict(content_layers=("block4_conv2",)), r"did you mean conv4_2 \(the paper's name for Keras's"),
    (dict(style_layers=("relu1_1",)), r"unknown layer 'relu1_1'.*conv1_1 … conv5_4"),
    (dict(steps=0), r"steps must be a whole number > 0, not 0"),
    (dict(steps=-5), r"steps must be a whole number > 0, not -5"),
    (dict(steps=2.5), r"steps must be a whole number > 0, not 2\.5"),
    (dict(size=8), r"size must be a whole number of pixels ≥ 16, not 8: 4 poolings .* conv5_1"),
    (dict(size=0), r"≥ 16, not 0"),
    (dict(size=5000), r"size must be at most 4096 pixels, not 5000"),
    (dict(size=64.5), r"whole number of pixels ≥ 16, not 64\.5"),
    (dict(learning_rate=0.0), r"learning_rate must be a finite number > 0"),
    (dict(alpha=0.0, beta=0.0), r"alpha and beta are both 0"),
    (dict(optimizer="sgd"), r"optimizer must be 'lbfgs', 'lbfgs-scipy' or 'adam', not 'sgd'"),
    (dict(stepz=3), r"unknown setting\(s\) stepz; valid: content_layers"),
]


@pytest.mark.parametrize("overrides, message", BAD_SETTINGS,
                         ids=[next(iter(o)) + "=" + str(list(o.values())[-1]) for o, _ in BAD_SETTINGS])
def test_bad_settings_give_one_clear_value_error(overrides, message):
    with pytest.raises(ValueError, match=message) as err:
        train.make_settings("ci", **overrides)
    one_error_line(err.value)


def test_stylize_refuses_bad_settings_before_reading_any_picture(monkeypatch):
    monkeypatch.setattr(images, "load_image", lambda *a, **k: pytest.fail("read a picture"))
    with pytest.raises(ValueError, match="steps must be"):
        train.stylize("tubingen", "starry_night", steps=0, progress=False)


def test_the_minimum_size_follows_the_deepest_layer_used():
    shallow = dict(content_layers=("conv2_2",), style_layers=("conv1_1", "conv2_1"))
    assert train.make_settings("ci", size=4, **shallow).size == 4     # one pooling before conv2_x
    with pytest.raises(ValueError, match=r"≥ 2, not 1: 1 poolings .* conv2_2"):
        train.make_settings("ci", size=1, **shallow)
    with pytest.raises(ValueError, match=r"≥ 8, not 4: 3 poolings .* conv4_2"):
        train.make_settings("ci", size=4, style_layers="conv1_1")


def test_numbers_from_numpy_and_layers_as_one_string_are_accepted():
    s = train.make_settings("ci", alpha=np.float32(1e-3), steps=np.int64(3), size=np.int64(32),
                            style_layers="conv1_1, conv2_1")
    assert s.style_layers == ("conv1_1", "conv2_1") and s.style_weights == (0.5, 0.5)


def test_own_style_layers_on_a_preset_with_its_own_weights():
    # `seed` has five weights for its five layers; naming two layers means equal weights for them.
    s = train.make_settings("seed", style_layers=("conv1_1", "conv2_1"))
    assert s.style_weights == (0.5, 0.5)
    with pytest.raises(ValueError, match="5 style weights for 2"):
        train.make_settings("seed", style_layers=("conv1_1", "conv2_1"),
                            style_weights=(0.5, 1.0, 1.5, 3.0, 4.0))


# ---------------------------------------------------------------- the CLI: one line, exit 2

def main_in_process(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


CLI_SETTINGS = [
    (["--size", "8"], r"size must be a whole number of pixels ≥ 16, not 8"),
    (["--steps", "0"], r"steps must be a whole number > 0"),
    (["--style-layers", ""], r"style_layers is empty"),
    (["--style-layers", "conv1_1,conv9_9"], r"unknown layer 'conv9_9'"),
    (["--style-weights", "1,2"], r"2 style weights for 5 style layers"),
    (["--alpha", "nan"], r"alpha must be a finite number"),
    (["--beta", "-1"], r"beta must be a finite number ≥ 0, not -1\.0"),
    (["--style-weights", "1,1,1,1,inf"], r"style weight of conv5_1"),
    (["--preset", "fast"], r"unknown preset 'fast'"),
    (["--size", "big"], r"argument --size: invalid int value: 'big'"),
]


@pytest.mark.parametrize("args, message", CLI_SETTINGS, ids=[" ".join(a) for a, _ in CLI_SETTINGS])
def test_cli_bad_settings_one_line_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setattr(train, "stylize", lambda *a, **k: pytest.fail("computed anyway"))
    out = tmp_path / "out.png"
    try:
        code, _, err = main_in_process(capsys, "stylize", "-o", str(out), "--quiet", *args)
    except SystemExit as exit_:                      # argparse's own refusals
        code, err = exit_.code, capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and re.search(message, err[0]), err
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "text", "truncated jpeg"])
def test_cli_bad_pictures_one_line_exit_2(tmp_path, capsys, monkeypatch, case):
    monkeypatch.setattr(train, "stylize", lambda *a, **k: pytest.fail("computed anyway"))
    make, message = REFUSED[case]
    picture, out = make(tmp_path), tmp_path / "out.png"
    code, _, err = main_in_process(capsys, "stylize", str(picture), "starry_night", "-o", str(out))
    assert code == 2 and len(err) == 1 and re.search(message, err[0]), err
    assert not out.exists()


def test_cli_unwritable_output_is_refused_before_any_computation(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(images, "open_image", lambda *a, **k: pytest.fail("read a picture first"))
    (tmp_path / "afile").write_text("a file, not a directory")
    for out, message in [(tmp_path / "afile" / "sub" / "out.png", r"cannot write to .*afile/sub: Not a directory"),
                         (tmp_path, r"is a directory; give a file name"),
                         (tmp_path / "out.jpg", r"must end in \.png")]:
        code, _, err = main_in_process(capsys, "stylize", "-o", str(out))
        assert code == 2 and len(err) == 1 and re.search(message, err[0]), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_cli_refuses_to_overwrite_its_own_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train, "stylize", lambda *a, **k: pytest.fail("computed anyway"))
    two_halves().save(tmp_path / "me.png")
    before = (tmp_path / "me.png").read_bytes()
    for args in (["me.png", "starry_night", "-o", "me.png"], ["tubingen", "me.png", "-o", "me.png"],
                 ["me_losses.png", "starry_night", "-o", "me.png"]):
        (tmp_path / "me_losses.png").write_bytes(before)
        monkeypatch.chdir(tmp_path)
        code, _, err = main_in_process(capsys, "stylize", *args)
        assert code == 2 and len(err) == 1 and "would overwrite the" in err[0], err
    assert (tmp_path / "me.png").read_bytes() == before


def test_cli_creates_a_missing_output_directory(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "out.png"
    code, stdout, err = main_in_process(capsys, "stylize", "tubingen", "starry_night", "-o", str(out),
                                        "--size", "32", "--steps", "2", "--quiet")
    assert code == 0 and err == [] and f"wrote {out}" in stdout
    assert Image.open(out).size == (32, 24)
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.png", "out_losses.png"]


def test_cli_subprocess_bad_picture_is_one_line_without_tensorflow(tmp_path):
    out = tmp_path / "out.png"
    proc = run_cli("stylize", "tubingenn", "-o", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines() == [proc.stderr.strip()]       # no TF start-up lines at all
    assert proc.stderr.startswith("error: no image file or course image named 'tubingenn'")
    assert not out.exists()


def test_cli_subprocess_bad_setting_is_one_line(tmp_path):
    out = tmp_path / "out.png"
    proc = run_cli("stylize", "-o", str(out), "--size", "8")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines() == ["error: size must be a whole number of pixels ≥ 16, not 8: "
                                         "4 poolings halve the image before conv5_1, the deepest layer used"]
    assert not out.exists()


def test_cli_subprocess_usage_error_is_one_line():
    proc = run_cli("stylize", "--steps", "many")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "usage:" not in proc.stderr


# ---------------------------------------------------------------- writes

def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"the previous result")
    real_save = Image.Image.save

    def disk_full(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(images.ImageError, match="could not write .*out.png: No space left") as err:
        images.save_png(np.zeros((4, 4, 3)), target)
    one_error_line(err.value)

    def interrupted(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        images.save_png(np.zeros((4, 4, 3)), target)
    assert target.read_bytes() == b"the previous result"           # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]       # no .part left behind
    monkeypatch.setattr(Image.Image, "save", real_save)
    images.save_png(np.zeros((4, 4, 3)), target)
    assert Image.open(target).size == (4, 4)


def test_save_png_into_an_impossible_place_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(images.ImageError, match="cannot write .*afile/out.png") as err:
        images.save_png(np.zeros((4, 4, 3)), tmp_path / "afile" / "out.png")
    one_error_line(err.value)


def test_written_files_follow_the_umask_like_any_other_file(tmp_path):
    old = os.umask(0o022)
    try:
        images.save_png(np.zeros((4, 4, 3)), tmp_path / "out.png")
    finally:
        os.umask(old)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o644     # not mkstemp's 0o600
