"""Close-ups: drinks, food, cooking, phones, money, people at a table, games, recycling bins.

Objects are drawn in a Frame: local units (a cup's height, a bowl's radius) around a point.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ytmaker.providers.local.pictures.canvas import Canvas, Color, Frame, Point, mix
from ytmaker.providers.local.pictures.props import (
    SKIN,
    WARM,
    WHITE,
    bokeh,
    lantern_string,
    round_tree,
    sitter,
    steam,
    table,
    wall,
)

PASTELS = ((246, 214, 200), (214, 230, 240), (236, 226, 246), (226, 240, 218), (250, 236, 206))
TEAS = ((206, 160, 112), (176, 136, 200), (150, 190, 110), (226, 196, 150), (120, 76, 50))
STRAWS = ((220, 60, 80), (60, 140, 210), (250, 200, 60), (70, 170, 120))
GOLDEN = (214, 140, 50)


def _wave(
    x0: float, x1: float, y: float, amp: float, turns: float, phase: float = 0.0
) -> list[Point]:
    """Points of a horizontal wavy line (noodles, drizzle, brown sugar)."""
    return [
        (x0 + (x1 - x0) * t, y + amp * math.sin(phase + t * turns * math.tau))
        for t in (i / 30 for i in range(31))
    ]


def bubble_tea(c: Canvas) -> None:
    """One to three cups of milk tea with pearls on a table, lights behind."""
    wall(c, c.pick(PASTELS))
    bokeh(c, 18, (0, c.top, c.w, c.ground - 100 * c.u))
    table(c)
    count = 1 if c.tall else int(c.rng.integers(1, 4))
    height = (c.ground - c.top) * (0.72 if count == 1 else 0.62)
    for k in range(count):
        x = c.w * (0.5 + (k - (count - 1) / 2) * 0.22)
        size = height * (1 if k == count // 2 else 0.85)
        _cup(c, Frame(c, x, c.ground - 4, size), c.pick(TEAS), c.chance(0.4))


def _cup(c: Canvas, f: Frame, tea: Color, stripes: bool) -> None:
    """A tall clear cup (one unit high): pearls at the bottom, ice, a sealed top, a fat straw."""
    f.poly([(-0.36, -1), (0.36, -1), (0.27, 0), (-0.27, 0)], mix(c.lit(tea), WHITE, 0.12))
    if stripes:  # brown sugar running down the inside
        for k in range(5):
            f.line(
                _wave(-0.25 + k * 0.12, -0.2 + k * 0.12, -0.5, 0.1, 1, k)[::3],
                c.lit((110, 60, 30)),
                0.03,
                200,
            )
    for _ in range(5):  # ice
        x, y = c.uniform(-0.22, 0.22), c.uniform(-0.85, -0.55)
        f.rect((x - 0.07, y - 0.07, x + 0.07, y + 0.07), WHITE, 0.02, 90)
    dark = mix(c.lit((40, 26, 22)), (0, 0, 0), 0.2)
    for row in range(4):  # the pearls, packed in rows
        y = -0.035 - row * 0.06
        half = 0.23 - 0.09 * y
        count = int(half * 2 / 0.055)
        for i in range(count):
            x = -half + (i + 0.5 + (row % 2) * 0.5) * half * 2 / (count + 0.5)
            f.circle(x, y, 0.03, dark)
            f.circle(x - 0.01, y - 0.01, 0.008, (200, 190, 190))
    f.rect((-0.375, -1.04, 0.375, -0.98), c.lit((250, 250, 252)), 0.01)
    f.line([(-0.36, -1), (-0.27, 0)], WHITE, 0.006, 150)
    f.line([(0.04, -0.95), (0.16, -1.45)], c.lit(c.pick(STRAWS)), 0.07)


def street_food(c: Canvas) -> None:
    """Night-market food under the stall's lights: a charcoal grill, fried chicken, or noodles."""
    c.sky(sun=None, clouds=0, stars=False)
    bokeh(c, 40, (0, c.top, c.w, c.ground - 200 * c.u))
    c.light = replace(c.light, ambient=max(c.light.ambient, 0.9))  # under the stall's lamps
    c.pick((_grill, _fried_chicken, _noodles))(c)
    c.ground_band((44, 40, 40))


