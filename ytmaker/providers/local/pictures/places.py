"""Places people go: city, temple, night market, market, shop, school, station, festival, trips.

Buildings and vehicles are drawn in a Frame (local units around a point, see canvas.Frame).
"""

from __future__ import annotations

import math

from ytmaker.providers.local.pictures.canvas import Canvas, Color, Frame, Point, mix
from ytmaker.providers.local.pictures.props import (
    CLOTHES,
    WARM,
    WHITE,
    bulbs,
    crowd,
    lantern,
    lantern_string,
    person,
    pine,
    rope,
    round_tree,
    steam,
    windows,
)

AWNINGS = ((214, 52, 52), (240, 160, 40), (40, 120, 190), (60, 150, 90), (200, 70, 140))
NEON = ((255, 90, 90), (255, 200, 80), (110, 200, 255), (255, 120, 220), (120, 255, 170))
LANTERNS = ((214, 40, 40), (214, 40, 40), (236, 150, 40))


def _skyline(c: Canvas, low: float, high: float, color: Color, lit: float) -> None:
    """A row of plain buildings on the ground line, heights between two shares of the stage."""
    x = -c.uniform(0, 60)
    while x < c.w:
        w, top = c.uniform(90, 200) * c.u, c.stage(c.uniform(low, high))
        c.rect((x, top, x + w - 6 * c.u, c.ground), color)
        windows(c, (x + 8, top, x + w - 14, c.ground - 10), (12 * c.u, 16 * c.u), lit)
        x += w


def _trapezoid(f: Frame, y: float, bottom: float, top: float, height: float, color: Color) -> None:
    """A band from half-width `bottom` at y up to half-width `top` at y - height."""
    f.poly([(-bottom, y), (bottom, y), (top, y - height), (-top, y - height)], color)


def taipei_101(c: Canvas, f: Frame, color: Color) -> None:
    """Taipei 101 (one unit tall): a wide base, eight flaring sections, a spire."""
    _trapezoid(f, 0, 0.115, 0.088, 0.2, color)
    edge = mix(color, WHITE, 0.18)
    for k in range(8):
        y = -0.2 - k * 0.075
        _trapezoid(f, y, 0.068, 0.086, 0.075, color)
        f.line([(-0.086, y - 0.075), (0.086, y - 0.075)], edge, 0.004)
        if c.light.dark:
            f.rect((-0.055, y - 0.04, 0.055, y - 0.035), c.lit(WARM, glow=1.0), 0, 160)
    f.rect((-0.044, -0.86, 0.044, -0.8), color)
    f.rect((-0.024, -0.9, 0.024, -0.86), color)
    f.line([(0, -0.9), (0, -1)], color, 0.007)


def city(c: Canvas) -> None:
    """A skyline with Taipei 101, street lamps along the front."""
    c.sky(sun=(c.uniform(0.1, 0.9), c.uniform(0.2, 0.5)), clouds=3)
    hills = c.ridge(c.stage(0.62), (c.ground - c.top) * 0.2, 2, 3)
    c.fill_below(hills, c.haze((70, 100, 110), 0.25))
    _skyline(c, 0.45, 0.7, c.haze((110, 120, 140), 0.45), 0.3)
    tower = Frame(c, c.uniform(0.25, 0.75) * c.w, c.ground, (c.ground - c.top) * 0.92)
    taipei_101(c, tower, c.haze((80, 110, 120), 0.7))
    _skyline(c, 0.62, 0.86, c.haze((60, 66, 84), 0.95), 0.5)
    for x in c.spread(int(c.w / 160)):  # street lamps
        lamp = Frame(c, x, c.ground, 100 * c.u)
        lamp.line([(0, 0), (0, -0.9)], (40, 40, 46), 0.04)
        if c.light.dark:
            c.glow(*lamp.p(0, -0.92), 40 * c.u, WARM, 0.8)
        lamp.circle(0, -0.92, 0.07, c.lit(WARM, glow=1.0))
    c.ground_band((70, 74, 84))


