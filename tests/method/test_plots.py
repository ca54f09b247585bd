"""The figure writer: a whole PNG or none, RGB on white."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from PIL import Image

from course_utils import plots


def test_write_figure_writes_an_rgb_png_on_white(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0], color="red")
    path = plots.write_figure(fig, tmp_path / "new" / "curve.png")
    plt.close(fig)
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        assert picture.getpixel((0, 0)) == (255, 255, 255)
        assert (255, 0, 0) in {c for _, c in picture.getcolors(1 << 16)}   # the line is there
    assert sorted(p.name for p in path.parent.iterdir()) == ["curve.png"]   # no .part left
