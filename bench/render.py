"""Render benchmark (`make bench`; not part of the test suite).

A demo-sized project (10 segments of ~10 s: Pillow pictures, espeak narration, zh-TW subtitles,
a logo) rendered by:

  plain     one hand-written `ffmpeg` command doing the same job (same pictures, pan, fades,
            subtitles, logo, audio gain + limiter) with the same encoder settings
  ours      ytmaker.media.render.render_video, full render into an empty work dir
  ours-inc  the same after one segment's text changed (one clip re-encoded)
  moviepy   moviepy 2.x slideshow with the subtitles composited as TextClips (its own venv)
  clips     every segment a video clip (half shorter than the piece: looped; half longer:
            trimmed), ours against a plain command doing the same loops, trims and crops

The default look has the slow pan on; the plain/ours pair is run again with motion off, to
show what motion costs. `ours, words` renders the same with word-by-word captions
(`subtitles.style: words`, ASS karaoke in the same pass) against the plain command's line
captions, and against ours with line captions. `--format shorts` makes everything 1080x1920
(portrait pictures, Shorts caption layout; moviepy is left out there).
Every run is a subprocess; wall time (median of N), CPU time (user+sys of the process tree) and
peak RSS of the process tree (psutil, sampled every 50 ms) are reported.

    python -m bench.render [--reps 3] [--moviepy-reps 1] [--segments 10] [--seconds 10]
                           [--format landscape|shorts] [--no-words]
                           [--no-moviepy] [--no-static] [--no-stills] [--no-clips]
                           [--x264-params ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MOVIEPY_VENV = OUT / ".venv-moviepy"
TEXTS = [
    "台灣的夜市文化是觀光客最喜歡的體驗之一，從傍晚開始，街道兩旁的攤位就陸續亮起燈來。",
    "士林夜市是台北規模最大的夜市，鹽酥雞、大餅包小餅和珍珠奶茶都是必吃的經典。",
    "饒河街夜市雖然只有一條街，卻集中了許多老字號，胡椒餅的排隊人潮從來沒有斷過。",
    "到了台中，逢甲夜市以創意小吃聞名，每年都會出現讓人意想不到的新口味。",
    "台南的花園夜市只在特定日子營業，攤位數量多到一個晚上很難全部逛完。",
    "高雄的六合夜市緊鄰捷運站，海鮮粥和木瓜牛奶是在地人推薦的組合。",
    "夜市的價格親民，幾百元就能吃得很滿足，這也是它受歡迎的重要原因。",
    "許多攤販是家族經營，手藝和配方代代相傳，每一道小吃背後都有故事。",
    "近年夜市也開始支援行動支付，讓外國旅客更方便地享受美食。",
    "下次來台灣，別忘了留一個晚上，跟著人潮走進夜市，感受最道地的生活。",
]


# --- inputs -----------------------------------------------------------------------------------


def make_inputs(
    folder: Path, segments: int, seconds: float, size: tuple[int, int] = (1920, 1080)
) -> dict[str, Any]:
    """Pictures (`size`), narration WAVs and a logo; reused when already there."""
    from PIL import Image, ImageDraw

    from ytmaker.media.probe import wav_duration
    from ytmaker.providers.local.images import PillowImages
    from ytmaker.providers.local.voice import EspeakVoice

    folder.mkdir(parents=True, exist_ok=True)
    images, voice = PillowImages(size=size), EspeakVoice()
    pieces = []
    for i in range(segments):
        text = TEXTS[i % len(TEXTS)]
        image, wav = folder / f"segment_{i:02d}.png", folder / f"segment_{i:02d}.wav"
        if not image.exists():
            images.make(f"night market scene {i}", i, image)
        if not wav.exists():
            voice.synthesize(text, "zh-TW", wav)
        pieces.append(
            {
                "text": text,
                "image": str(image),
                "audio": str(wav),
                "duration": round(max(seconds, wav_duration(wav)), 3),
            }
        )
    logo = folder / "logo.png"
    if not logo.exists():
        mark = Image.new("RGBA", (480, 240), (0, 0, 0, 0))
        draw = ImageDraw.Draw(mark)
        draw.rounded_rectangle((0, 0, 479, 239), 48, fill=(230, 60, 60, 235))
        draw.ellipse((150, 50, 330, 190), fill=(255, 255, 255, 255))
        mark.save(logo)
    return {"pieces": pieces, "logo": str(logo)}


def with_clips(inputs: dict[str, Any], folder: Path, size: tuple[int, int]) -> dict[str, Any]:
    """The same pieces with a clip each, filmed from their pictures (as `local-clips` does):
    every other clip is shorter than its piece (looped), the rest longer (trimmed)."""
    from ytmaker.media.runner import run_args
    from ytmaker.providers.local.clips import FPS, drift_filter

    folder.mkdir(parents=True, exist_ok=True)
    pieces = []
    for i, p in enumerate(inputs["pieces"]):
        seconds = 4.0 if i % 2 == 0 else round(p["duration"] + 3.0)
        clip = folder / f"clip_{i:02d}_{seconds:g}s.mp4"
        if not clip.exists():
            run_args(
                ["-y", "-framerate", str(FPS), "-i", p["image"],
                 "-vf", drift_filter(size[0], size[1], seconds),
                 "-frames:v", str(round(seconds * FPS)), "-r", str(FPS), "-c:v", "libx264",
                 "-preset", "veryfast", "-crf", "20", "-an", str(clip)],
                "bench clip",
                media_seconds=seconds,
            )  # fmt: skip
        pieces.append({**p, "clip": str(clip), "clip_seconds": seconds})
    return {**inputs, "pieces": pieces}


def visual_dict(inputs: dict[str, Any], motion: bool, words: bool = False) -> dict[str, Any]:
    """The default look (slow pan, cross-fades) plus a logo; `motion=False` turns the pan off,
    `words=True` lights each word up as it is spoken."""
    look: dict[str, Any] = {"logo": {"path": inputs["logo"]}, "motion": "pan" if motion else "off"}
    if words:
        look["subtitles"] = {"style": "words"}
    return look


# --- our renderer, run in a subprocess ----------------------------------------------------


def ours_worker(spec_file: Path) -> None:
    from ytmaker.media.render import RenderPiece, RenderSettings, render_video
    from ytmaker.media.visual import VisualConfig

    spec = json.loads(spec_file.read_text("utf-8"))
    pieces = [
        RenderPiece(
            p["text"],
            Path(p["audio"]),
            p["duration"],
            image=Path(p["image"]),
            clip=Path(p["clip"]) if p.get("clip") else None,
        )
        for p in spec["pieces"]
    ]
    info = render_video(
        pieces,
        Path(spec["out"]),
        Path(spec["work"]),
        RenderSettings(
            width=spec.get("width", 1920),
            height=spec.get("height", 1080),
            preset=spec["preset"],
            crf=spec["crf"],
            threads=spec.get("threads", 0),
            x264_params=spec.get("x264_params", ""),
        ),
        language="zh-TW",
        visual=VisualConfig.from_dict(spec["visual"]),
    )
    print(json.dumps(info.to_dict()))


# --- the plain ffmpeg command -------------------------------------------------------------


def plain_command(
    inputs: dict[str, Any], out: Path, work: Path, motion: bool, encoder: argparse.Namespace
) -> list[str]:
    """One ffmpeg command doing what our renderer does, written by hand."""
    from ytmaker.media import render as R
    from ytmaker.media.audio import SAMPLE_RATE, measure, narration_wav, piece_samples
    from ytmaker.media.audio import SoundSpec as Sound
    from ytmaker.media.fonts import font_path
    from ytmaker.media.render import graph as G
    from ytmaker.media.render import plan as P
    from ytmaker.media.runner import ffmpeg_exe
    from ytmaker.media.subtitles import Cue, split_cues, to_ass

    fps, (w, h) = 30, encoder.size
    style, max_chars = caption_layout(w, h)
    pieces = inputs["pieces"]
    frames = [R.frame_count(p["duration"], fps) for p in pieces]
    fade = round(0.5 * fps)
    work.mkdir(parents=True, exist_ok=True)
    # subtitles for the whole timeline, as ours (bundled font, default style)
    cues, offset = [], 0.0
    from ytmaker.media.probe import wav_duration

    for p, count in zip(pieces, frames, strict=True):
        length = count / fps
        end = min(wav_duration(Path(p["audio"])), length)
        for c in split_cues(p["text"], 0, end, "zh-TW", max_chars):
            cues.append(Cue(c.start + offset, c.end + offset, c.text))
        offset += length
    ass = work / "all.ass"
    ass.write_text(to_ass(cues, w, h, style), "utf-8")
    fonts = work / "fonts"
    fonts.mkdir(exist_ok=True)
    if not (fonts / font_path().name).exists():
        os.symlink(font_path(), fonts / font_path().name)
    # the gain our loudness pass would apply (measured here, outside the timing)
    samples = piece_samples(frames, fps)
    sound = Sound([Path(p["audio"]) for p in pieces], samples)
    gain = -14.0 - measure(narration_wav(sound, work / "narration.wav")).integrated
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    clips = all(p.get("clip") for p in pieces)
    for i, p in enumerate(pieces):
        if clips:  # looped when shorter than the piece and the fade out of it
            needed = (frames[i] + round(0.5 * fps)) / fps
            args += (["-stream_loop", "-1"] if p["clip_seconds"] < needed else []) + ["-i"]
            args += [p["clip"]]
        else:
            args += ["-i", p["image"]]
    for p in pieces:
        args += ["-i", p["audio"]]
    args += ["-i", inputs["logo"]]
    n = len(pieces)
    # as ours: the fade into piece i runs over its first frames, blending in piece i-1 continued
    fades = [0] + [P.fade_frames(fade, frames[i - 1], frames[i]) for i in range(1, n)]
    graph, segments = [], []
    for i in range(n):
        extra = fades[i + 1] if i + 1 < n else 0
        length = frames[i] + extra
        if motion:
            bw, bh = G.even(w * (1 + R.PAN_OVERSCAN)), G.even(h * (1 + R.PAN_OVERSCAN))
            (x0, y0), (x1, y1) = G.PAN_PATHS[i % len(G.PAN_PATHS)]
            dx, dy, span = bw - w, bh - h, max(length - 1, 1)
            move = (
                f",crop={w}:{h}:x={x0 * dx:g}+{(x1 - x0) * dx:g}*n/{span}"
                f":y={y0 * dy:g}+{(y1 - y0) * dy:g}*n/{span}:exact=1"
            )
        else:
            bw, bh, move = w, h, ""
        # xfade only works in 4:4:4: send it just the frames of each transition
        parts = [("h", 0, fades[i])] if fades[i] else []
        parts += [("b", fades[i], frames[i])] + ([("t", frames[i], length)] if extra else [])
        if clips:  # as ours: CFR, cover-scaled and centre-cropped, trimmed
            graph.append(
                f"[{i}:v]setpts=PTS-STARTPTS,fps={fps},"
                f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},"
                f"scale=out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv420p,"
                f"trim=end_frame={length},settb=1/{fps},setpts=N,split={len(parts)}"
                + "".join(f"[{k}{i}in]" for k, _, _ in parts)
            )
        else:
            graph.append(
                f"[{i}:v]scale={bw}:{bh}:force_original_aspect_ratio=decrease:force_divisible_by=2"
                f":out_color_matrix=bt709:out_range=tv,pad={bw}:{bh}:(ow-iw)/2:(oh-ih)/2:color=black,"
                f"setsar=1,format=yuv420p,loop=loop={length - 1}:size=1:start=0,"
                f"settb=1/{fps},setpts=N{move},fps={fps},split={len(parts)}"
                + "".join(f"[{k}{i}in]" for k, _, _ in parts)
            )
        for k, first, stop in parts:
            graph.append(
                f"[{k}{i}in]trim=start_frame={first}:end_frame={stop},setpts=PTS-STARTPTS[{k}{i}]"
            )
        if fades[i]:
            graph.append(
                f"[t{i - 1}][h{i}]xfade=transition=fade:duration={fades[i] / fps}:offset=0,"
                f"format=yuv420p[x{i}]"
            )
            segments.append(f"[x{i}]")
        segments.append(f"[b{i}]")
    graph.append("".join(segments) + f"concat=n={len(segments)}:v=1:a=0[x]")
    last = "x"
    graph.append(f"[{2 * n}:v]scale={G.even(w * 0.1)}:-1,format=rgba,colorchannelmixer=aa=0.9[lg]")
    graph.append(
        f"[{last}]subtitles=filename={ass}:fontsdir={fonts}[s];"
        "[s][lg]overlay=x=W-w-40:y=40:format=yuv420,format=yuv420p[vout]"
    )
    for i in range(n):
        graph.append(
            f"[{n + i}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=s16:channel_layouts=stereo,"
            f"apad=whole_len={samples[i]},atrim=end_sample={samples[i]}[a{i}]"
        )
    ceiling = 10 ** (-2.0 / 20)  # as ours: 1 dB under the -1 dBTP ceiling
    graph.append(
        "".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1,volume={gain:.2f}dB,"
        f"alimiter=limit={ceiling:.4f}:attack=1:release=40:level=false:latency=true[aout]"
    )
    args += ["-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]"]
    args += ["-c:v", "libx264", "-preset", encoder.preset, "-crf", str(encoder.crf)]
    args += ["-pix_fmt", "yuv420p"]
    if encoder.threads:
        args += ["-threads", str(encoder.threads)]
    if encoder.x264_params:
        args += ["-x264-params", encoder.x264_params]
    args += ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
    args += ["-r", str(fps), "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE)]
    args += ["-movflags", "+faststart", str(out)]
    return args


def caption_layout(width: int, height: int) -> tuple[Any, int | None]:
    """The caption style and line width ours uses for this frame (landscape: the defaults)."""
    from ytmaker.media import vertical
    from ytmaker.media.render import RenderSettings
    from ytmaker.media.render.plan import _max_chars
    from ytmaker.media.subtitles import AssStyle
    from ytmaker.media.visual import SubtitleStyle, VisualConfig

    if not vertical.is_vertical(width, height):
        return AssStyle(), None
    style = vertical.caption_style(AssStyle(), SubtitleStyle(), width, height)
    settings = RenderSettings(width=width, height=height)
    return style, _max_chars(VisualConfig(), style, settings, "zh-TW")


# --- moviepy ------------------------------------------------------------------------------

MOVIEPY_SCRIPT = r"""
import json, sys
from moviepy import (AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip,
                     TextClip, concatenate_videoclips)
