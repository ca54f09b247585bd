"""images: any source to an RGB float array in 0..255, resizing by the longest side, uint8 out,
and PNG writes that leave a whole file or none."""
import os
import stat

import numpy as np
import pytest
from PIL import Image

from course_utils import files, images


def test_load_image_gives_float_rgb_with_the_longest_side_asked():
    x = images.load_image("tubingen", 64)
    assert x.dtype == np.float32 and x.ndim == 3 and x.shape[2] == 3 and max(x.shape[:2]) == 64
    assert 0 <= x.min() and x.max() <= 255


def test_grey_and_rgba_arrays_become_rgb():
    grey = np.full((5, 7), 100, np.uint8)
    rgba = np.zeros((5, 7, 4), np.uint8)
    assert images.load_image(grey).shape == (5, 7, 3)
    assert images.load_image(rgba).shape == (5, 7, 3)


def test_resize_longest_keeps_the_aspect_and_grows_a_thin_picture_to_min_side():
    img = Image.new("RGB", (400, 100))
    assert images.resize_longest(img, 200).size == (200, 50)
    assert images.resize_longest(img, 200, min_side=64).size == (256, 64)
    with pytest.raises(images.ImageError, match="too elongated"):
        images.resize_longest(Image.new("RGB", (5000, 10)), 256, min_side=64)


def test_to_uint8_rounds_clips_and_drops_the_batch_axis():
    x = np.array([[[[-3.0, 0.4, 254.6], [300.0, 127.5, 1.49]]]])
    np.testing.assert_array_equal(images.to_uint8(x), [[[0, 0, 255], [255, 128, 1]]])


def test_save_png_round_trips_and_leaves_no_temporary_file(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (6, 9, 3)).astype(np.uint8)
    path = images.save_png(x, tmp_path / "out" / "x.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), x)
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.png"]


def test_the_one_writer_gives_0644_under_umask_022_and_nothing_on_failure(tmp_path):
    old = os.umask(0o022)                         # the usual umask, set for this test only
    try:
        path = files.write_atomically(tmp_path / "a.txt", "text")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and path.read_text() == "text"

    def breaks(f):
        f.write(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(tmp_path / "b.bin", breaks)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_an_unwritable_place_is_one_image_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(images.ImageError, match="cannot write"):
        images.save_png(np.zeros((2, 2, 3)), tmp_path / "file" / "x.png")
