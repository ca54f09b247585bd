"""course_utils: the companion package of "Neural style transfer, step by step".

Modules are the course's nouns: assets, images, vgg, losses, settings, presets,
objective, train, plots, widgets, checks, assignments, cli.  Import them by name, e.g.
``from course_utils import losses``.  Import course_utils before tensorflow: then
TensorFlow starts without its C++ start-up lines on stderr (see startup.py).
"""
from .startup import check_python, quiet_tensorflow

check_python()
quiet_tensorflow()