def _curved_roof(c: Canvas, f: Frame, half: float, color: Color) -> None:
    """A temple roof one unit high on its eaves at (0, 0): eaves lifting at the corners, a ridge
    whose ends sweep up into swallowtails, two dragons and a pearl on it."""
    ridge_half = half * 0.72
    eaves = [(half * t, -0.35 * abs(t) ** 5) for t in (i / 20 - 1 for i in range(41))]
    f.poly([*eaves, (ridge_half, -1), (-ridge_half, -1)], color)
    ridge = [
        (-ridge_half - 0.4, -1.72),
        (-ridge_half, -1),
        (ridge_half, -1),
        (ridge_half + 0.4, -1.72),
    ]
    f.line(ridge, mix(color, (0, 0, 0), 0.25), 0.16)
    f.line(eaves, mix(color, (255, 230, 160), 0.35), 0.07)
    for t in (-0.5, 0.5):  # the dragons: two curling lines
        curl = [
            (ridge_half * t + 0.5 * math.cos(a), -1.2 - 0.25 * math.sin(a))
            for a in (i * 0.35 for i in range(10))
        ]
        f.line(curl, c.lit((60, 150, 110)), 0.06)
    f.circle(0, -1.28, 0.16, c.lit((240, 190, 60), glow=0.4))


def temple(c: Canvas) -> None:
    """A Taiwanese temple: red pillars, lanterns under curved roofs, smoke from the censer."""
    c.sky(sun=(c.pick((c.uniform(0.1, 0.3), c.uniform(0.7, 0.9))), 0.3), clouds=2)
    scale = 100 * min(1.0, c.w / 1920 * 1.5) * c.u
    f = Frame(c, c.w / 2, c.ground - 20 * c.u, scale)  # units of 100 px on a landscape picture
    red = c.lit((176, 40, 34))
    roof = c.lit(c.pick([(200, 110, 50), (60, 120, 100), (180, 70, 40)]))
    for side in (-1, 1):  # the lower side halls
        f.rect((side * 5.46 - 2.08, -1.7, side * 5.46 + 2.08, 0), mix(red, (0, 0, 0), 0.12))
        _curved_roof(c, Frame(c, *f.p(side * 5.46, -1.6), scale * 0.6), 4.33, roof)
    _hall(c, f, red)
    _curved_roof(c, Frame(c, *f.p(0, -3.2), scale * 1.1), 5.3, roof)
    _curved_roof(c, Frame(c, *f.p(0, -4.7), scale * 0.8), 3.9, roof)
    f.rect((-2.08, -4.4, 2.08, -4.0), red)
    for k in range(-2, 3):
        lantern(c, *f.p(k * 1.98, -2.5), 0.26 * scale)
    f.rect((-7.8, 0, 7.8, (c.ground + 2 - f.y) / f.s), c.lit((170, 160, 150)))  # the terrace
    _censer(c, Frame(c, c.w / 2, c.ground, 0.7 * scale))
    c.ground_band((150, 140, 130))


def _hall(c: Canvas, f: Frame, red: Color) -> None:
    """The main hall's front: a painted beam, five doors with gold studs, seven pillars."""
    f.rect((-4.68, -3.0, 4.68, 0), red)
    f.rect((-4.78, -3.3, 4.78, -2.9), c.lit((40, 90, 140)))
    beam = ((230, 180, 60), (60, 160, 120), (220, 80, 60))
    for k in range(12):
        x = -4.78 + 9.57 * k / 12
        f.rect((x + 0.04, -3.22, x + 0.76, -2.98), c.lit(c.pick(beam)))
    gold = c.lit((240, 200, 80), glow=0.3)
    for k in range(-2, 3):
        x = k * 1.77
        f.rect((x - 0.62, -2.3, x + 0.62, 0), c.lit((150, 30, 26)))
        for row in range(4):
            for col in (-0.31, 0.31):
                f.circle(x + col, -2.0 + row * 0.45, 0.05, gold)
    for k in range(-3, 4):
        f.rect((k * 1.51 - 0.12, -3.0, k * 1.51 + 0.12, 0), c.lit((150, 24, 20)))