spec = json.load(open(sys.argv[1], encoding="utf-8"))
clips, voices, t = [], [], 0.0
for p in spec["pieces"]:
    clips.append(ImageClip(p["image"]).with_duration(p["duration"]))
    voices.append(AudioFileClip(p["audio"]).with_start(t))
    t += p["duration"]
texts = []
for c in spec["cues"]:
    clip = TextClip(font=spec["font"], text=c["text"], font_size=54, color="white",
                    stroke_color="black", stroke_width=3, method="label", text_align="center",
                    margin=(10, 10))
    y = 1080 - 60 - clip.h
    texts.append(clip.with_start(c["start"]).with_duration(c["end"] - c["start"])
                 .with_position(("center", y)))
video = CompositeVideoClip([concatenate_videoclips(clips), *texts], size=(1920, 1080))
video = video.with_audio(CompositeAudioClip(voices).with_duration(t)).with_duration(t)
video.write_videofile(spec["out"], fps=30, codec="libx264", preset=spec["preset"],
                      ffmpeg_params=["-crf", str(spec["crf"]), "-pix_fmt", "yuv420p"],
                      audio_codec="aac", audio_bitrate="192k", logger=None)
"""


def moviepy_python() -> Path | None:
    python = MOVIEPY_VENV / "bin" / "python"
    if python.exists():
        return python
    uv = shutil.which("uv")
    try:
        if uv:
            subprocess.run([uv, "venv", "-q", str(MOVIEPY_VENV)], check=True)
            subprocess.run(
                [uv, "pip", "install", "-q", "--python", str(python), "moviepy>=2,<3", "numpy"],
                check=True,
            )
        else:
            subprocess.run([sys.executable, "-m", "venv", str(MOVIEPY_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "moviepy>=2,<3"], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"moviepy baseline skipped: cannot install moviepy ({exc})", file=sys.stderr)
        return None
    return python


def moviepy_spec(inputs: dict[str, Any], out: Path, preset: str, crf: int) -> dict[str, Any]:
    from ytmaker.media.fonts import font_path
    from ytmaker.media.probe import wav_duration
    from ytmaker.media.render import frame_count
    from ytmaker.media.subtitles import split_cues

    cues, offset = [], 0.0
    for p in inputs["pieces"]:
        length = frame_count(p["duration"], 30) / 30
        end = min(wav_duration(Path(p["audio"])), length)
        for c in split_cues(p["text"], 0, end, "zh-TW"):
            cues.append({"start": c.start + offset, "end": c.end + offset, "text": c.text})
        offset += length
    return {
        "pieces": inputs["pieces"],
        "cues": cues,
        "font": str(font_path()),
        "out": str(out),
        "preset": preset,
        "crf": crf,
    }


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_pss_mb: float  # the process tree, shared pages (the ffmpeg binary) counted once
    peak_rss_mb: float  # the tree summed by RSS (shared pages counted per process)
    stdout: str = ""


@dataclass
class Case:
    name: str
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    def peak(self, attr: str) -> float:
        return max(getattr(r, attr) for r in self.runs)


def measured(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run `cmd`; wall time, CPU of the whole tree, peak memory of the tree (every 50 ms)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    peak = {"pss": 0, "rss": 0}
    stop = threading.Event()

    def sample() -> None:
        try:
            parent = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            pss = rss = 0
            try:
                tree = [parent, *parent.children(recursive=True)]
            except psutil.Error:
                break
            for member in tree:
                try:
                    full = member.memory_full_info()
                    pss, rss = pss + full.pss, rss + full.rss
                except psutil.Error:
                    pass
            peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak["pss"] / 2**20, peak["rss"] / 2**20, out.decode("utf-8", "replace"))


def check_video(path: Path, expected: float) -> str:
    from ytmaker.media.audio import measure
    from ytmaker.media.probe import probe

    info = probe(path)
    level = measure(path)
    assert info.video is not None and info.audio is not None
    gap = abs((info.video.duration or 0) - (info.audio.duration or 0)) * 1000
    return (
        f"{info.duration:.2f} s (script {expected:.2f}), a/v {gap:.0f} ms, "
        f"{level.integrated:.1f} LUFS, {level.true_peak:.1f} dBTP, "
        f"{path.stat().st_size / 2**20:.1f} MB"
    )


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions for ours/plain")
    parser.add_argument("--moviepy-reps", type=int, default=1)
    parser.add_argument("--segments", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--threads", type=int, default=0, help="x264 threads (0 = auto)")
    parser.add_argument(
        "--x264-params", default=None, help="libx264 options (default: the renderer's)"
    )
    parser.add_argument("--format", choices=["landscape", "shorts"], default="landscape")
    parser.add_argument("--no-words", action="store_true", help="skip the words-captions row")
    parser.add_argument("--no-moviepy", action="store_true")
    parser.add_argument("--no-static", action="store_true", help="skip the motion-off pair")
    parser.add_argument("--no-stills", action="store_true", help="only the clips pair")
    parser.add_argument("--no-clips", action="store_true", help="skip the clips pair")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        ours_worker(args.worker)
        return 0
    if args.x264_params is None:
        from ytmaker.media.render import RenderSettings

        args.x264_params = RenderSettings().x264_params

    from ytmaker.formats import FRAMES

    frame = FRAMES[args.format]
    args.size = (frame.width, frame.height)
    shorts = args.format == "shorts"
    OUT.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(
        OUT / ("inputs-shorts" if shorts else "inputs"), args.segments, args.seconds, args.size
    )
    expected = sum(p["duration"] for p in inputs["pieces"])
    print(
        f"{args.segments} segments, {expected:.1f} s of {frame.width}x{frame.height}@30 video "
        f"({args.format}), {os.cpu_count()} CPUs,"
        f" x264 {args.preset} crf {args.crf} threads {args.threads or 'auto'} "
        f"{args.x264_params}; {args.reps} reps (median), interleaved\n",
        flush=True,
    )
    cases: dict[str, Case] = {}
    checks: dict[str, str] = {}
    spec_file = OUT / "spec.json"
    worker = [sys.executable, "-m", "bench.render", "--worker", str(spec_file)]

    def ours_spec(folder: Path, motion: bool, words: bool = False) -> dict[str, Any]:
        return {
            "pieces": inputs["pieces"],
            "out": str(folder / "video.mp4"),
            "work": str(folder / "work"),
            "width": frame.width,
            "height": frame.height,
            "visual": visual_dict(inputs, motion, words),
            "preset": args.preset,
            "crf": args.crf,
            "threads": args.threads,
            "x264_params": args.x264_params,
        }

    modes = [] if args.no_stills else [True] if args.no_static else [True, False]
    for motion in modes:
        tag = "" if motion else ", motion off"
        plain = cases.setdefault(f"plain{tag}", Case(f"plain ffmpeg command{tag}"))
        ours = cases.setdefault(f"ours{tag}", Case(f"ours, full render{tag}"))
        suffix = ("" if motion else "-static") + ("-shorts" if shorts else "")
        folder = OUT / f"ours{suffix}"
        plain_out = OUT / f"plain{suffix}.mp4"
        cmd = plain_command(inputs, plain_out, OUT / "plain-work", motion, args)
        spec = ours_spec(folder, motion)
        with_words = motion and not args.no_words
        words = (
            cases.setdefault("ours-words", Case("ours, full render, words")) if with_words else None
        )
        words_spec = ours_spec(OUT / f"ours-words{suffix}", motion, words=True)
        for rep in range(args.reps):
            plain.runs.append(measured(cmd))
            shutil.rmtree(folder, ignore_errors=True)
            spec_file.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
            ours.runs.append(measured(worker))
            said = f"  rep {rep + 1}{tag}: plain {plain.runs[-1].wall:.1f} s, "
            said += f"ours {ours.runs[-1].wall:.1f} s"
            if words is not None:
                shutil.rmtree(words_spec["work"], ignore_errors=True)
                spec_file.write_text(json.dumps(words_spec, ensure_ascii=False), "utf-8")
                words.runs.append(measured(worker))
                said += f", words {words.runs[-1].wall:.1f} s"
            print(said, flush=True)
        checks[plain.name] = check_video(plain_out, expected)
        checks[ours.name] = check_video(Path(spec["out"]), expected)
        if words is not None:
            checks[words.name] = check_video(Path(words_spec["out"]), expected)
        if not motion:
            continue
        inc = cases.setdefault("inc", Case("ours, re-render after 1 of N segments changed"))
        for rep in range(args.reps):
            changed = json.loads(json.dumps(spec))
            middle = changed["pieces"][len(changed["pieces"]) // 2]
            middle["text"] += f"（第 {rep + 1} 次修改）"
            spec_file.write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
            run = measured(worker)
            inc.runs.append(run)
            info = json.loads(run.stdout.strip().splitlines()[-1])
            assert info["encoded_pieces"] == 1, info
            print(
                f"  rep {rep + 1}: incremental {run.wall:.1f} s (encoded "
                f"{info['encoded_pieces']}, reused {info['reused_pieces']})",
                flush=True,
            )
        checks[inc.name] = check_video(Path(spec["out"]), expected)

    if not args.no_clips:
        run_clips(args, inputs, expected, cases, checks, ours_spec, spec_file, worker)

    if not args.no_moviepy and args.moviepy_reps > 0 and not shorts and not args.no_stills:
        python = moviepy_python()
        if python is not None:
            case = cases.setdefault("moviepy", Case("moviepy 2.x, subtitles as TextClips"))
            out = OUT / "moviepy.mp4"
            script, mp_spec = OUT / "moviepy_render.py", OUT / "moviepy_spec.json"
            script.write_text(MOVIEPY_SCRIPT, "utf-8")
            mp_spec.write_text(
                json.dumps(moviepy_spec(inputs, out, args.preset, args.crf)), "utf-8"
            )
            from ytmaker.media.runner import ffmpeg_exe

            env = {**os.environ, "FFMPEG_BINARY": ffmpeg_exe()}
            for _ in range(args.moviepy_reps):
                case.runs.append(measured([str(python), str(script), str(mp_spec)], env))
                print(f"  moviepy {case.runs[-1].wall:.1f} s", flush=True)
            checks[case.name] = check_video(out, expected)

    report = table(cases, checks)
    print("\n" + report + "\n\n" + NOTES)
    name = "results-shorts.md" if shorts else "results.md"
    (OUT / name).write_text(report + "\n\n" + NOTES + "\n", "utf-8")
    return 0


def run_clips(
    args: argparse.Namespace,
    inputs: dict[str, Any],
    expected: float,
    cases: dict[str, Case],
    checks: dict[str, str],
    ours_spec: Any,
    spec_file: Path,
    worker: list[str],
) -> None:
    """Every segment a video clip (half looped, half trimmed) against a plain command doing
    the same trims, loops and crops."""
    footage = with_clips(inputs, OUT / "clips", args.size)
    plain = cases.setdefault("plain-clips", Case("plain ffmpeg command, clips"))
    ours = cases.setdefault("ours-clips", Case("ours, full render, clips"))
    plain_out = OUT / "plain-clips.mp4"
    cmd = plain_command(footage, plain_out, OUT / "plain-work", False, args)
    spec = {**ours_spec(OUT / "ours-clips", False), "pieces": footage["pieces"]}
    for rep in range(args.reps):
        plain.runs.append(measured(cmd))
        shutil.rmtree(OUT / "ours-clips", ignore_errors=True)
        spec_file.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
        ours.runs.append(measured(worker))
        print(
            f"  rep {rep + 1}, clips: plain {plain.runs[-1].wall:.1f} s, "
            f"ours {ours.runs[-1].wall:.1f} s",
            flush=True,
        )
    checks[plain.name] = check_video(plain_out, expected)
    checks[ours.name] = check_video(Path(spec["out"]), expected)


NOTES = """\
plain = one hand-written ffmpeg command, same job (pictures, pan, cross-fades, subtitles, logo,
gain+limiter, AAC) and same encoder settings. moviepy = static slideshow (no pan, fades, logo or
loudness), subtitles composited as TextClips. Memory: peak of the process tree sampled every
50 ms; PSS counts pages shared between processes (the ffmpeg binary) once, RSS sums them."""


def table(cases: dict[str, Case], checks: dict[str, str]) -> str:
    full = cases["ours"].median("wall") if "ours" in cases else float("nan")
    lines = [
        "| case | runs | wall s (median) | ratio | CPU s | peak MB PSS / RSS | output |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, case in cases.items():
        wall = case.median("wall")
        if key in ("plain", "plain-clips") or key.startswith("plain"):
            ratio = "1.00"
        elif key == "inc":
            ratio = f"{wall / full:.2f}× full"
        elif key == "ours-words":
            ratio = f"{wall / cases['plain'].median('wall'):.2f}× plain, {wall / full:.2f}× line"
        elif key.startswith("ours"):
            ratio = f"{wall / cases[key.replace('ours', 'plain')].median('wall'):.2f}× plain"
        elif key == "moviepy":
            ratio = f"{wall / cases['plain'].median('wall'):.2f}× plain"
        else:
            ratio = "1.00"
        lines.append(
            f"| {case.name} | {len(case.runs)} | {wall:.1f} | {ratio} | {case.median('cpu'):.1f} "
            f"| {case.peak('peak_pss_mb'):.0f} / {case.peak('peak_rss_mb'):.0f} "
            f"| {checks.get(case.name, '')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
