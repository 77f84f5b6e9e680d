"""``talkinghead animate`` and ``talkinghead say``: speech (or text) in, a face out (a video,
the parameters, or an export format); ``--photo`` and ``--person`` hand over to
:mod:`talkinghead.cli.photo` and :mod:`talkinghead.cli.personalize`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._util.outputs import check_io
from .args import FPS, VIDEO_SIZE, int_in, read_transcript
from .export import add_export_options, export_formats, export_options, output_format

__all__ = ["register", "cmd_animate", "cmd_say"]


def _animate_io(args) -> None:
    """``animate``/``say``: no output over an input, no two outputs in one file."""
    check_io(inputs={"audio": args.audio, "--transcript-file": args.transcript_file,
                     "photo": args.photo, "person": args.person, "retarget": args.retarget},
             files={"output": args.output, "--params": args.params,
                    "--speech": args.speech})  # fmt: skip


def cmd_animate(args) -> int:
    _animate_io(args)
    if args.person:
        from .personalize import cmd_animate_person

        return cmd_animate_person(args)
    if args.photo:
        from .photo import cmd_animate_photo

        return cmd_animate_photo(args)
    from ..inference import animate
    from ..pipelines import export_speech, render_face_video

    fmt = output_format(args, own={".mp4": None, ".npz": None})  # before any work
    ext = Path(args.output).suffix.lower()
    transcript = read_transcript(args)
    anim = animate(args.audio, fps=args.fps, transcript=transcript, model=args.model,
                   closures=args.closures)  # fmt: skip
    if fmt:
        audio = str(args.audio)
        export_speech(args.output, audio, fmt, anim=anim, **export_options(fmt, args, audio))
    elif ext == ".npz":
        anim.save(args.output)
    else:
        render_face_video(args.output, args.audio, face=args.face, anim=anim, size=args.size,
                          progress=True)  # fmt: skip
    if args.params:
        anim.save(args.params)
    print(
        f"animated {anim.duration:.2f} s of speech: {anim.n_frames} frames at {anim.fps:g} fps "
        f"({anim.model} model) -> {args.output}"
    )
    return 0


def cmd_say(args) -> int:
    """Text -> speech (espeak-ng) -> face: like ``animate`` on the synthesised speech."""
    import tempfile

    from ..audio.tts import synthesize

    text = args.text
    _animate_io(args)
    with tempfile.TemporaryDirectory() as d:
        wav = synthesize(text, Path(d) / "speech.wav", voice=args.voice, rate=args.rate)
        if args.speech:
            import shutil

            from .._util.atomic import atomic_path

            with atomic_path(args.speech, suffix=".wav") as tmp:
                shutil.copyfile(wav, tmp)
        args.audio, args.transcript, args.transcript_file = str(wav), text, None
        return cmd_animate(args)


def _add_face_output_arguments(s: argparse.ArgumentParser) -> None:
    """Options shared by ``animate`` and ``say``: animator, frame rate and what to write."""
    s.add_argument("--fps", type=FPS, help="frame rate, 1-240 (default: a video's own, else 25)")
    s.add_argument(
        "--model",
        choices=["default", "whisper", "phonetic"],
        default="default",
        help="default: the learned mouth model (distilled speech features -> 6 mouth degrees "
        "of freedom; fast); whisper: a ridge read-out of the mouth opening on Whisper tiny.en "
        "encoder features (held out: opening r 0.62 against the default's 0.60, but no width "
        "or rounding; ~5x slower); phonetic: the rule-based phones -> visemes -> "
        "coarticulation animator",
    )
    s.add_argument(
        "--closures",
        choices=["whisper"],
        help="whisper: also close the lips where the default model's /p b m/ classifier on "
        "Whisper tiny.en encoder frames hears a bilabial (needs talkinghead[whisper]; a 60 s "
        "file took 2.2 s instead of 0.7 s; held out: 98%% of the real /p b m/ closed instead "
        "of 70%%, mouth-opening r 0.58 instead of 0.60); with --model whisper, that model's "
        "lips close on them",
    )
    s.add_argument(
        "--face",
        choices=["sketch", "3d"],
        default="sketch",
        help="what the MP4 shows: the 68-point sketch (default) or the shaded 3D head",
    )
    s.add_argument(
        "--format",
        choices=export_formats(),
        help="write -o in an animator's format instead: ARKit CSV (Live Link Face), glTF .glb, "
        "JSON/NPZ arrays, Rhubarb mouth cues, Oculus/Azure/Polly visemes (default: from the "
        "extension of -o: .csv arkit-csv, .glb, .json, .tsv/.xml Rhubarb, .marks Polly; "
        ".mp4 video, .npz parameters)",
    )
    add_export_options(s)
    s.add_argument(
        "--size",
        type=VIDEO_SIZE,
        help="video size, 16-4096 px (256 sketch, 512 3d; --photo: the photo's own, at most "
        "2048, and SIZE downscales)",
    )
    s.add_argument("--params", help="also save the parameters to this .npz")
    from .photo import add_photo_arguments

    add_photo_arguments(s)  # --photo FACE.jpg, --face-index, --no-blinks, --no-head-motion


def register(sub) -> None:
    """Add ``animate`` and ``say`` to an argparse subparsers object."""
    s = sub.add_parser(
        "animate",
        help="animate a face from speech (MP4 sketch video or NPZ parameters)",
        description="Animate a face from AUDIO with the default model (learned speech "
        "features -> mouth and jaw, plus head, brows and blinks from the speech's emphasis), "
        "its Whisper variant, or the phonetic animator (phones -> visemes -> "
        "coarticulation); phones come from recognition or from forced alignment of "
        "--transcript. Writes an MP4 (sketch, 3D head, a --photo or a --person) with the audio "
        "muxed in, the parameters as .npz, or an export --format.",
    )
    s.add_argument("audio", help="speech: audio file or video with an audio track")
    s.add_argument("-o", "--output", required=True, help="OUT.mp4 (video) or OUT.npz (parameters)")
    _add_face_output_arguments(s)
    s.add_argument("--transcript", help="what is said (improves the phones by forced alignment)")
    s.add_argument(
        "--transcript-file",
        "-d",
        "--dialogFile",
        dest="transcript_file",
        help="read the transcript from this text file (-d/--dialogFile: Rhubarb's flag)",
    )
    from .personalize import add_person_arguments

    add_person_arguments(s)  # --person PERSON_DIR
    s.set_defaults(func=cmd_animate, speech=None)

    s = sub.add_parser(
        "say",
        help="say TEXT with a synthetic voice (espeak-ng) and animate the face",
        description="Text in, face out: espeak-ng speaks TEXT, the face follows the speech "
        "(phones from forced alignment of TEXT). Same outputs as 'animate'.",
    )
    s.add_argument("text", help="what to say")
    s.add_argument("-o", "--output", required=True, help="OUT.mp4 (video) or OUT.npz, or --format")
    s.add_argument("--voice", default="en-us", help="espeak-ng voice (en-us; e.g. en-gb, en-us+f3)")
    s.add_argument("--rate", type=int_in(80, 450), default=160, help="words per minute (160)")
    s.add_argument("--speech", help="also keep the synthesised speech as this .wav")
    _add_face_output_arguments(s)
    s.set_defaults(func=cmd_say, person=None, audio=None, transcript=None, transcript_file=None)