def _censer(c: Canvas, f: Frame) -> None:
    """A bronze incense burner on three legs, smoke curling up."""
    bronze = c.lit((110, 84, 50))
    for x in (-0.7, 0, 0.7):
        f.rect((x - 0.08, -0.5, x + 0.08, 0), bronze)
    f.chord((-1, -1.6, 1, -0.3), 0, 180, bronze)
    f.rect((-1.1, -1.05, 1.1, -0.9), mix(bronze, (0, 0, 0), 0.2))
    steam(c, f.x, f.p(0, -1.1)[1], f.s * 3.5, f.s * 1.2)


def _stall(c: Canvas, f: Frame, width: float) -> None:
    """A food stall one unit high standing at (0, 0), `width` units wide: a lit inside, a
    scalloped striped awning, bulbs, bowls on the counter, sometimes steam."""
    awning, after_dark = c.pick(AWNINGS), c.light.dark
    f.rect((0, -0.8, width, 0), mix(c.lit((80, 60, 40)), WARM, 0.6 if after_dark else 0.25))
    c.glow(*f.p(width / 2, -0.45), width * 0.6 * f.s, WARM, 0.7 if after_dark else 0.3)
    f.rect((-0.04, -1, width + 0.04, -0.88), c.lit(mix(awning, WHITE, 0.2), glow=0.7))
    step = (width + 0.08) / 7
    for k in range(7):
        x, color = -0.04 + k * step, c.lit(awning if k % 2 == 0 else (250, 246, 236), glow=0.3)
        f.rect((x, -0.88, x + step + 0.01, -0.76), color)
        f.chord((x, -0.81, x + step, -0.71), 0, 180, color)
    for k in range(4):
        x = width * (k + 0.5) / 4
        f.line([(x, -0.72), (x, -0.64)], (40, 40, 40), 0.008)
        c.glow(*f.p(x, -0.62), 24 * c.u, WARM, 0.9)
        f.circle(x, -0.62, 7 * c.u / f.s, (255, 246, 210))
    f.rect((0, -0.3, width, 0), c.lit(mix(awning, (60, 40, 30), 0.55)))
    bowl, dishes = 34 * c.u / f.s, ((240, 236, 226), (200, 120, 60), (230, 180, 80))
    for k in range(int(width / bowl)):
        x = bowl * (k + 0.6)
        f.chord(
            (x - bowl * 0.4, -0.34, x + bowl * 0.4, -0.27), 180, 360, c.lit(c.pick(dishes), 0.4)
        )
    if c.chance(0.6):
        steam(c, *f.p(width * c.uniform(0.3, 0.7), -0.35), f.s * 0.4, width * f.s * 0.3)


def night_market(c: Canvas) -> None:
    """A street of food stalls after dark: seen head-on, or looking down the street."""
    c.sky(sun=None, clouds=1)
    c.pick((_stall_row, _market_street))(c)


def _stall_row(c: Canvas) -> None:
    """Stalls side by side: signs on the buildings behind, bulbs, a crowd against the light."""
    x = -c.uniform(0, 80)
    while x < c.w:  # buildings behind, with glowing vertical signs
        w, top = c.uniform(160, 260) * c.u, c.stage(c.uniform(0.05, 0.3))
        c.rect((x, top, x + w - 10, c.ground), c.haze((44, 40, 56), 0.8))
        windows(c, (x + 10, top, x + w - 20, c.stage(0.5)), (14 * c.u, 18 * c.u), 0.4)
        if c.chance(0.6):
            _sign(c, Frame(c, x + w * c.uniform(0.2, 0.7), top + 20 * c.u, 36 * c.u))
        x += w
    bulbs(c, c.stage(0.28), 40 * c.u, 70 * c.u)
    x, height = -c.uniform(0, 40), (c.ground - c.top) * 0.5
    while x < c.w:
        w = c.uniform(220, 300) * c.u
        _stall(c, Frame(c, x, c.ground, height), (w - 16 * c.u) / height)
        x += w
    crowd(c, c.ground + 6, (c.ground - c.top) * 0.33, (18, 16, 24), 0.8)
    c.ground_band((60, 48, 44))


def _sign(c: Canvas, f: Frame) -> None:
    """A glowing vertical shop sign one unit wide; blocks of light on it, not letters."""
    color = c.pick(NEON)
    c.glow(*f.p(0.5, 2.8), f.s * 3, color, 0.5)
    f.rect((0, 0, 1, 5.5), color, 0.1)
    for k in range(4):
        f.rect((0.22, 0.4 + 1.28 * k, 0.78, 1.2 + 1.28 * k), mix(color, WHITE, 0.6), 0.08)