def _grill(c: Canvas) -> None:
    """A charcoal grill of sausages, skewers and corn, smoke rising."""
    top, x0, x1 = c.ground - 140 * c.u, 0.08 * c.w, 0.92 * c.w
    c.rect((x0, top, x1, c.ground), (50, 50, 54), 10)
    c.rect((x0 + 20, top + 16, x1 - 20, top + 70 * c.u), (90, 30, 14))
    embers = ((255, 120, 30), (240, 70, 20), (255, 180, 60))
    for _ in range(int((x1 - x0) / 18)):
        x, y = c.uniform(x0 + 30, x1 - 30), c.uniform(top + 24, top + 60 * c.u)
        c.circle(x, y, c.uniform(8, 16) * c.u, c.pick(embers))
    c.glow((x0 + x1) / 2, top, (x1 - x0) * 0.4, (255, 120, 40), 0.45)
    for x in range(int(x0 + 20), int(x1 - 20), int(24 * c.u)):
        c.line([(x, top + 10), (x, top + 74 * c.u)], (120, 120, 126), 2)
    count = int((x1 - x0) / (c.uniform(110, 150) * c.u))
    for k in range(count):
        frame = Frame(c, x0 + (k + 0.5) * (x1 - x0) / count, top, 100 * c.u)
        c.pick((_sausage, _sausage, _skewer, _corn))(c, frame)
    for share in (0.35, 0.65):
        steam(c, c.w * share, top - 240 * c.u, (c.ground - c.top) * 0.4, 200 * c.u)


def _sausage(c: Canvas, f: Frame) -> None:
    skin = c.lit((176, 60, 40), glow=0.4)
    f.rect((-0.26, -2.1, 0.26, -0.1), skin, 0.26)
    for j in range(4):  # the cuts across the skin
        y = -0.6 - j * 0.4
        f.line([(-0.18, y), (0.18, y - 0.12)], mix(skin, (60, 20, 10), 0.5), 0.04)
    f.line([(-0.12, -1.9), (-0.12, -0.4)], (255, 210, 180), 0.05, 120)


def _skewer(c: Canvas, f: Frame) -> None:
    """Meat, peppers and onion on a bamboo stick."""
    f.line([(0, -0.2), (0, -2.3)], (210, 180, 130), 0.05)
    pieces = ((150, 80, 40), (70, 150, 60), (160, 90, 45), (220, 60, 40))
    for j in range(4):
        color = c.lit(pieces[(j + int(f.x)) % 4], glow=0.4)
        f.rect((-0.26, -0.7 - j * 0.44, 0.26, -0.34 - j * 0.44), color, 0.1)


def _corn(c: Canvas, f: Frame) -> None:
    f.rect((-0.3, -2.0, 0.3, -0.14), c.lit((220, 150, 40), glow=0.4), 0.3)
    kernel = c.lit((250, 196, 60), glow=0.4)
    for j in range(9):
        for i in (-1, 0, 1):
            f.circle(i * 0.16, -0.36 - j * 0.19, 0.07, kernel)


