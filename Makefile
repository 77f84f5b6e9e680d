# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtualenv in .venv (once) and installs what it needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: venv demo test lint bench clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,tracking]"
	# mediapipe 0.10.21 ships Face Mesh inside its wheel; --no-deps keeps its
	# opencv-contrib-python from fighting opencv-python-headless over cv2.
	$(BIN)/pip install -q --no-deps mediapipe==0.10.21
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(BIN)/talkinghead animate examples/speech.wav -o $(OUT)/demo.mp4 --params $(OUT)/demo.npz

lint: venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

test: venv lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