def _market_street(c: Canvas) -> None:
    """Looking down a night-market street: stalls on both sides shrinking towards the far end,
    lanterns strung across, people walking between them."""
    vx, vy = c.w * c.uniform(0.42, 0.58), c.stage(0.42)
    c.glow(vx, vy, (c.ground - c.top) * 0.5, WARM, 0.6)
    far, near = mix(c.lit((90, 70, 60)), WARM, 0.55), mix(c.lit((90, 70, 60)), WARM, 0.25)
    c.gradient((0, vy + (c.ground - vy) * 0.08, c.w, c.ground + 2), far, near)  # the lit street
    for k in range(8):  # far to near: each row bigger and further out to the sides
        s = 0.08 + 0.92 * (k / 7) ** 1.6
        height, foot = (c.ground - vy) * 2.2 * s, vy + (c.ground - vy) * s
        width, edge = c.w * 0.22 * s + 20, c.w * 0.55 * s + 24 * c.u
        for x0 in (vx + edge, vx - edge - width):
            c.rect((x0, foot - height * 1.6, x0 + width, foot), c.haze((50, 44, 60), 0.5 + 0.5 * s))
            if c.chance(0.5):
                _sign(c, Frame(c, x0 + width * 0.4, foot - height * 1.5, max(8, width * 0.12)))
            _stall(c, Frame(c, x0, foot, height * 0.7), width / (height * 0.7))
        _lanterns_across(c, (vx - edge, vx + edge, foot - height * 1.05), height * 0.12, s)
    for _ in range(int(c.rng.integers(10, 18))):  # walkers between the stalls
        s = c.uniform(0.25, 1.0)
        foot, x = vy + (c.ground - vy) * s + 6, vx + c.uniform(-0.45, 0.45) * c.w * s
        person(c, x, foot, (c.ground - c.top) * 0.42 * s, mix((18, 16, 24), WARM, 0.08 * (1 - s)))
    c.ground_band(near, glow=1.0)


def _lanterns_across(c: Canvas, line: tuple[float, float, float], sag: float, scale: float) -> None:
    """A rope strung across the street, (left, right, height), with lanterns hanging from it."""
    points = rope(c, *line, sag, 16)
    c.line(points, (30, 24, 20), max(1, 3 * scale))
    for x, y in points[2:-2:3]:
        lantern(c, x, y + 30 * scale * c.u, max(4, 26 * scale * c.u), c.pick(LANTERNS))


def market(c: Canvas) -> None:
    """A morning market: striped umbrellas over tables of fruit and vegetables, shoppers."""
    c.sky(sun=(c.uniform(0.2, 0.8), 0.2), clouds=3)
    _skyline(c, 0.3, 0.55, c.haze((190, 180, 170), 0.55), 0.2)
    for x in c.spread(max(2, int(c.w / 480)), 0, 0.15):
        _produce_stand(c, Frame(c, x, c.ground, 100 * c.u), c.stage(c.uniform(0.3, 0.4)))
    for x in c.spread(int(c.rng.integers(3, 6))):
        dress = c.lit(c.pick(CLOTHES))
        person(c, x, c.ground + 4, c.uniform(170, 210) * c.u, dress, bag=c.chance(0.5))
    c.ground_band((120, 110, 100))


