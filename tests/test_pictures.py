"""The offline pictures show what a segment talks about, and never its words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ytmaker.providers.local.images import PillowImages
from ytmaker.providers.local.pictures import MOTIFS, Motif, choose, paint
from ytmaker.providers.local.pictures.canvas import CALM, CALM_TALL
from ytmaker.providers.local.script_writer import describe_image

WIDE, TALL = (1920, 1080), (1080, 1920)


def pixels(path_or_image: Path | Image.Image) -> np.ndarray:
    image = path_or_image if isinstance(path_or_image, Image.Image) else Image.open(path_or_image)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def busyness(region: np.ndarray) -> float:
    """Mean colour step between neighbouring 8x8 blocks: sees shapes and edges."""
    h, w = region.shape[0] // 8 * 8, region.shape[1] // 8 * 8
    blocks = region[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))
    return float(np.abs(np.diff(blocks, axis=1)).mean())


# ---- the motif a segment's words name -----------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("台灣夜市文化", "走進夜市，攤販一攤接著一攤，人潮從傍晚開始湧入。", "night market"),
        (
            "Night markets",
            "After dark the night market fills with stalls and vendors.",
            "night market",
        ),
        ("阿里山", "阿里山的高山茶生長在雲霧之中，茶農清晨就上山採茶。", "tea garden"),
        (
            "Alishan",
            "High on Alishan, oolong tea grows in the mist; pickers bring in the tea.",
            "tea garden",
        ),
        ("台灣廟宇", "廟口香火鼎盛，信徒在廟裡拜拜祈福。", "temple"),
        ("Taiwan by rail", "The train leaves the station and the railway climbs.", "train"),
        ("颱風天", "颱風來了，外面下著大雨，行人撐著雨傘。", "rain"),
        ("Kenting", "The beach is quiet, the sea is warm and the waves roll in.", "sea"),
        ("上學", "學生們背著書包走進學校，老師在教室門口等著。", "school"),
        (
            "Street food",
            "The grill sizzles: sausages, fried chicken and stinky tofu.",
            "street food",
        ),
    ],
)
def test_a_segment_gets_the_motif_its_words_name(title: str, text: str, expected: str) -> None:
    assert choose(describe_image(title, text), 1).name == expected


def test_an_alishan_tea_article_shows_tea_or_mountains() -> None:
    """The issue's own case: an English article on Alishan tea was drawn as a city at night."""
    text = (
        "High in the mountains of central Taiwan, the Alishan range rises more than two thousand "
        "metres. Farmers there grow a famous high-mountain oolong tea on steep slopes."
    )
    assert choose(describe_image("Alishan tea", text), 3).name in {"tea garden", "mountains"}
    assert choose(describe_image("阿里山茶", "阿里山上的茶園在雲海之間。"), 3).name in {
        "tea garden",
        "mountains",
    }


@pytest.mark.parametrize("motif", MOTIFS, ids=lambda m: m.name)
def test_every_motif_is_named_in_both_languages(motif: Motif) -> None:
    """A table of at least 20 topics; each one is reached from a zh-TW and an English word."""
    assert len(MOTIFS) >= 20
    assert choose(f"一段話 — 這是{motif.zh[0]}。", 0) is motif
    assert choose(f"Some words — This is about the {motif.en[0]}.", 0) is motif


def test_a_longer_keyword_takes_its_words_first() -> None:
    """ "bubble tea" is the drink, not the tea garden; "夜市" is not the (day) market."""
    assert choose("x — We ordered bubble tea and milk tea.", 0).name == "bubble tea"
    assert choose("x — 一杯珍珠奶茶", 0).name == "bubble tea"
    assert choose("x — 逛夜市", 0).name == "night market"
    assert choose("x — Mountains everywhere, and one more mountain.", 0).name == "mountains"


def test_the_segment_speaks_louder_than_the_title() -> None:
    """The title's topic counts less in the words, and decides alone only when they name nothing."""
    assert choose(describe_image("台灣夜市", "夜市的起源在廟口。"), 0).name == "temple"
    assert choose(describe_image("台灣夜市", "這是一段沒有提到任何主題的話。"), 0).name == (
        "night market"
    )


def test_words_naming_nothing_get_a_landscape_chosen_by_the_seed() -> None:
    first = [choose("Hello there — nothing in particular.", seed).name for seed in range(10)]
    again = [choose("Hello there — nothing in particular.", seed).name for seed in range(10)]
    assert first == again
    assert set(first) <= {"mountains", "sea", "lake", "forest", "river"} and len(set(first)) > 1


# ---- the picture ----------------------------------------------------------------------------


def test_no_narration_is_drawn_into_the_picture(tmp_path: Path) -> None:
    """Two narrations about the same thing, the same seed: the very same pixels, so no word of
    either narration is in the picture (the burned subtitles carry them)."""
    maker = PillowImages()
    a = maker.make(
        describe_image("台灣夜市文化", "走進夜市，攤販一攤接著一攤，香氣四溢。"),
        5,
        tmp_path / "a.png",
    )
    b = maker.make(describe_image("另一個標題", "夜市"), 5, tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    tall = PillowImages(size=TALL)
    c = tall.make("Night markets — The night market at dusk.", 5, tmp_path / "c.png")
    d = tall.make("Other words — Vendors everywhere: what a night market!", 5, tmp_path / "d.png")
    assert np.array_equal(pixels(c), pixels(d))


@pytest.mark.parametrize("motif", MOTIFS, ids=lambda m: m.name)
def test_each_motif_fills_both_frames_and_keeps_the_subtitle_band_calm(
    motif: Motif, tmp_path: Path
) -> None:
    for size, calm in ((WIDE, CALM), (TALL, CALM_TALL)):
        path = PillowImages(size=size).make(f"x — {motif.en[0]}", 11, tmp_path / "p.png")
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", size)
        picture = pixels(path)
        band = int(size[1] * calm) + 8
        assert busyness(picture[band:]) < 0.3 < busyness(picture[: band - 16]), motif.name


def test_pictures_are_deterministic_and_vary_with_the_seed(tmp_path: Path) -> None:
    """A rerun draws the same file (caches and fingerprints stay valid); another segment (its
    own seed) about the same thing gets a different picture."""
    maker = PillowImages()
    description = describe_image("台灣夜市文化", "烤香腸、鹽酥雞、臭豆腐，都是夜市小吃。")
    first = maker.make(description, 42, tmp_path / "a.png")
    again = PillowImages().make(description, 42, tmp_path / "b.png")
    assert first.read_bytes() == again.read_bytes()
    others = [pixels(maker.make(description, seed, tmp_path / f"{seed}.png")) for seed in (1, 2, 3)]
    for other in others:
        assert np.abs(pixels(first) - other).mean() > 5


def test_different_motifs_look_different() -> None:
    """Not three templates any more: every pair of motifs differs clearly, seed for seed."""
    small = [pixels(paint(f"x — {m.en[0]}", 7, WIDE)[0].resize((192, 108))) for m in MOTIFS]
    for i in range(len(small)):
        for j in range(i + 1, len(small)):
            assert np.abs(small[i] - small[j]).mean() > 8, (MOTIFS[i].name, MOTIFS[j].name)
