"""course_utils: the companion package of "Neural style transfer, step by step".

Modules are the course's nouns: assets, images, vgg, losses, settings, presets,
objective, train, plots, widgets, checks, assignments, cli.  Import them by name, e.g.
``from course_utils import losses``.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's start-up chatter out of notebooks
