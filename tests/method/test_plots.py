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


def test_pipeline_names_the_layers_each_loss_reads():
    """The pipeline picture labels the style layers it is given and the content layer, and
    draws the pictures it is handed (three images, one per row)."""
    import numpy as np
    picture = np.full((8, 8, 3), 128.0)
    fig = plots.pipeline(picture, picture, picture, style_layers=("conv1_1", "conv3_1"),
                         content_layer="conv4_2")
    texts = {t.get_text() for t in fig.axes[0].texts}
    plt.close(fig)
    assert {"conv1_1", "conv3_1", "conv4_2"} <= texts
    assert "conv5_1" not in texts                     # not a style layer here: not labelled
    assert len(fig.axes[0].images) == 3


def test_pipeline_refuses_a_bad_picture_before_opening_a_figure():
    import numpy as np
    import pytest
    before = plt.get_fignums()
    with pytest.raises(ValueError, match="pipeline: pictures are"):
        plots.pipeline(np.zeros((1, 4, 3, 5)))
    assert plt.get_fignums() == before