def _produce_stand(c: Canvas, f: Frame, umbrella_y: float) -> None:
    """A table of crates heaped with fruit under a striped umbrella (units of 100 px)."""
    top = (umbrella_y - f.y) / f.s
    f.line([(0, top), (0, 0)], (70, 60, 50), 0.06)
    awning = c.pick(AWNINGS)
    for k in range(8):
        stripe = c.lit(awning if k % 2 == 0 else (250, 246, 236))
        c.pieslice(
            f.box(-2.3, top - 1.03, 2.3, top + 1.03), 180 + k * 22.5, 202.5 + k * 22.5, stripe
        )
    f.rect((-2.2, -1.2, 2.2, 0), c.lit((130, 92, 60)))
    produce = ((220, 50, 40), (250, 150, 30), (110, 170, 50), (250, 210, 60), (140, 60, 140))
    for crate in range(3):
        x0, fruit = -2.07 + crate * 1.43, c.pick(produce)
        f.rect((x0, -1.6, x0 + 1.29, -1.1), c.lit((170, 124, 72)))
        for row in range(2):
            for k in range(5):
                x, y = x0 + 0.18 + k * 0.22 + row * 0.11, -1.64 - row * 0.16
                f.circle(x, y, 0.14, c.lit(mix(fruit, (0, 0, 0), 0.1 * row)))
                f.circle(x - 0.04, y - 0.04, 0.04, c.lit(mix(fruit, WHITE, 0.5)))


def shop(c: Canvas) -> None:
    """A small shop front: a sign with a cup on it, a striped awning, a lit counter, a scooter."""
    c.sky(sun=(c.uniform(0.1, 0.9), 0.2), clouds=2)
    x0, x1 = (0.04 * c.w, 0.96 * c.w) if c.tall else (0.12 * c.w, 0.88 * c.w)
    for left, right in ((0, x0), (x1, c.w)):  # the neighbours
        c.rect((left, c.stage(0.05), right, c.ground), c.lit((200, 190, 176)))
        windows(c, (left, c.stage(0.05), right, c.stage(0.6)), (40 * c.u, 50 * c.u), 0.4)
    f = Frame(c, x0, c.stage(0.12), 100 * c.u)  # the facade's top left corner, units of 100 px
    width, height, awning = (x1 - x0) / f.s, (c.ground - f.y) / f.s, c.pick(AWNINGS)
    f.rect(
        (0, 0, width, height), c.lit(c.pick([(240, 232, 214), (214, 226, 222), (236, 214, 206)]))
    )
    f.rect((0.4, 0.2, width - 0.4, 1.4), c.lit(awning, glow=0.5), 0.12)
    _cup_sign(Frame(c, *f.p(width / 2, 0.8), f.s), awning)
    step = (width + 0.4) / int(width / 0.7)
    for k in range(int(width / 0.7)):
        x, color = -0.2 + k * step, c.lit(awning if k % 2 == 0 else (250, 248, 240))
        f.poly([(x, 1.7), (x + step + 0.01, 1.7), (x + step + 0.1, 2.6), (x + 0.1, 2.6)], color)
    _counter(c, Frame(c, *f.p(0.6, 2.7), f.s), width - 1.2, height - 2.7)
    if c.chance(0.7):
        scooter(c, Frame(c, c.uniform(0.2, 0.8) * c.w, c.ground, 120 * c.u))
    c.ground_band((130, 126, 120))


def _cup_sign(f: Frame, color: Color) -> None:
    """A white cup with a straw and pearls: the shop's sign, a picture not a word."""
    f.poly([(-0.3, -0.4), (0.3, -0.4), (0.22, 0.44), (-0.22, 0.44)], WHITE)
    f.line([(0.08, -0.4), (0.22, -0.7)], WHITE, 0.08)
    for k in range(5):
        f.circle(-0.12 + k * 0.06, 0.32, 0.05, color)


def _counter(c: Canvas, f: Frame, width: float, height: float) -> None:
    """Inside the shop: warm light, a menu board of lines, someone serving, cups on the counter."""
    f.rect((0, 0, width, height), mix(c.lit((120, 96, 70)), WARM, 0.45))
    c.glow(*f.p(width / 2, 1.2), 3.8 * f.s, WARM, 0.5)
    f.rect((0.4, 0.3, 3.0, 2.0), (40, 44, 42), 0.08)
    for k in range(5):  # the menu: lines, no words
        f.line(
            [(0.6, 0.58 + k * 0.3), (0.6 + c.uniform(1.2, 2.1), 0.58 + k * 0.3)],
            (230, 230, 220),
            0.04,
        )
    person(c, *f.p(width - 2, height - 0.6), 2.3 * f.s, c.lit(c.pick(CLOTHES)))
    top = height - 1.1
    f.rect((0, top, width, height), c.lit((150, 104, 66)))
    flavours = ((206, 160, 110), (170, 130, 200), (140, 190, 110), (230, 200, 150))
    for k in range(int(width / 0.9)):
        x = 0.5 + k * 0.9
        f.poly(
            [(x - 0.18, top - 0.7), (x + 0.18, top - 0.7), (x + 0.13, top), (x - 0.13, top)],
            c.lit(c.pick(flavours)),
        )
        f.line([(x + 0.04, top - 0.7), (x + 0.1, top - 1.0)], c.lit((40, 40, 40)), 0.05)


