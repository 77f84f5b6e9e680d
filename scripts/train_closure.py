"""Closures learned from phone labels (issue 12, /p b m/): labels -> a frame classifier ->
a mouth checkpoint that closes the lips where the classifier hears /p b m/.

Three stages (each resumable; later ones read what earlier ones wrote), and ``speech``:

``labels``: every accepted clip on the *training* side of the ``mouth_v2`` split (not of a
test person) gets forced-aligned phones (:func:`talkinghead.audio.phones.align`, pocketsphinx)
of its transcript: the known one (GRID sentences), else a Whisper tiny.en transcript
(:func:`talkinghead.audio.whisper.transcribe`) for English sources; non-English clips
(:data:`talkinghead.evaluate.heldout.NON_ENGLISH_GROUPS`, :data:`NON_ENGLISH_SOURCES`) get
none. One JSON per clip under ``--labels`` (reused; delete it to rebuild)::

    {"id", "group", "source", "person", "transcript", "transcript_source", "n_frames",
     "fps", "phones": [[label, start, end], ...] or null, "error": str or null}

``speech`` (optional, session 12): phone-labelled speech without faces, none of it from a
test source: the English audio-only files of ``../shared/data`` (MANIFEST ``kind`` audio;
Whisper tiny.en transcripts), FSDD digits (transcripts from the file names) and espeak-ng
sentences (their own text), one JSON per item under ``--out``; ``train --speech DIR
--speech-kinds real,digits[,tts] [--perturb 0.9,1.1] [--tts-share S]`` adds them (and
speed-perturbed copies of them and of the labelled non-GRID training clips).

``train``: the classifier (``models.mouth.ClosureNet``, loss in ``recipes.closure``) on the
standardised input of a
mouth checkpoint (``--base``: its front end, prior column and standardisation, so nothing new
is computed at run time), on the training clips of that checkpoint's recipe minus the
validation clips and their people (``--val-from``); target per 50 Hz frame: the frame time
lies inside an aligned /p b m/ segment. Writes ``--out``: the base checkpoint plus the
classifier (``closure.*`` weights, ``config.closure_net``) with ``closure_gain`` set
(``--gain``; 0 or absent: the option off).

Usage (the commands of docs/default_model.md, "Session 11 (helper)")::

    python scripts/train_closure.py labels --prepared /work/prepared/hunt /work/prepared/old \
        /work/prepared/grid_s1 --labels /work/scratch/i12/labels
    python scripts/train_closure.py train --prepared /work/prepared/hunt /work/prepared/old \
        --train-only /work/prepared/grid_s1 --labels /work/scratch/i12/labels \
        --cache /work/scratch/i12/cache --base src/talkinghead/data/mouth_v2 \
        --val-from scripts/mouth_v2_val_clips.json --gain 1 --out OUT

Session 12 (docs/default_model.md, "Session 12"): ``speech --out /work/scratch/i12/speech``,
then ``train`` as above plus ``--speech /work/scratch/i12/speech --speech-kinds real,digits
--exclude-clips bgbb2p bgbu3s pbbp3s pgbe3s bbbm2p bbiz2p pbiu8n bbaf2n``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: Training-side sources whose speech is not English (no Whisper tiny.en transcript).
NON_ENGLISH_SOURCES = ("olkavs",)


def label_file(labels: Path, clip_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in clip_id)
    return Path(labels) / f"{safe}.json"


def stage_labels(args) -> int:
    from talkinghead._util.atomic import write_text_atomic
    from talkinghead.evaluate.heldout import (
        NON_ENGLISH_GROUPS,
        add_whisper_transcripts,
        aligned_phones,
        load_heldout_clips,
    )
    from talkinghead.evaluate.splits import load_split

    out = Path(args.labels)
    out.mkdir(parents=True, exist_ok=True)
    test_people = load_split("mouth_v2").test_people()
    t0, n_new = time.time(), 0
    for d in args.prepared:
        clips, _ = load_heldout_clips([d], split="mouth_v2", side="train")
        print(f"{d}: {len(clips)} training-side clips", flush=True)
        for c in clips:
            path = label_file(out, c.id)
            if path.is_file() or c.person in test_people:
                continue
            rec = {"id": c.id, "group": c.group, "source": c.source, "person": c.person,
                   "transcript": c.transcript, "transcript_source": c.transcript_source,
                   "n_frames": c.n_frames, "fps": c.fps, "phones": None, "error": None}  # fmt: skip
            english = c.group not in NON_ENGLISH_GROUPS and not any(
                s in c.source for s in NON_ENGLISH_SOURCES
            )
            try:
                if english:
                    add_whisper_transcripts([c])  # only a clip without a transcript
                rec["transcript"], rec["transcript_source"] = c.transcript, c.transcript_source
                phones = aligned_phones(c)
                if phones is not None:
                    rec["phones"] = [[p.label, float(p.start), float(p.end)] for p in phones]
                elif c.transcript:
                    rec["error"] = "alignment failed"
                else:
                    rec["error"] = "no transcript" if english else "not English"
            except Exception as e:  # a decoding failure: recorded, not fatal
                rec["error"] = f"{type(e).__name__}: {e}"[:300]
            write_text_atomic(path, json.dumps(rec))
            n_new += 1
            if n_new % 50 == 0:
                print(f"  {n_new} labelled ({time.time() - t0:.0f} s)", flush=True)
    print(f"labels: {n_new} new in {time.time() - t0:.0f} s under {out}", flush=True)
    return 0


#: Audio-only files of ``../shared/data`` (MANIFEST ``kind`` audio) left out of ``speech``:
#: not English speech by the manifest's notes or the file name, or singing.
NOT_ENGLISH_SPEECH = (
    "non-English",
    "may be singing",
    "German",
    "french",
    "italian",
    "japan",
    "korean",
    "spanish",
    "chinese",
    "MuseTalk/data/audio/sun.wav",
    "MuseTalk/data/audio/yongen.wav",
)
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: espeak-ng voices and variants of the ``speech`` stage's synthetic speech.
TTS_VOICES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
TTS_VARIANTS = (
    "",
    "+m1",
    "+m2",
    "+m3",
    "+m4",
    "+m5",
    "+m6",
    "+m7",
    "+f1",
    "+f2",
    "+f3",
    "+f4",
    "+f5",
)


def tts_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` English sentences of 5-16 words (letters only) from Debian's licence texts
    (``/usr/share/common-licenses``): prose with a wide vocabulary, known exactly."""
    import re

    texts = []
    for f in sorted(Path("/usr/share/common-licenses").glob("*")):
        if f.is_file():
            texts.append(f.read_text(errors="replace"))
    sents = set()
    for t in texts:
        for s in re.split(r"(?<=[.;:!?])\s+", re.sub(r"\s+", " ", t)):
            s = s.strip().rstrip(".;:!?")
            words = s.split()
            if 5 <= len(words) <= 16 and all(re.fullmatch(r"[A-Za-z'-]+,?", w) for w in words):
                sents.add(s)
    sents = sorted(sents)
    rng = np.random.default_rng(seed)
    rng.shuffle(sents)
    return sents[: int(n)]


