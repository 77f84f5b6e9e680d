# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtualenv in .venv (once) and installs what it needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: venv sysdeps demo test lint bench pretrained clean

# Debian packages some tests and renderers use: Chromium + Node.js/npm (browser and glTF
# validator tests), Mesa EGL (moderngl 3D rendering; a CPU renderer stands in), espeak-ng
# (`say`). scripts/sysdeps.sh installs only what is missing, one package at a time, skips
# what another source provides (a NodeSource node brings its own npm), reports what it
# skipped or could not install, and never fails: the tests that need a tool skip with the
# reason, and the demo needs none of them.
sysdeps:
	@sh scripts/sysdeps.sh

$(VENV)/.installed: pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build 2.13.0 (a range would let pip fetch a newer one)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,tracking,train,ray,serve,whisper]"
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

test: venv sysdeps lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/run.py

# Rebuild the shipped weights from ../shared/data (docs/default_model.md, docs/personalize.md):
# a Whisper read-out on GRID s1 only (the distillation teacher), the shipped Whisper read-out,
# the distilled student front end, the read-out on the student (the default), and the
# general face refiner that personalize fine-tunes. ~25 min + ~30 min for the refiner.
pretrained: venv sysdeps
	$(BIN)/python scripts/train_default.py --grid-only --out $(OUT)/teacher_grid
	$(BIN)/python scripts/train_default.py --out src/talkinghead/data/default_lipsync
	$(BIN)/python scripts/train_student.py --teacher $(OUT)/teacher_grid --out $(OUT)/student
	$(BIN)/python scripts/train_default.py --student $(OUT)/student --out src/talkinghead/data/default_fast
	# mouth v2 (issue 12): prepare the real clips, train on the training side of the mouth_v2 split
	$(BIN)/talkinghead prepare tsv ../shared/data/hunt $(OUT)/prepared/hunt
	$(BIN)/talkinghead prepare tsv ../shared/data $(OUT)/prepared/old --exclude grid_s1/
	$(BIN)/talkinghead prepare grid ../shared/data/grid_s1 $(OUT)/prepared/grid_s1
	# the shipped default (session 7): 5 seeds averaged, GRID s1 as train-only clips (30 % of the
	# crops; the tests' 8 sentences left out), validated on the 59 clips of
	# scripts/mouth_v2_val_clips.json (the session-3 model's validation people)
	$(BIN)/python scripts/train_mouth.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --prior --channels 48 --dropout 0.3 --steps 1200 --seed 0 --ensemble 5 \
	  --train-only $(OUT)/prepared/grid_s1 --train-only-share 0.3 \
	  --exclude-clips bgbb2p bgbu3s pbbp3s pgbe3s bbbm2p bbiz2p pbiu8n bbaf2n \
	  --val-from scripts/mouth_v2_val_clips.json \
	  --work $(OUT)/mouth_work --cache $(OUT)/mouth_cache --out src/talkinghead/data/mouth_v2
	# its opt-in /p b m/ closures (issue 12, sessions 12-13; animate --closures whisper): a frame
	# classifier on Whisper tiny.en encoder frames, trained on forced-aligned phones of the
	# training side (+ English speech without faces, FSDD digits), added to data/mouth_v2 with
	# the option off (the default's output is unchanged)
	$(BIN)/python scripts/train_closure.py labels --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  $(OUT)/prepared/grid_s1 --labels $(OUT)/closure_labels
	$(BIN)/python scripts/train_closure.py speech --out $(OUT)/closure_speech
	$(BIN)/python scripts/train_closure.py train --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --train-only $(OUT)/prepared/grid_s1 --labels $(OUT)/closure_labels --cache $(OUT)/closure_cache \
	  --base src/talkinghead/data/mouth_v2 --val-from scripts/mouth_v2_val_clips.json \
	  --speech $(OUT)/closure_speech --speech-kinds real,digits \
	  --exclude-clips bgbb2p bgbu3s pbbp3s pgbe3s bbbm2p bbiz2p pbiu8n bbaf2n \
	  --closure-frontend whisper --threshold 0 --lead 3 --out src/talkinghead/data/mouth_v2
	# the exemplar mouth's bank (issue 18, session 15; animate --photo --mouth exemplar): mouth
	# crops of the training-side GRID speakers whose teeth show (CC BY 4.0, ATTRIBUTION.md)
	$(BIN)/python scripts/build_mouth_bank.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  $(OUT)/prepared/grid_s1 --out src/talkinghead/data/mouth_bank
	# streaming mouth v2 (issue 13): the same recipe on the causal default model's trunk
	# (data/default_causal), one causal checkpoint per look-ahead of 0/40/80/120/200 ms; 80 ms
	# (la4) with the gate's prior speech level of -20 dBFS (docs/streaming.md, session 7)
	for L in 0 2 4 6 10; do $(BIN)/python scripts/train_mouth.py --prepared $(OUT)/prepared/hunt \
	  $(OUT)/prepared/old --frontend causal --lookahead $$L --prior --channels 48 --dropout 0.3 \
	  $$([ $$L = 4 ] && echo --gate-ref-db -20) \
	  --val-frac 0.3 --steps 1200 --seed 0 --work $(OUT)/mouth_causal_work_la$$L \
	  --cache $(OUT)/mouth_causal_cache --out src/talkinghead/data/mouth_v2_causal/la$$L || exit 1; done
	# the general refiner: 6 people (session 3), then fine-tuned on 52 training-side people of
	# the prepared corpora (issue 18: 32 pairs each; stopped at 600 steps, adversarial from 480)
	$(BIN)/python scripts/train_refiner.py --work $(OUT)/refiner --out $(OUT)/refiner_general_6
	$(BIN)/python scripts/train_refiner.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --init $(OUT)/refiner_general_6 --work $(OUT)/refiner_prepared --steps 600 --adv-start 0.8 \
	  --threads 1 --out src/talkinghead/data/refiner_general
	# the learned mouth of the photo path (issue 18; docs/photo.md): crops of the mouth_v2 split's
	# training side; shipped (session 7) as it meets issue 18's targets on the held-out people
	$(BIN)/python scripts/train_mouth_generator.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --work $(OUT)/mouth_generator_work --steps 300
	# resumed from WORK/last with the Laplacian-pyramid, mouth-profile and PatchGAN terms to
	# 1900 (the first session-7 candidate, mouth r 0.715: not shipped), then resumed to 3400:
	# shipped (--mouth learned) until session 12 added the teeth control below. The session-6 5381-step
	# recipe was: 1689 steps, then --steps 5381 --lap 1.0
	for S in 1900 3400; do $(BIN)/python scripts/train_mouth_generator.py --prepared \
	  $(OUT)/prepared/hunt $(OUT)/prepared/old --work $(OUT)/mouth_generator_work --steps $$S \
	  --lap 1.0 --profile 1.0 --adv 0.05 --d-lr 4e-4 --open-frac 0.25 \
	  --out src/talkinghead/data/mouth_generator || exit 1; done
	# its detail net for large faces (issue 18 session 10; docs/photo.md): 96 -> 192 -> 384 px,
	# trained on the 20 training-side clips with >= 70 px between the eyes, the shipped
	# generator's output as input; resumable from WORK/last, time-limited
	$(BIN)/python scripts/train_mouth_detail.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --work $(OUT)/mouth_detail_work --steps 3000 --max-minutes 40 \
	  --out src/talkinghead/data/mouth_detail
	# the generator's teeth control (issue 18 session 12; docs/photo.md): the 3400-step generator
	# + one zero-weight input (how much teeth show: measured on each real target crop, predicted
	# at inference by a regression on the target points fitted here), fine-tuned 4000 steps with
	# the same losses; replaces the shipped generator (after the detail net, which was trained
	# on the 3400-step generator's output)
	$(BIN)/python scripts/train_mouth_generator.py --prepared $(OUT)/prepared/hunt $(OUT)/prepared/old \
	  --work $(OUT)/mouth_generator_teeth_work --init src/talkinghead/data/mouth_generator --teeth \
	  --lap 1.0 --profile 1.0 --adv 0.05 --d-lr 4e-4 --open-frac 0.25 --lr 1e-3 --steps 4000 \
	  --max-minutes 50 --out src/talkinghead/data/mouth_generator

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