def _fried_chicken(c: Canvas) -> None:
    """A big fried chicken cutlet in its paper bag and a paper cup of popcorn chicken."""
    table(c, (120, 110, 104))
    size = (c.ground - c.top) * 0.75
    f = Frame(c, c.w * (0.5 if c.tall else 0.36), c.ground - 4, size)
    golden = c.lit(GOLDEN, glow=0.3)
    outline = [
        (0.34 * math.cos(a) * (1 + 0.08 * math.sin(a * 7)), -0.62 + 0.42 * math.sin(a))
        for a in (i / 24 * math.tau for i in range(24))
    ]
    f.poly(outline, golden)
    for _ in range(90):  # the crumbs of the batter
        a, r = c.uniform(0, math.tau), c.rng.random() ** 0.5 * 0.85
        f.circle(
            0.32 * r * math.cos(a),
            -0.62 + 0.4 * r * math.sin(a),
            0.012,
            mix(golden, (255, 230, 160), 0.5),
        )
    f.poly([(-0.4, -0.5), (0.4, -0.5), (0.36, 0), (-0.36, 0)], c.lit((246, 242, 232)))
    for k in range(3):  # the bag's printed stripes
        f.line([(-0.3, -0.12 - k * 0.12), (0.3, -0.12 - k * 0.12)], c.lit((220, 80, 60)), 0.02)
    if not c.tall:
        _popcorn_chicken(c, Frame(c, c.w * 0.7, c.ground - 4, size * 0.22))


def _popcorn_chicken(c: Canvas, f: Frame) -> None:
    """Bite-sized fried chicken heaped in a paper cup, basil and two picks on top."""
    f.poly([(-1, -2), (1, -2), (0.75, 0), (-0.75, 0)], c.lit((230, 70, 60)))
    golden = c.lit(GOLDEN, glow=0.3)
    for _ in range(34):
        x, y = c.uniform(-0.95, 0.95), -c.uniform(2.0, 2.7)
        f.circle(x, y, c.uniform(0.16, 0.24), mix(golden, (120, 60, 20), c.uniform(0, 0.3)))
    for _ in range(6):
        f.ellipse(c.uniform(-0.7, 0.7), -c.uniform(2.3, 2.8), 0.14, 0.07, c.lit((60, 140, 50)))
    for k in (-1, 1):
        f.line([(k * 0.3, -2.4), (k * 0.6, -3.4)], (220, 200, 150), 0.05)


def _noodles(c: Canvas) -> None:
    """A steaming bowl of noodle soup (one unit: the bowl's radius), chopsticks lifting some."""
    table(c, (130, 90, 60))
    r = min(c.w * 0.32, (c.ground - c.top) * 0.5)
    f = Frame(c, c.w / 2, c.ground - 4, r)
    f.ellipse(
        0, -0.75, 1, 0.26, c.lit(c.pick([(196, 110, 50), (214, 160, 90), (170, 80, 40)]), 0.2)
    )
    noodle = c.lit((246, 226, 170), glow=0.2)
    for k in range(9):
        f.line(_wave(-0.8, 0.8, -0.7 - 0.02 * (k % 3), 0.05, 2.2, k), noodle, 0.025)
    for _ in range(5):  # beef
        x, y = c.uniform(-0.6, 0.6), -0.78 + c.uniform(-0.1, 0.1)
        f.rect((x - 0.09, y - 0.054, x + 0.09, y + 0.054), c.lit((120, 60, 40), glow=0.2), 0.03)
    for _ in range(18):  # spring onion
        f.circle(c.uniform(-0.7, 0.7), -c.uniform(0.68, 0.86), 0.025, c.lit((90, 170, 60)))
    bowl = c.lit(c.pick([(240, 240, 236), (230, 120, 80), (70, 110, 170)]))
    f.chord((-1.02, -1.3, 1.02, 0), 0, 180, bowl)
    f.rect((-0.3, -0.08, 0.3, 0), mix(bowl, (0, 0, 0), 0.15))
    for dx in (0, 0.1):  # chopsticks, a few noodles hanging from them
        f.line([(0.1 + dx, -0.95), (1.0 + dx, -2.05)], c.lit((170, 120, 70)), 0.03)
    for k in range(5):
        f.line([(0.25 + k * 0.02, -1.2), (0.22 + k * 0.02, -0.87)], noodle, 0.02)
    steam(c, c.w / 2 - r * 0.3, c.ground - r * 1.1, (c.ground - c.top) * 0.4, r * 0.9)