def scooter(c: Canvas, f: Frame) -> None:
    """A scooter parked side-on, one unit about its wheelbase's half."""
    body = c.lit(c.pick([(220, 220, 214), (190, 40, 40), (60, 110, 170), (240, 200, 60)]))
    for x in (-1, 1):
        f.circle(x, -0.32, 0.32, (28, 28, 30))
        f.circle(x, -0.32, 0.13, (150, 150, 150))
    f.poly([(-1.3, -0.5), (0.2, -0.5), (0.4, -0.9), (-1.1, -1.0)], body)
    f.rect((-1.1, -1.1, -0.2, -0.95), (40, 36, 34), 0.06)
    f.poly([(0.55, -0.45), (1.2, -0.45), (0.95, -1.5), (0.7, -1.5)], body)
    f.line([(0.6, -1.55), (1.1, -1.6)], (40, 40, 40), 0.07)


def school(c: Canvas) -> None:
    """A school: a long building with rows of windows, a clock tower, a flag, pupils."""
    c.sky(sun=(c.uniform(0.1, 0.9), 0.3), clouds=3)
    wall, trim = c.lit((238, 226, 200)), c.lit((176, 74, 56))
    x0, x1, top = 0.06 * c.w, 0.94 * c.w, c.stage(0.4)
    c.rect((x0, top, x1, c.ground), wall)
    for share in (0, 0.33, 0.66):
        y = top + (c.ground - top) * share
        c.rect((x0, y - 8 * c.u, x1, y + 8 * c.u), trim)
    glass = c.lit((150, 200, 230))
    windows(c, (x0 + 20, top + 16 * c.u, x1 - 20, c.ground - 20), (60 * c.u, 54 * c.u), 0.7, glass)
    tower_x = c.uniform(0.4, 0.6) * c.w
    _clock_tower(c, Frame(c, tower_x, c.ground, 100 * c.u), wall, trim)
    pole = x0 + 60 * c.u if tower_x > c.w / 2 else x1 - 60 * c.u
    c.line([(pole, c.ground), (pole, c.stage(0.05))], (200, 200, 204), 6)
    c.rect(
        (pole + 3, c.stage(0.06), pole + 110 * c.u, c.stage(0.06) + 70 * c.u),
        c.lit(c.pick(AWNINGS)),
    )
    for x in c.spread(int(c.w / 260)):
        round_tree(c, x, c.ground + 4, c.uniform(150, 210) * c.u, c.lit((70, 140, 70)))
    for x in c.spread(int(c.rng.integers(3, 6)), 0.1 * c.w):
        person(c, x, c.ground + 6, c.uniform(120, 150) * c.u, c.lit(c.pick(CLOTHES)), bag=True)
    c.ground_band((150, 120, 100))


def _clock_tower(c: Canvas, f: Frame, wall: Color, trim: Color) -> None:
    top = (c.stage(0.12) - f.y) / f.s
    f.rect((-1.3, top, 1.3, 0), wall)
    f.poly([(-1.5, top), (0, (c.stage(0.02) - f.y) / f.s), (1.5, top)], trim)
    cy = (c.stage(0.23) - f.y) / f.s
    f.circle(0, cy, 0.7, trim)
    f.circle(0, cy, 0.62, (250, 250, 246))
    for angle, length, width in (
        (c.uniform(0, math.tau), 0.31, 0.07),
        (c.uniform(0, math.tau), 0.5, 0.04),
    ):
        f.line(
            [(0, cy), (math.sin(angle) * length, cy - math.cos(angle) * length)],
            (30, 30, 30),
            width,
        )
    f.rect((-0.6, -1.5, 0.6, 0), c.lit((120, 80, 56)))


