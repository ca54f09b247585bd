"""`python -m course_utils stylize` end to end at a tiny size."""
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_stylize_writes_the_image_and_its_loss_curves(tmp_path):
    out = tmp_path / "nested" / "tubingen_starry.png"
    env = dict(os.environ, COURSE_PRESET="ci", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "course_utils", "stylize", "tubingen", "starry_night",
                           "-o", str(out), "--size", "48", "--steps", "4", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out).size == (48, 36)
    assert Image.open(out.with_name("tubingen_starry_losses.png")).format == "PNG"
    assert "device CPU:0" in proc.stdout or "device GPU:0" in proc.stdout
    assert "s/step" in proc.stdout and "final loss" in proc.stdout
    assert not list(out.parent.glob(".*part"))        # no temporary file left behind