def dessert(c: Canvas) -> None:
    """A bowl heaped with shaved ice, mango cubes and condensed milk, a spoon in it."""
    wall(c, c.pick(PASTELS))
    bokeh(c, 10, (0, c.top, c.w, c.ground - 200 * c.u))
    table(c, (200, 170, 130))
    r = min(c.w * 0.3, (c.ground - c.top) * 0.5)
    f = Frame(c, c.w / 2, c.ground - r * 0.5, r)  # (0, 0): the middle of the bowl's rim
    ice, shade = c.lit((252, 253, 255)), c.lit((206, 222, 240))
    f.chord((-0.86, -1.15, 0.86, 0.6), 180, 360, shade)
    f.chord((-0.86, -1.1, 0.7, 0.5), 180, 360, ice)
    for _ in range(50):  # flakes
        a, k = c.uniform(math.pi, math.tau), c.rng.random() ** 0.5
        f.circle(0.8 * k * math.cos(a), 0.8 * k * math.sin(a), 0.018, shade)
    mango = c.lit((250, 170, 40))
    for _ in range(16):  # on the top half of the heap
        a, k = c.uniform(math.pi * 1.15, math.pi * 1.85), c.uniform(0.3, 0.85)
        x, y = 0.75 * k * math.cos(a), 0.82 * k * math.sin(a)
        f.rect((x - 0.09, y - 0.09, x + 0.09, y + 0.09), mix(mango, WHITE, c.uniform(0, 0.2)), 0.03)
    milk = [(x, y - 0.8 + 0.6 * (x / 0.6) ** 2) for x, y in _wave(-0.6, 0.6, 0, 0.06, 2.4)]
    f.line(milk, c.lit((252, 242, 214)), 0.04)
    f.line([(0.25, -0.55), (0.85, -1.35)], c.lit((196, 196, 204)), 0.05)
    bowl = c.lit(c.pick([(244, 244, 240), (120, 170, 220), (236, 140, 120), (150, 200, 170)]))
    f.chord((-1, -0.5, 1, 0.5), 0, 180, bowl)
    f.ellipse(0, 0, 1, 0.1, mix(bowl, WHITE, 0.3))
    f.rect((-0.3, 0.5 - 10 * c.u / r, 0.3, 0.5), mix(bowl, (0, 0, 0), 0.15), 0.01)


def cooking(c: Canvas) -> None:
    """A pot on a lit burner in a tiled kitchen, steam rising, utensils on the wall."""
    tile = c.lit(c.pick([(226, 234, 236), (236, 230, 214), (214, 226, 216)]))
    c.rect((0, 0, c.w, c.ground), tile)
    step = int(60 * c.u)
    for y in range(0, int(c.ground), step):
        c.line([(0, y), (c.w, y)], mix(tile, (0, 0, 0), 0.12), 2)
    for x in range(0, c.w, step):
        c.line([(x, 0), (x, c.ground)], mix(tile, (0, 0, 0), 0.12), 2)
    metal = c.lit((150, 156, 164))
    for k, spot in enumerate(c.spread(4, 0.1 * c.w)):  # a ladle, a spatula, ...
        if abs(spot - c.w / 2) > 0.2 * c.w:
            f = Frame(c, spot, c.top, 100 * c.u)
            f.line([(0, 0.4), (0, 2.4)], metal, 0.08)
            if k % 2:
                f.circle(0, 2.6, 0.34, metal)
            else:
                f.rect((-0.26, 2.3, 0.26, 3.0), metal, 0.06)
    stove = c.ground - 60 * c.u
    c.rect((0, stove, c.w, c.ground + 2), (44, 44, 48))
    _pot(c, Frame(c, c.w / 2, stove, min(c.w * 0.26, 280 * c.u)))
    c.ground_band((50, 50, 54))