def train(c: Canvas) -> None:
    """A train on its tracks across the hills (red and cream, like the Alishan forest line)."""
    c.sky(sun=(c.uniform(0.1, 0.9), 0.3), clouds=3)
    c.fill_below(
        c.ridge(c.stage(0.55), (c.ground - c.top) * 0.3, 3, 4), c.haze((70, 110, 100), 0.35)
    )
    c.fill_below(c.ridge(c.stage(0.72), 40 * c.u, 3, 3, False), c.haze((70, 130, 70), 0.7))
    for x in c.spread(int(c.w / 90), -40, 0.5):
        pine(c, x, c.stage(0.76), c.uniform(80, 140) * c.u, c.haze((40, 90, 50), 0.85))
    rail = c.ground - 24 * c.u
    c.rect((0, rail, c.w, c.ground + 2), c.lit((120, 110, 100)))
    for x in range(0, c.w, int(40 * c.u)):  # sleepers
        c.rect((x, rail + 6 * c.u, x + 18 * c.u, c.ground), c.lit((90, 70, 50)))
    c.line([(0, rail + 4), (c.w, rail + 4)], (190, 190, 196), 5)
    body = c.lit(c.pick([(190, 40, 40), (40, 100, 170), (230, 140, 40)]))
    f = Frame(c, c.uniform(0.05, 0.35) * c.w, rail, 100 * c.u)  # the nose, on the rail
    for k in range(6):
        _carriage(c, Frame(c, *f.p(k * 4.36, 0), f.s), body, front=k == 0)
    c.glow(*f.p(0.1, -0.55), 70 * c.u, (255, 250, 220), 0.8)
    f.circle(0.14, -0.55, 0.1, (255, 252, 230))
    c.ground_band((90, 100, 80))


def _carriage(c: Canvas, f: Frame, body: Color, front: bool) -> None:
    """A carriage 4.2 units long on the rail at (0, 0): windows, a stripe, a roof with its
    boxes, two bogies of small wheels; the front one has a sloping nose and a windscreen."""
    start = 0.9 if front else 0.0
    f.rect((start, -2.0, 4.2, -0.3), body, 0.08)
    f.rect((start + 0.3, -2.14, 4.0, -1.96), mix(body, (40, 40, 40), 0.5), 0.04)
    if front:
        f.poly([(0.95, -2.0), (0.95, -0.3), (0.0, -0.3), (0.0, -0.9), (0.45, -1.9)], body)
        f.poly([(0.9, -1.85), (0.9, -1.2), (0.22, -1.2), (0.5, -1.78)], (40, 50, 70))
    f.rect((0, -0.95, 4.2, -0.75), c.lit((240, 230, 200)))
    glass = c.lit(WARM, glow=1.0) if c.light.dark else mix(c.light.horizon, WHITE, 0.3)
    for k in range(4 if front else 5):
        x = start + 0.3 + k * 0.74
        f.rect((x, -1.76, x + 0.5, -1.15), glass, 0.06)
    for middle in (0.7, 3.5):  # bogies
        f.rect((middle - 0.42, -0.36, middle + 0.42, -0.2), (40, 40, 44), 0.04)
        for x in (middle - 0.24, middle + 0.24):
            f.circle(x, -0.14, 0.14, (30, 30, 32))
    f.rect((4.2, -0.7, 4.36, -0.56), (40, 40, 40))


def festival(c: Canvas) -> None:
    """A festival night: sky lanterns rising over the hills, or fireworks, and people watching."""
    c.sky(sun=None, clouds=1)
    c.fill_below(c.ridge(c.stage(0.78), 60 * c.u, 3, 3, False), c.haze((30, 30, 50), 0.8))
    c.pick((_sky_lanterns, _fireworks))(c)
    lantern_string(c, c.stage(0.02), 60 * c.u, 24 * c.u)
    crowd(c, c.ground + 6, (c.ground - c.top) * 0.3, (14, 12, 22), 0.7)
    c.ground_band((40, 36, 50))