def stage_speech(args) -> int:
    """Phone-labelled speech without faces: the English audio-only files of the data folder
    (Whisper tiny.en transcripts; the digits' from their names) and espeak-ng sentences
    (their text). One JSON per item under ``--out`` (reused)."""
    import csv

    from talkinghead._util.atomic import write_text_atomic
    from talkinghead.audio import phones as ph
    from talkinghead.audio.io import load_audio
    from talkinghead.audio.tts import synthesize
    from talkinghead.audio.whisper import transcribe

    out = Path(args.out)
    (out / "wav").mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    items = []
    with open(data / "MANIFEST.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row.get("kind") != "audio":
                continue
            key = row["file"] + " " + row.get("notes", "")
            if any(w in key for w in NOT_ENGLISH_SPEECH):
                continue
            name = Path(row["file"]).name
            digits = "free-spoken-digit" in row["file"]
            if digits and int(name.split("_")[-1].split(".")[0]) >= args.digit_takes:
                continue  # a few takes per digit and speaker
            items.append(
                {
                    "id": "real/" + row["file"],
                    "kind": "digits" if digits else "real",
                    "wav": str(data / row["file"]),
                    "speaker": row.get("speaker_hint", ""),
                    "transcript": DIGITS[int(name[0])] if digits else None,
                }
            )
    rng = np.random.default_rng(0)
    for i, text in enumerate(tts_sentences(args.tts)):
        voice = TTS_VOICES[i % len(TTS_VOICES)] + TTS_VARIANTS[int(rng.integers(len(TTS_VARIANTS)))]
        items.append(
            {
                "id": f"tts/{i:04d}",
                "kind": "tts",
                "wav": str(out / "wav" / f"{i:04d}.wav"),
                "speaker": voice,
                "transcript": text,
                "voice": voice,
                "rate": int(rng.integers(130, 200)),
                "pitch": int(rng.integers(25, 75)),
            }
        )
    t0, n_new = time.time(), 0
    for it in items:
        path = label_file(out, it["id"])
        if path.is_file():
            continue
        rec = {
            **it,
            "transcript_source": "known" if it["transcript"] else "whisper",
            "phones": None,
            "error": None,
        }
        try:
            if it["kind"] == "tts":
                synthesize(it["transcript"], it["wav"], voice=it["voice"], rate=it["rate"],
                           pitch=it["pitch"])  # fmt: skip
            y, sr = load_audio(it["wav"], sr=16000)
            rec["duration_s"] = round(len(y) / sr, 3)
            if not rec["transcript"]:
                rec["transcript"] = transcribe(y=y, sr=sr)
            if rec["transcript"]:
                rec["phones"] = [
                    [p.label, float(p.start), float(p.end)]
                    for p in ph.align(y=y, sr=sr, transcript=rec["transcript"]).phones
                ]
            else:
                rec["error"] = "no transcript"
        except Exception as e:  # a decoding or alignment failure: recorded, not fatal
            rec["error"] = f"{type(e).__name__}: {e}"[:300]
        write_text_atomic(path, json.dumps(rec))
        n_new += 1
        if n_new % 50 == 0:
            print(f"  {n_new} labelled ({time.time() - t0:.0f} s)", flush=True)
    recs = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    for kind in ("real", "digits", "tts"):
        sub = [r for r in recs if r["kind"] == kind]
        ok = [r for r in sub if r["phones"]]
        segs = sum(sum(p[0] in ("P", "B", "M") for p in r["phones"]) for r in ok)
        dur = sum(r.get("duration_s", 0) for r in ok)
        print(
            f"speech {kind}: {len(ok)} of {len(sub)} aligned, {dur / 60:.1f} min, "
            f"{segs} /p b m/ segments",
            flush=True,
        )
    print(f"speech: {n_new} new in {time.time() - t0:.0f} s under {out}", flush=True)
    return 0


def load_labels(labels: Path, clip_id: str):
    """The aligned phones of ``clip_id`` ([(label, start, end)]), or None."""
    path = label_file(labels, clip_id)
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("phones")


def speech_rows(args, rows_of, front: str, main_items, labels: Path, student_dir=None):
    """``[(kind, row)]``: the ``--speech`` items of the kinds asked (``real``, ``digits``,
    ``tts``), and every copy ``--perturb`` asks for (speed factors) of those items and of the
    labelled non-GRID training clips ``main_items`` (:func:`list_clips` rows of the training
    side, validation people left out); rows as in ``stage_train`` (its clip object is a
    stand-in with ``id``, ``group``, ``speaker``). ``rows_of(frames)``: the classifier's
    rows of front-end ``front``'s frames; those frames are cached under ``--cache/speech``
    (student: ``student_dir``, the base checkpoint's own) or ``--cache/speech_whisper``."""
    from types import SimpleNamespace

    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.audio.io import load_audio
    from talkinghead.evaluate.splits import recording_group
    from talkinghead.recipes.closure import frame_targets, speed_perturb
    from talkinghead.recipes.mouth import clip_audio, frontend_fn

    factors = [float(f) for f in args.perturb.split(",")] if args.perturb else []
    kinds = set(args.speech_kinds.split(",")) if args.speech_kinds else set()
    todo = []  # (kind, id, speaker, loader -> y16, phones, factors)
    if args.speech:
        for p in sorted(Path(args.speech).glob("*.json")):
            r = json.loads(p.read_text())
            if r["kind"] in kinds and r.get("phones"):
                todo.append(
                    (
                        r["kind"],
                        r["id"],
                        r["speaker"],
                        lambda r=r: load_audio(r["wav"], sr=16000)[0],
                        r["phones"],
                        [1.0] + factors,
                    )
                )
    if factors:
        audio = {}
        for _d, c, rec in main_items:
            ph = load_labels(labels, c["id"])
            if ph is None or recording_group(rec) == "GRID":
                continue
            todo.append(
                (
                    "perturbed",
                    c["id"],
                    c["id"].split("/")[0],
                    lambda c=c, rec=rec: clip_audio(c, rec, audio=audio),
                    ph,
                    factors,
                )
            )
    cache = Path(args.cache) / ("speech" if front == "student" else f"speech_{front}")
    cache.mkdir(parents=True, exist_ok=True)
    fn = None
    out = []
    for kind, iid, spk, load, phones, fs in todo:
        y = None
        for f in fs:
            path = cache / (label_file(cache, f"{iid}@{f:g}").stem + ".npz")
            if not path.is_file():
                if fn is None:
                    fn, _ = frontend_fn(front, student_dir=student_dir)
                y = load() if y is None else y
                if y is None:
                    break
                yf, ph = speed_perturb(y, phones, f)
                save_npz_atomic(
                    path, feats=fn(yf).astype(np.float32), phones=np.array(json.dumps(ph))
                )
            with np.load(path) as z:
                feats, ph = z["feats"], json.loads(str(z["phones"]))
            x = rows_of(feats).astype(np.float32)
            stub = SimpleNamespace(id=f"{iid}@{f:g}", group=kind, speaker=spk)
            k = "tts" if kind == "tts" else ("perturbed" if f != 1.0 else kind)
            out.append((k, (stub, x, frame_targets(ph, len(x)), ph)))
    return out


def stage_train(args) -> int:
    import torch

    from talkinghead.corpora.people import recording_person
    from talkinghead.evaluate.splits import load_split, recording_group
    from talkinghead.models.mouth import (
        ClosureNet,
        MouthModel,
        closure_config,
        utterance_normalize,
    )
    from talkinghead.recipes.closure import (
        average_precision,
        frame_targets,
        precision_recall,
        train_closure,
    )
    from talkinghead.recipes.mouth import build_cache, list_clips, read_val_clips

    torch.set_num_threads(1)
    base = MouthModel.from_pretrained(args.base)
    split = load_split("mouth_v2")
    test_people = split.test_people()
    excl = set(args.exclude_clips)

    def keep(items):
        return [(d, c, r) for d, c, r in items if split.side(c["recording"]) == "train"
                and recording_person(r) not in test_people and c["id"] not in excl
                and c["id"].rsplit("/", 1)[-1] not in excl]  # fmt: skip

    whisper = args.closure_frontend == "whisper"
    front, cache = (
        ("whisper", Path(args.cache) / "whisper") if whisper else ("student", Path(args.cache))
    )
    # the base's own student (a candidate's, not only the shipped one; give it its --cache)
    student_dir = Path(args.base) / "student" if front == "student" else None
    main_items = keep(list_clips(args.prepared))
    main_clips, _ = build_cache(
        main_items, front, cache, group_fn=recording_group, student_dir=student_dir
    )
    extra, _ = build_cache(
        keep(list_clips(args.train_only)),
        front,
        cache,
        group_fn=recording_group,
        student_dir=student_dir,
    )
    vids = set(read_val_clips(args.val_from))
    vspk = {c.speaker for c in main_clips if c.id in vids}
    labels = Path(args.labels)

    def rows_of(feats):
        """The classifier's rows before any global standardisation."""
        f = np.asarray(feats, np.float32)
        if whisper:  # per utterance, as ClosureNet.standardize does at run time
            return utterance_normalize(f)
        return base.normalize(base.with_prior(f))

    def rows(clips, train: bool):
        out = []
        for c in clips:
            if (c.id in vids) == train or (train and c.speaker in vspk):
                continue
            ph = load_labels(labels, c.id)
            if ph is None:
                continue
            x = rows_of(c.feats)
            out.append((c, x.astype(np.float32), frame_targets(ph, len(x)), ph))
        return out

    tr_main, tr_extra, val = rows(main_clips, True), rows(extra, True), rows(main_clips, False)
    speech_items = [(d, c, r) for d, c, r in main_items
                    if c["id"] not in vids and recording_person(r) not in vspk]  # fmt: skip
    tr_speech = speech_rows(args, rows_of, front, speech_items, labels, student_dir=student_dir)

    def count(rs, name):
        grid = [r for r in rs if r[0].group == "GRID" or r in tr_extra]
        for what, sub in (("GRID", grid), ("non-GRID", [r for r in rs if r not in grid])):
            segs = sum(sum(p[0] in ("P", "B", "M") for p in r[3]) for r in sub)
            frames = int(sum(r[2].sum() for r in sub))
            n = int(sum(len(r[2]) for r in sub))
            print(
                f"  {name} {what}: {len(sub)} clips, {segs} /p b m/ segments, "
                f"{frames} of {n} frames positive",
                flush=True,
            )

    count(tr_main, "train (hunt+old)")
    count(tr_extra, "train-only")
    for kind in sorted({k for k, _ in tr_speech}):
        count([r for k, r in tr_speech if k == kind], f"speech {kind}")
    count(val, "val")
    tts = [r for k, r in tr_speech if k == "tts"]
    train = tr_main + [r for k, r in tr_speech if k != "tts"] + tr_extra + tts
    lengths = np.array([len(r[1]) for r in train], np.float64)
    w = lengths.copy()
    # shares of the crops: GRID s1 (train-only) and espeak-ng speech as asked, the rest by length
    n_extra0, n_tts0 = len(train) - len(tts) - len(tr_extra), len(train) - len(tts)
    groups = [(slice(n_extra0, n_tts0), args.train_only_share if tr_extra else None),
              (slice(n_tts0, len(train)), args.tts_share if tts else None)]  # fmt: skip
    fixed = sum(s for _, s in groups if s is not None)
    rest = np.ones(len(train), bool)
    for sl, share in groups:
        if share is not None:
            w[sl] *= float(share) / w[sl].sum()
            rest[sl] = False
    w[rest] *= (1 - fixed) / w[rest].sum()
    in_mean = in_scale = None
    if whisper:  # the classifier's own standardisation, over every training row
        allx = np.concatenate([r[1] for r in train])
        in_mean, in_scale = allx.mean(0), allx.std(0) + 1e-6
        del allx

        def std(rs):
            return [(r[0], ((r[1] - in_mean) / in_scale).astype(np.float32), *r[2:]) for r in rs]

        train, val = std(train), std(val)
    cfg = closure_config(train[0][1].shape[1], channels=args.channels,
                         dilations=[int(v) for v in args.dilations.split(",")])  # fmt: skip
    t0 = time.time()
    net = train_closure([r[1] for r in train], [r[2] for r in train], config=cfg, weights=w,
                        steps=args.steps, seed=args.seed, dropout=args.dropout,
                        progress=lambda st, loss: print(f"  step {st} loss {loss:.3f}",
                                                        flush=True))  # fmt: skip
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
    if whisper:
        net = ClosureNet(cfg, net.weights, in_mean=in_mean, in_scale=in_scale)
    pr = {}
    for what in ("GRID", "non-GRID", "all"):
        sub = [r for r in val if what == "all" or (r[0].group == "GRID") == (what == "GRID")]
        if not sub:
            continue
        p = np.concatenate([net.prob(r[1]) for r in sub])
        t = np.concatenate([r[2] for r in sub])
        ap = average_precision(p, t)
        pr[f"{what}@ap"] = ap
        print(f"  val {what} frames: average precision {ap:.3f}", flush=True)
        for th in (0.5, 0.25):
            prec, rec = precision_recall(p, t, th)
            pr[f"{what}@{th}"] = [prec, rec]
            print(
                f"  val {what} frames p >= {th}: precision {prec:.2f} recall {rec:.2f} "
                f"({int(t.sum())} positive of {len(t)})",
                flush=True,
            )
    base.closure = net
    base.config.closure_net = cfg.to_dict()
    base.config.closure_gain = float(args.gain) if args.gain else None
    base.config.closure_frontend = args.closure_frontend
    base.config.closure_threshold, base.config.closure_lead = float(args.threshold), int(args.lead)
    base.meta["closure"] = {
        "recipe": "scripts/train_closure.py (talkinghead.recipes.closure)",
        "argv": list(sys.argv[1:] if args._argv is None else args._argv),
        "n_train_clips": len(train),
        "val_precision_recall": pr,
    }
    out = base.save_pretrained(args.out)
    print(f"saved {out}", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="stage", required=True)
    a = sub.add_parser("labels", help="forced-aligned phones of every training-side clip")
    a.add_argument("--prepared", nargs="+", required=True)
    a.add_argument("--labels", required=True, help="folder of per-clip JSON (reused)")
    sp = sub.add_parser("speech", help="phone-labelled speech without faces (real + espeak-ng)")
    sp.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    sp.add_argument("--tts", type=int, default=300, help="espeak-ng sentences")
    sp.add_argument("--digit-takes", type=int, default=3, help="takes per digit and speaker")
    sp.add_argument("--out", required=True, help="folder of per-item JSON (reused)")
    t = sub.add_parser("train", help="the classifier, and a mouth checkpoint that uses it")
    t.add_argument("--prepared", nargs="+", required=True)
    t.add_argument("--train-only", nargs="*", default=[], help="e.g. /work/prepared/grid_s1")
    t.add_argument("--train-only-share", type=float, default=0.3)
    t.add_argument("--labels", required=True)
    t.add_argument("--cache", required=True, help="scripts/train_mouth.py's feature cache")
    t.add_argument("--base", required=True, help="the mouth checkpoint the classifier joins")
    t.add_argument("--val-from", required=True, help="validation clip ids (JSON) or checkpoint")
    t.add_argument("--exclude-clips", nargs="*", default=[])
    t.add_argument("--channels", type=int, default=32)
    t.add_argument("--dilations", default="1,2,4,8,1")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--dropout", type=float, default=0.3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--speech", default=None, help="the speech stage's folder")
    t.add_argument(
        "--speech-kinds",
        default="real,digits",
        help="which speech items to train on: real, digits, tts (comma-separated)",
    )
    t.add_argument("--tts-share", type=float, default=0.2, help="share of crops from tts items")
    t.add_argument("--perturb", default="", help="speed factors of extra copies, e.g. 0.9,1.1")
    t.add_argument(
        "--closure-frontend",
        choices=["features", "whisper"],
        default="features",
        help="what the classifier reads (MouthConfig.closure_frontend)",
    )
    t.add_argument("--threshold", type=float, default=0.0, help="closure_threshold")
    t.add_argument("--lead", type=int, default=0, help="closure_lead (20 ms rows)")
    t.add_argument("--gain", type=float, default=None, help="closure_gain (None: option off)")
    t.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    args._argv = argv
    if args.stage == "labels":
        return stage_labels(args)
    if args.stage == "speech":
        return stage_speech(args)
    return stage_train(args)


if __name__ == "__main__":
    sys.exit(main())