def _pot(c: Canvas, f: Frame) -> None:
    """A pot of soup (one unit: half its width) on blue flames, steaming."""
    for k in range(9):
        x, tall = -0.7 + k * 0.175, c.uniform(0.11, 0.21)
        f.poly([(x - 0.05, 0), (x, -tall), (x + 0.05, 0)], (90, 140, 255))
        f.poly([(x - 0.025, 0), (x, -0.08), (x + 0.025, 0)], (255, 200, 90))
    pot = c.lit(c.pick([(190, 60, 50), (170, 176, 184), (60, 90, 140)]))
    f.rect((-1, -1.1, 1, -0.1), pot, 0.12)
    for x0, x1 in ((-1.22, -0.95), (0.95, 1.22)):  # the handles
        f.rect((x0, -0.9, x1, -0.78), mix(pot, (0, 0, 0), 0.3), 0.03)
    f.ellipse(0, -1.1, 1.02, 0.16, mix(pot, WHITE, 0.2))
    f.ellipse(0, -1.09, 0.92, 0.11, c.lit((220, 170, 90)))
    steam(c, f.x, f.p(0, -1.2)[1], (c.ground - c.top) * 0.5, f.s)


def phone(c: Canvas) -> None:
    """A hand holding a phone with a photo on its screen, hearts and comments floating up."""
    top = c.pick(((120, 90, 200), (40, 140, 200), (230, 110, 120)))
    c.gradient((0, 0, c.w, c.ground + 2), c.lit(top), c.lit((250, 200, 150)))
    bokeh(c, 14, (0, c.top, c.w, c.ground))
    h = (c.ground - c.top) * 0.92
    for _ in range(7):  # likes floating up beside the phone
        x = c.uniform(0.05, 0.95) * c.w
        if abs(x - c.w / 2) > h * 0.4:
            heart = WHITE if c.chance(0.4) else (250, 80, 110)
            _heart(
                Frame(c, x, c.uniform(c.top + 60, c.ground - 80), c.uniform(18, 40) * c.u), heart
            )
    _handset(c, Frame(c, c.w / 2, c.ground - h, h))
    c.ground_band(mix(c.lit(top), (40, 30, 40), 0.5), glow=1.0)


def _handset(c: Canvas, f: Frame) -> None:
    """The phone (one unit tall, from its top edge) in a hand, a photo post on its screen."""
    f.rect((-0.25, 0, 0.25, 1), (24, 24, 30), 0.06)
    f.rect((-0.215, 0.06, 0.215, 0.95), (250, 250, 252), 0.03)
    c.gradient(f.box(-0.19, 0.11, 0.19, 0.485), (90, 160, 230), (190, 220, 240))
    f.circle(0.1, 0.2, 0.04, (255, 240, 200))
    f.poly(
        [(-0.19, 0.485), (-0.04, 0.285), (0.06, 0.385), (0.09, 0.335), (0.19, 0.485)], (70, 140, 90)
    )
    _heart(Frame(c, *f.p(-0.155, 0.545), f.s * 0.025), (240, 60, 90))
    for k in range(3):  # comment lines, no words
        y = 0.615 + k * 0.05
        f.line([(-0.185, y), (-0.215 + c.uniform(0.2, 0.37), y)], (190, 190, 200), 0.015)
    skin = c.lit(c.pick(SKIN[:3]))
    f.rect((-0.375, 0.95, 0.05, 1.05), skin, 0.05)
    for k in range(4):
        f.rect((0.15, 0.4 + k * 0.09, 0.31, 0.47 + k * 0.09), skin, 0.02)
    f.rect((-0.35, 0.6, -0.21, 0.8), skin, 0.03)
    if f.p(0.7, 0)[0] < c.w:  # a comment bubble
        f.rect((0.35, 0.1, 0.7, 0.22), WHITE, 0.03)
        f.poly([(0.37, 0.22), (0.4, 0.22), (0.36, 0.26)], WHITE)
        for k in range(2):
            f.line(
                [(0.38, 0.14 + k * 0.04), (0.66 - k * 0.06, 0.14 + k * 0.04)],
                (180, 180, 196),
                0.012,
            )


