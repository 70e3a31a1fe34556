"""Do the offline pictures show what the words say? (`python -m bench.motifs`; not a test.)

For each bundled sample (zh-TW and English, landscape and Short) the offline writer makes the
script as `ytmaker demo` does; every segment's picture is then drawn as in a run of project 1
(same descriptions, same seeds, same sizes). Printed per segment: the motif drawn and whether
one of that motif's keywords occurs in the segment's own text (not only in the title), then the
share of such segments per sample and over all of them.

It also draws the contact sheet (every picture of the zh-TW demo, the motif under each; JPEG)
and times the picture maker per picture, against the painter of a baseline revision
(`ytmaker/providers/local/images.py` as it was at --baseline, loaded from git) on the same
descriptions and seeds in the same run: wall and CPU time of `make()` (drawing + PNG), medians
over --reps rounds. The painter is single-threaded: on a busy machine its CPU time is the
figure to compare, the wall time includes waiting for a core.

    python -m bench.motifs [--sheet docs/motifs-zh-TW.jpg] [--baseline bb4aa6e] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ytmaker.config import Settings
from ytmaker.formats import DEMO_SAMPLES, frame_of, rules_for
from ytmaker.media.fonts import font_path
from ytmaker.pipeline.assets import seed_for
from ytmaker.providers.local.images import PillowImages
from ytmaker.providers.local.pictures import choose
from ytmaker.providers.local.pictures.motifs import named
from ytmaker.providers.local.script_writer import LocalScriptWriter
from ytmaker.script import Segment

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
PROJECT_ID = 1  # the seeds of a first `make demo`
THUMB, LABEL, COLUMNS = (640, 360), 54, 3


@dataclass
class Row:
    sample: str
    segment: Segment
    motif: str
    zh_name: str
    in_text: bool


def rows_for(language: str, fmt: str) -> tuple[list[Row], tuple[int, int]]:
    name = DEMO_SAMPLES[(language, fmt)]
    script = LocalScriptWriter().write(
        (SAMPLES / name).read_text("utf-8"), language, rules_for(Settings(), fmt)
    )
    rows = []
    for segment in script.segments:
        motif = choose(segment.image_description, seed_for(PROJECT_ID, segment.index))
        in_text = any(found is motif for _, found in named(segment.text))
        rows.append(Row(name, segment, motif.name, motif.zh_name, in_text))
    frame = frame_of(fmt)
    return rows, (frame.width, frame.height)


def report(all_rows: list[list[Row]]) -> None:
    print("| sample | seg | motif | named in its text | text |")
    print("|---|---|---|---|---|")
    for rows in all_rows:
        for row in rows:
            text = " ".join(row.segment.text.split())[:48]
            mark = "yes" if row.in_text else "no"
            print(f"| {row.sample} | {row.segment.index} | {row.motif} | {mark} | {text}… |")
    print()
    print("| sample | segments | motif named in its own text | share | different motifs |")
    print("|---|---|---|---|---|")
    everything = [row for rows in all_rows for row in rows]
    for rows in [*all_rows, everything]:
        hits = sum(row.in_text for row in rows)
        label = rows[0].sample if rows is not everything else "all"
        kinds = len({row.motif for row in rows})
        print(f"| {label} | {len(rows)} | {hits} | {hits / len(rows):.0%} | {kinds} |")


def contact_sheet(rows: list[Row], size: tuple[int, int], out: Path) -> None:
    """Every picture of one demo in a grid, "NN  夜市 night market" under each."""
    font = ImageFont.truetype(str(font_path()), 30)
    cell_h = THUMB[1] + LABEL
    lines = (len(rows) + COLUMNS - 1) // COLUMNS
    sheet = Image.new("RGB", (COLUMNS * THUMB[0], lines * cell_h), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    with tempfile.TemporaryDirectory() as tmp:
        maker = PillowImages(size=size)
        for k, row in enumerate(rows):
            path = Path(tmp) / f"{row.segment.index}.png"
            seed = seed_for(PROJECT_ID, row.segment.index)
            maker.make(row.segment.image_description, seed, path)
            x, y = (k % COLUMNS) * THUMB[0], (k // COLUMNS) * cell_h
            with Image.open(path) as picture:
                sheet.paste(picture.convert("RGB").resize(THUMB, Image.Resampling.LANCZOS), (x, y))
            label = f"{row.segment.index:02d}  {row.zh_name}  {row.motif}"
            draw.text((x + 16, y + THUMB[1] + 8), label, font=font, fill=(236, 236, 240))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="JPEG", quality=84, optimize=True)
    print(f"\ncontact sheet: {out} ({sheet.width}x{sheet.height})")


def baseline_maker(revision: str) -> Any:
    """The baseline revision's PillowImages class, or None when git cannot give it."""
    try:
        source = subprocess.run(
            ["git", "show", f"{revision}:ytmaker/providers/local/images.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"(no baseline: {exc})", file=sys.stderr)
        return None
    module = types.ModuleType("baseline_images")
    sys.modules[module.__name__] = module  # dataclasses look their module up while defining
    exec(compile(source, f"{revision}:images.py", "exec"), module.__dict__)
    return module.PillowImages


def time_makers(rows: list[Row], size: tuple[int, int], reps: int, revision: str) -> None:
    """Median wall and CPU time of make() per picture, for this painter and the baseline's."""
    makers = {"now": PillowImages}
    old = baseline_maker(revision)
    if old is not None:
        makers[f"baseline {revision}"] = old
    medians: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, cls in makers.items():
            maker, wall, cpu = cls(size=size), [], []
            for _ in range(reps):
                for row in rows:
                    seed = seed_for(PROJECT_ID, row.segment.index)
                    start, start_cpu = time.perf_counter(), time.process_time()
                    maker.make(row.segment.image_description, seed, Path(tmp) / "p.png")
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
            medians[label] = (statistics.median(wall) * 1000, statistics.median(cpu) * 1000)
    now_cpu = medians["now"][1]
    for label, (wall_ms, cpu_ms) in medians.items():
        ratio = cpu_ms / now_cpu
        print(
            f"| {size[0]}x{size[1]} | {label} | {wall_ms:.0f} ms | {cpu_ms:.0f} ms | {ratio:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sheet", type=Path, default=ROOT / "docs" / "motifs-zh-TW.jpg")
    parser.add_argument("--baseline", default="bb4aa6e", help="git revision to compare with")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    samples = [("zh-TW", "landscape"), ("en", "landscape"), ("zh-TW", "shorts"), ("en", "shorts")]
    results = [rows_for(language, fmt) for language, fmt in samples]
    report([rows for rows, _ in results])
    contact_sheet(*results[0], args.sheet)
    if args.no_timing:
        return
    print("\n| size | painter | wall per picture | CPU per picture | CPU vs now |")
    print("|---|---|---|---|---|")
    for rows, size in (results[0], results[2]):
        time_makers(rows, size, args.reps, args.baseline)


if __name__ == "__main__":
    main()