def _sky_lanterns(c: Canvas) -> None:
    """Paper lanterns rising, small and high far away, big and low near."""
    for _ in range(int(40 * c.w / 1920) + 20):
        depth = c.rng.random()
        f = Frame(c, c.uniform(0, c.w), c.stage(0.05 + 0.75 * depth), (10 + 34 * depth) * c.u)
        c.glow(f.x, f.y, f.s * 2.6, (255, 170, 80), 0.5)
        f.poly([(-0.75, -1), (0.75, -1), (0.55, 1), (-0.55, 1)], (255, 200, 120))
        f.rect((-0.4, 0.5, 0.4, 1), (255, 240, 200))


def _fireworks(c: Canvas) -> None:
    colors = ((255, 90, 90), (255, 220, 90), (120, 200, 255), (200, 120, 255), (120, 255, 160))
    for _ in range(int(c.rng.integers(4, 8))):
        f, color = (
            Frame(
                c, c.uniform(0.1, 0.9) * c.w, c.stage(c.uniform(0.1, 0.5)), c.uniform(90, 180) * c.u
            ),
            c.pick(colors),
        )
        c.glow(f.x, f.y, f.s * 1.3, color, 0.35)
        for k in range(28):
            dx, dy = math.cos(k / 28 * math.tau), math.sin(k / 28 * math.tau)
            f.line([(dx * 0.3, dy * 0.3), (dx, dy)], color, 3 / f.s)
            f.circle(dx, dy, 4 * c.u / f.s, (255, 255, 240))


def travel(c: Canvas) -> None:
    """An aeroplane climbing over the clouds, and a traveller with a suitcase watching it."""
    c.sky(sun=(c.uniform(0.1, 0.9), 0.4), clouds=6)
    c.fill_below(c.ridge(c.stage(0.8), 50 * c.u, 3, 3, False), c.haze((80, 120, 90), 0.5))
    x = c.uniform(0.3, 0.7) * c.w
    _aeroplane(c, Frame(c, x, c.stage(c.uniform(0.2, 0.35)), 260 * c.u))
    f = Frame(c, 0.18 * c.w if x > c.w / 2 else 0.82 * c.w, c.ground, 100 * c.u)
    person(c, f.x, c.ground + 4, 2.2 * f.s, c.lit(c.pick(CLOTHES)), bag=True)
    f.rect(
        (0.5, -1.1, 1.3, -0.04),
        c.lit(c.pick([(230, 90, 70), (60, 130, 190), (240, 190, 60)])),
        0.12,
    )
    f.line([(0.7, -1.1), (0.7, -1.5), (1.1, -1.5), (1.1, -1.1)], (50, 50, 56), 0.06)
    for k in range(3):  # stickers
        f.circle(0.72 + k * 0.18, -0.7 + (k % 2) * 0.2, 0.09, c.lit(c.pick(CLOTHES)))
    c.ground_band((100, 120, 90))


def _aeroplane(c: Canvas, f: Frame) -> None:
    """An airliner seen from the side, nose up a little, trailing two contrails."""
    tilt = -0.18

    def at(dx: float, dy: float) -> Point:
        return (dx - dy * tilt, dy + dx * tilt)

    white, shade = c.lit((248, 248, 250)), c.lit((200, 206, 216))
    trail = mix(c.light.horizon, WHITE, 0.7)
    f.line([at(-1.0, -0.02), at(-4.0, 0.05)], trail, 0.04, 150)
    f.line([at(-1.0, 0.08), at(-4.0, 0.16)], trail, 0.03, 120)
    f.poly([at(-0.1, 0.05), at(0.15, 0.05), at(-0.35, 0.6), at(-0.5, 0.6)], shade)  # far wing
    f.poly([at(-1.0, -0.08), at(0.85, -0.1), at(1.05, 0.0), at(0.85, 0.1), at(-1.0, 0.08)], white)
    tail = c.lit(c.pick([(200, 50, 60), (40, 90, 170)]))
    f.poly([at(-0.95, -0.06), at(-0.75, -0.06), at(-0.98, -0.42), at(-1.1, -0.42)], tail)
    f.poly([at(-0.05, 0.0), at(0.2, 0.0), at(-0.3, -0.5), at(-0.45, -0.5)], shade)  # near wing
    for k in range(12):
        f.circle(*at(-0.7 + k * 0.11, -0.02), 0.02, c.lit((60, 80, 110)))