def _heart(f: Frame, color: Color) -> None:
    """A heart one unit wide around (0, 0)."""
    f.circle(-0.5, 0, 0.6, color)
    f.circle(0.5, 0, 0.6, color)
    f.poly([(-1.08, 0.15), (1.08, 0.15), (0, 1.3)], color)


def business(c: Canvas) -> None:
    """Rising bars with an arrow, stacks of coins and a globe: trade and money."""
    c.gradient((0, 0, c.w, c.ground + 2), c.lit((30, 50, 90)), c.lit((70, 100, 150)))
    step = int(80 * c.u)
    for x in range(0, c.w, step):  # a faint grid, like a chart's paper
        c.line([(x, c.top), (x, c.ground)], WHITE, 1, 25)
    for y in range(int(c.top), int(c.ground), step):
        c.line([(0, y), (c.w, y)], WHITE, 1, 25)
    _chart(c, c.w * (0.08 if c.tall else 0.1), c.w * (0.84 if c.tall else 0.5))
    if not c.tall:
        for spot in c.spread(3, c.w * 0.62, 0.1):
            _coins(c, Frame(c, spot, c.ground - 12 * c.u, 50 * c.u), int(c.rng.integers(4, 12)))
    where = (0.25, 150) if c.tall else (0.8, 170)
    _globe(Frame(c, c.w * where[0], c.top + where[1] * c.u, 115 * c.u))
    c.ground_band((40, 60, 100))


def _chart(c: Canvas, x0: float, span: float, bars: int = 6) -> None:
    """Bars growing left to right and a white arrow rising over them."""
    width, tops = span / bars * 0.7, []
    for k in range(bars):
        h = (c.ground - c.top) * (0.18 + 0.1 * k + c.uniform(-0.04, 0.04))
        x = x0 + k * span / bars
        c.rect(
            (x, c.ground - h, x + width, c.ground),
            c.lit(mix((80, 200, 160), (250, 200, 70), k / bars)),
            8,
        )
        tops.append((x + width / 2, c.ground - h - 40 * c.u))
    c.line(tops, WHITE, 10 * c.u)
    (ax, ay), (bx, by) = tops[-2], tops[-1]
    angle, r = math.atan2(by - ay, bx - ax), 45 * c.u
    head = [
        (bx + math.cos(angle + t) * r * k, by + math.sin(angle + t) * r * k)
        for t, k in ((0, 1.1), (2.3, 0.9), (-2.3, 0.9))
    ]
    c.poly(head, WHITE)


def _coins(c: Canvas, f: Frame, count: int) -> None:
    gold = (240, 190, 60)
    for k in range(count):
        f.ellipse(0, -k * 0.36, 1, 0.32, mix(gold, (120, 80, 20), 0.4))
        f.ellipse(0, -k * 0.36 - 0.12, 1, 0.32, gold)


def _globe(f: Frame) -> None:
    line = (230, 240, 255)
    f.circle(0, 0, 1, (70, 140, 210))
    for x, y, r in ((-0.3, -0.2, 0.4), (0.35, 0.25, 0.3), (0.2, -0.45, 0.22)):
        f.circle(x, y, r, (90, 180, 110))
    f.arc((-1, -1, 1, 1), 0, 360, line, 0.035)
    f.arc((-0.45, -1, 0.45, 1), 0, 360, line, 0.025)
    f.line([(-1, 0), (1, 0)], line, 0.025)


