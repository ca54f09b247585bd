# Neural style transfer, step by step.  `make demo` and `make test` are all you need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install fetch demo present test test-fast test-compat compat-pins student release publish lab bench figures book clean notebook-cells

# A virtual environment with the course package installed editable, with its [dev] extra.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The five images and the VGG-19 weights, hash-checked, into $$COURSE_DATA_DIR (else the user cache).
fetch: $(STAMP)
	$(PY) -m course_utils fetch

# Tübingen in the style of The Starry Night, with the `demo` preset.
demo: fetch
	$(PY) -m course_utils stylize tubingen starry_night --preset demo -o stylized.png

# The live-demo app in the browser (Voilà): prints its address; Ctrl-C stops it.
present: fetch
	$(PY) -m course_utils present

# Unit tests, then every notebook and the student release (solutions filled back in, beside the
# release's answer-free package, so its later notebooks run on the "student's" losses) under nbval.
# The release's 00_setup is left out: its step timing runs a transfer before any loss is written.
test: fetch release
	rm -rf build/release-solved
	$(PY) -m course_utils.assignments solve build/release notebooks build/release-solved
	cp -r build/release/course_utils build/release-solved/
	COURSE_PRESET=ci $(PY) -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
		tests notebooks build/release-solved/*.ipynb

# The compatibility legs: the course's wheel in a fresh environment on Colab's Python and pins
# (3.13), Kaggle's (3.12) and the oldest versions pyproject.toml claims (3.10), from pyenv's
# CPythons; the unit tests, notebooks 00-04 and (colab) the panel in the classic Notebook with
# ipywidgets 7.  tests/compat/legs.py says what runs; tests/compat/<leg>.txt are the pins.
COMPAT_LEGS := colab kaggle floor
test-compat: fetch
	$(PY) tests/compat/legs.py $(COMPAT_LEGS)

test-compat-%: fetch
	$(PY) tests/compat/legs.py $*

# The pins again from the runtimes' public records (clones of googlecolab/backend-info and
# Kaggle/docker-python; tests/compat/pins.py says how), then run the legs and commit.
COLAB_RECORD  ?= ../backend-info
KAGGLE_RECORD ?= ../docker-python
compat-pins: $(STAMP)
	$(PY) tests/compat/pins.py --colab $(COLAB_RECORD) --kaggle $(KAGGLE_RECORD)

# Unit tests only (no notebooks).
test-fast: fetch
	$(PY) -m pytest -q tests

# Student notebooks: each solution replaced by a TODO and NotImplementedError.
student: $(STAMP)
	$(PY) -m course_utils.assignments student build/student

# The badges and the Colab/Kaggle install cell, first in every notebook, from course_utils/release.py
# (a fork sets its repository URL and tag there, then runs this).
notebook-cells: $(STAMP)
	$(PY) -m course_utils.notebook_cells

# What students receive: the student notebooks and a course_utils with no answers.
release: $(STAMP)
	rm -rf build/release
	$(PY) -m course_utils.assignments release build/release

# The release as the student edition the badges open: a commit of its own, tagged
# release.STUDENT_TAG in this repository (working tree and branch untouched); then push the tag.
publish: $(STAMP)
	$(PY) -m course_utils.assignments publish

lab: fetch
	$(VENV)/bin/jupyter lab notebooks

bench: fetch
	$(PY) -m course_utils.bench

clean:
	rm -rf build .pytest_cache *.egg-info

# The course as a website in build/book/$(PRESET)/html: every notebook executed under PRESET
# (cached: a rebuild re-runs only what changed), maths and scripts served locally.
PRESET ?= quality
book: fetch
	$(PY) book/build.py --preset $(PRESET)

# The paper's Figures 1-3 and the controls of notebooks 6 and 7 as the notebooks make them under `quality`, into docs/figures/.
figures: fetch
	mkdir -p build/executed docs/figures
	COURSE_PRESET=quality COURSE_FIGURES_DIR=$(CURDIR)/docs/figures $(VENV)/bin/jupyter nbconvert \
		--to notebook --execute --ExecutePreprocessor.timeout=-1 --output-dir build/executed \
		notebooks/02_content_loss.ipynb notebooks/03_gram_matrix_and_style_loss.ipynb \
		notebooks/04_total_loss_and_transfer.ipynb notebooks/05_experiments.ipynb \
		notebooks/06_colour_and_scale.ipynb notebooks/07_regions_blends_and_stages.ipynb