def gathering(c: Canvas) -> None:
    """Family and friends around a table of dishes under a warm lamp, a window behind."""
    wall(c, c.pick(((236, 200, 160), (220, 190, 170), (200, 210, 190), (214, 200, 226))))
    side = c.pick((-1, 1))
    _window(c, Frame(c, c.w / 2 + side * c.w * 0.32, c.stage(0.1), 100 * c.u))
    lamp = Frame(c, c.w / 2 + c.uniform(-0.1, 0.1) * c.w, c.top + 60 * c.u, 100 * c.u)
    c.line([(lamp.x, 0), lamp.p(0, 0)], (40, 36, 30), 4)
    c.glow(*lamp.p(0, 0.6), 520 * c.u, WARM, 0.55)
    lamp.chord((-1.1, -0.2, 1.1, 1.2), 180, 360, c.lit((200, 120, 60), glow=0.6))
    f = Frame(c, c.w / 2, c.ground - 90 * c.u, 100 * c.u)  # (0, 0): the middle of the table top
    seats = int(c.rng.integers(2, 4) if c.tall else c.rng.integers(3, 6))
    gap = min(2.8, c.w / (seats + 0.5) / f.s)
    for k in range(seats):
        middle = k - (seats - 1) / 2
        sitter(c, *f.p(middle * gap, -2.3 - abs(middle) * 0.12), 62 * c.u)
    half = min(c.w * 0.46, 820 * c.u) / f.s
    f.ellipse(0, 0, half, 0.7, c.lit((150, 90, 50)))
    f.rect((-half, 0, half, 0.92), c.lit(c.pick(((120, 70, 40), (170, 50, 50), (60, 90, 130)))))
    dishes = ((220, 120, 60), (110, 160, 70), (230, 200, 110), (190, 70, 50))
    for k in range(-3, 4):
        x = k * half * 0.26
        f.ellipse(x, -0.06, 0.6, 0.2, (250, 250, 246))
        f.ellipse(x, -0.1, 0.38, 0.12, c.lit(c.pick(dishes)))
    f.chord((-1, -1.1, 1, 0.1), 0, 180, c.lit((190, 60, 40)))  # the hot pot in the middle
    steam(c, c.w / 2, f.p(0, -0.6)[1], 110 * c.u, 120 * c.u)
    c.ground_band((110, 66, 40))


def _window(c: Canvas, f: Frame) -> None:
    """A window (units of 100 px from its top middle) onto an evening sky with a moon."""
    f.rect((-1.6, 0, 1.6, 2.6), c.lit((120, 90, 60)), 0.05)
    c.gradient(f.box(-1.45, 0.15, 1.45, 2.45), (40, 50, 100), (230, 140, 110))
    f.circle(0.7, 0.7, 0.22, (250, 240, 210))
    f.rect((-0.04, 0.15, 0.04, 2.45), c.lit((120, 90, 60)))
    f.rect((-1.45, 1.26, 1.45, 1.34), c.lit((120, 90, 60)))


def games(c: Canvas) -> None:
    """A night-market game stall: a wall of balloons to pop, a pool of goldfish in front."""
    c.sky(sun=None, clouds=0)
    x0, x1 = (0.05 * c.w, 0.95 * c.w) if c.tall else (0.12 * c.w, 0.88 * c.w)
    top = c.top + 60 * c.u
    c.rect((x0 - 30, top - 40 * c.u, x1 + 30, c.ground), c.lit((170, 40, 50), glow=0.5))
    _balloons(c, (x0, top, x1, c.ground - 200 * c.u))
    c.rect((x0 - 30, top - 40 * c.u, x1 + 30, top), (250, 246, 236))
    for k in range(12):
        x = x0 + (x1 - x0) * (k + 0.5) / 12
        c.glow(x, top - 20 * c.u, 30 * c.u, WARM, 0.8)
        c.circle(x, top - 20 * c.u, 8 * c.u, (255, 246, 210))
    _goldfish_pool(c, (x0 + 40 * c.u, c.ground - 170 * c.u, x1 - 40 * c.u, c.ground - 10))
    lantern_string(c, c.top + 10, 30 * c.u, 18 * c.u)
    c.ground_band((50, 40, 50))


def _balloons(c: Canvas, box: tuple[float, float, float, float]) -> None:
    """A lit board covered in rows of balloons."""
    x0, y0, x1, y1 = box
    c.rect(box, c.lit((240, 236, 220), glow=0.6))
    colors = ((240, 60, 70), (250, 200, 50), (60, 150, 230), (80, 200, 120), (240, 120, 200))
    r = 34 * c.u
    for y in range(int(y0 + r * 1.6), int(y1 - r), int(r * 2.5)):
        for x in range(int(x0 + r * 1.5), int(x1 - r), int(r * 2.3)):
            f, color = Frame(c, x, y, r), c.pick(colors)
            f.ellipse(0, 0, 0.85, 1, color)
            f.ellipse(-0.3, -0.4, 0.18, 0.26, WHITE, 170)
            f.poly([(0, 0.95), (-0.18, 1.2), (0.18, 1.2)], color)


def _goldfish_pool(c: Canvas, box: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = box
    c.rect((x0 - 14, y0 - 14, x1 + 14, y1 + 10), c.lit((70, 140, 200), glow=0.4), 30)
    c.rect(box, c.lit((120, 200, 240), glow=0.4), 24)
    fishes = ((255, 110, 30), (255, 150, 40), (240, 80, 40), (250, 250, 240))
    for _ in range(int((x1 - x0) / (60 * c.u))):
        x, y = c.uniform(x0 + 40, x1 - 40), c.uniform(y0 + 30, y1 - 30)
        f, fish = Frame(c, x, y, c.uniform(16, 24) * c.u), c.pick(fishes)
        side = c.pick((1, -1))
        f.ellipse(0, 0, 1.3, 0.7, fish)
        f.poly([(-side * 1.1, 0), (-side * 2.0, -0.8), (-side * 2.0, 0.8)], fish)


def recycling(c: Canvas) -> None:
    """Sorting bins with the recycling sign by a park path, trees behind."""
    c.sky(sun=(c.uniform(0.1, 0.9), 0.3), clouds=3)
    c.fill_below(c.ridge(c.stage(0.6), 40 * c.u, 2, 2, False), c.lit((110, 170, 90)))
    for x in c.spread(max(2, int(c.w / 500))):
        round_tree(c, x, c.stage(0.64), c.uniform(200, 300) * c.u, c.lit((70, 140, 70)))
    bins = ((40, 110, 200), (60, 160, 80), (240, 190, 40), (130, 130, 136))
    count = 3 if c.tall else 4
    width = min(c.w / (count + 1.5), 300 * c.u)
    for k in range(count):
        f = Frame(c, c.w / 2 + (k - (count - 1) / 2) * width * 1.15, c.ground, width)
        color = c.lit(bins[k])
        f.rect((-0.5, -1.27, 0.5, 0), color, 0.05)
        f.rect((-0.55, -1.37, 0.55, -1.23), mix(color, (0, 0, 0), 0.2), 0.03)
        _recycle_mark(Frame(c, *f.p(0, -0.7), width * 0.26))
    c.ground_band((130, 130, 120))


def _recycle_mark(f: Frame) -> None:
    """Three arrows chasing each other round a triangle (the recycling sign), one unit radius."""
    corners = [(math.cos(a), math.sin(a)) for a in (math.radians(d) for d in (-90, 30, 150))]
    for k in range(3):
        (ax, ay), (bx, by) = corners[k], corners[(k + 1) % 3]
        start, end = (
            (ax + (bx - ax) * 0.15, ay + (by - ay) * 0.15),
            (ax + (bx - ax) * 0.72, ay + (by - ay) * 0.72),
        )
        f.line([start, end], WHITE, 0.18)
        angle = math.atan2(by - ay, bx - ax)
        head = [
            (end[0] + math.cos(angle + t) * r, end[1] + math.sin(angle + t) * r)
            for t, r in ((0, 0.3), (1.9, 0.25), (-1.9, 0.25))
        ]
        f.poly(head, WHITE)
