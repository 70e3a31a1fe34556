"""Landscapes: mountains, tea gardens, sea, rivers, lakes, forests, rain, blossoms, rice fields."""

from __future__ import annotations

import math

from ytmaker.providers.local.pictures.canvas import RGB, Canvas, Color, Frame, Point, mix
from ytmaker.providers.local.pictures.props import WHITE, person, pine, round_tree

GREEN = (72, 128, 70)
BLUE_GREEN = (64, 104, 112)


def _ranges(
    c: Canvas, layers: int, first: float, last: float, color: Color = BLUE_GREEN
) -> list[list[Point]]:
    """Mountain ranges from far (hazy) to near (dark), each in front of the last."""
    lines = []
    for k in range(layers):
        depth = k / max(layers - 1, 1)
        base = c.stage(first + (last - first) * depth)
        amp = (c.ground - c.top) * (0.34 - 0.12 * depth)
        line = c.ridge(base, amp, knots=int(c.rng.integers(2, 4)) + k, octaves=5)
        c.fill_below(line, c.haze(mix(color, (20, 30, 30), 0.5 * depth), 0.3 + 0.7 * depth))
        lines.append(line)
    return lines


def _cloud_band(c: Canvas, top: float, bottom: float, strength: float = 1.0) -> None:
    """A sea of clouds or a morning mist lying between two heights."""
    color = mix(c.light.horizon, WHITE, 0.25 if c.light.dark else 0.6)
    c.mist((-100, top, c.w + 100, bottom), color, (120 if c.light.dark else 210) * strength)


def mountains(c: Canvas) -> None:
    """Ranges fading into the distance, snow on the far peaks, clouds below, pines in front."""
    c.sky(sun=(c.uniform(0.15, 0.85), c.uniform(0.25, 0.45)), clouds=3)
    lines = _ranges(c, 4, 0.42, 0.85)
    if c.chance(0.6):  # snow on the highest peaks
        line = lines[0]
        top = min(y for _, y in line)
        snowline = top + (max(y for _, y in line) - top) * 0.18
        capped = [(x, min(y, snowline)) for x, y in line]
        c.poly([*capped, (c.w, snowline), (0, snowline)], c.lit((246, 248, 252)), 235)
    if c.chance(0.6):
        _cloud_band(c, c.stage(0.62) - 60 * c.u, c.stage(0.62) + 90 * c.u)
    near, dark = lines[-1], c.haze((30, 60, 44), 1.0)
    for x, y in near[:: max(1, len(near) // 18)]:
        if c.chance(0.5):
            pine(c, x, y + 16, c.uniform(60, 120) * c.u, dark)
    c.ground_band(c.haze((40, 70, 50), 1.0))


def tea_garden(c: Canvas) -> None:
    """Rows of round tea bushes following a hillside, mountains in the mist, a cup of tea."""
    c.sky(sun=(c.uniform(0.2, 0.8), c.uniform(0.2, 0.4)), clouds=2)
    _ranges(c, 2, 0.35, 0.5)
    _cloud_band(c, c.stage(0.45), c.stage(0.62), 0.8)
    hill = c.ridge(c.stage(0.5), (c.ground - c.top) * 0.12, knots=2, octaves=2, ridged=False)
    c.fill_below(hill, c.lit((70, 96, 48)))
    bush, rows = c.lit((104, 160, 64)), 11
    gap = (c.ground - min(y for _, y in hill)) / rows
    for j in range(rows):  # nearer rows: bigger bushes, further apart
        r, offset = (6 + 3.2 * j) * c.u, gap * (j + 0.5) * (0.6 + 0.4 * j / rows)
        for x, y in hill[:: max(1, int(r / 4))]:
            c.circle(x, y + offset, r, mix(bush, (255, 255, 230), 0.04 * (j % 2)))
    if c.chance(0.7):
        picker = c.lit((70, 80, 110))
        person(c, c.uniform(0.15, 0.45) * c.w, c.stage(0.86), 150 * c.u, picker, hat=True)
    x = c.uniform(0.66, 0.8) * c.w
    teacup(c, Frame(c, x, c.ground, 95 * c.u))
    teapot(
        c, Frame(c, x - 2.9 * 95 * c.u if x > c.w / 2 else x + 2.9 * 95 * c.u, c.ground, 95 * c.u)
    )
    c.ground_band((60, 86, 44))


def teacup(c: Canvas, f: Frame) -> None:
    """A handle-less tea cup on its saucer, steaming (one unit: the cup's radius)."""
    porcelain = c.lit((242, 240, 232))
    f.ellipse(0, -0.12, 1.6, 0.25, mix(porcelain, (0, 0, 0), 0.1))
    f.chord((-1, -1.9, 1, 0), 0, 180, porcelain)
    f.ellipse(0, -0.95, 1, 0.22, mix(porcelain, (0, 0, 0), 0.12))
    f.ellipse(0, -0.93, 0.86, 0.16, c.lit((176, 122, 40)))
    for k in (-1, 1):
        wisp = [
            (k * 0.3 + 0.18 * math.sin(t * 5), -1.1 - t * 1.6) for t in (i / 10 for i in range(11))
        ]
        f.line(wisp, WHITE, 0.06, 110)


def teapot(c: Canvas, f: Frame) -> None:
    """A round clay teapot with a spout, a lid and a handle."""
    clay, dark = c.lit((150, 84, 52)), c.lit((130, 70, 44))
    f.ellipse(0, -0.8, 1.05, 0.8, clay)
    f.rect((-0.45, -1.7, 0.45, -1.45), dark, 0.1)
    f.circle(0, -1.8, 0.15, dark)
    f.poly([(0.8, -0.9), (1.6, -1.55), (1.7, -1.45), (0.95, -0.5)], clay)
    f.arc((-1.55, -1.4, -0.6, -0.3), 90, 270, dark, 0.14)


def sea(c: Canvas) -> None:
    """The open sea with the sun's road on it, waves, a sailboat, gulls and a beach."""
    horizon, sun_x = c.stage(0.52), c.uniform(0.2, 0.8)
    c.sky(horizon, sun=(sun_x, 0.75), clouds=4)
    if c.chance(0.6):  # an island on the horizon
        island = c.uniform(120, 260) * c.u
        c.ellipse(c.uniform(0.1, 0.9) * c.w, horizon, island, 40 * c.u, c.haze(BLUE_GREEN, 0.35))
    water = mix(c.light.horizon, c.lit((30, 100, 150)), 0.55)
    c.gradient((0, horizon, c.w, c.ground + 2), water, c.lit((18, 70, 110)))
    _glitter(c, horizon, sun_x * c.w, mix(c.light.sun, WHITE, 0.3))
    crest = mix(water, WHITE, 0.55)
    for _ in range(60):  # wave crests, bigger near
        t = c.rng.random()
        x, y, w = (
            c.uniform(0, c.w),
            horizon + 10 + t * (c.ground - horizon - 30),
            (12 + 50 * t) * c.u,
        )
        c.arc((x - w, y - w * 0.2, x + w, y + w * 0.2), 200, 340, crest, 2 + 2 * t)
    _beach(c, horizon)
    if c.chance(0.7):
        y = horizon + (c.ground - horizon) * 0.35
        _sailboat(c, Frame(c, c.uniform(0.15, 0.85) * c.w, y, 90 * c.u))
    for _ in range(int(c.rng.integers(2, 6))):  # gulls
        f = Frame(
            c, c.uniform(0.1, 0.9) * c.w, c.stage(c.uniform(0.1, 0.35)), c.uniform(10, 22) * c.u
        )
        f.line([(-1, -0.4), (0, 0), (1, -0.4)], c.lit((50, 50, 60)), 3 / f.s)
    c.ground_band((214, 190, 140))


def _glitter(c: Canvas, horizon: float, x: float, color: Color) -> None:
    """The sun's (or moon's) road on the water: short bright strokes widening towards us."""
    for _ in range(70):
        t = c.rng.random() ** 1.4
        y = horizon + 4 + t * (c.ground - horizon - 40)
        sx, w = x + c.rng.normal(0, 30 + 160 * t), c.uniform(10, 50) * (0.4 + t)
        c.rect((sx - w, y, sx + w, y + 2 + 3 * t), color, 3, c.uniform(80, 200))


def _beach(c: Canvas, horizon: float) -> None:
    """Sand coming in from one side with a line of foam; sometimes a palm tree on it."""
    left = c.chance(0.5)
    y0 = horizon + (c.ground - horizon) * c.uniform(0.55, 0.75)
    shore = [
        (c.w * t, y0 + (c.ground - y0) * (t if left else 1 - t) ** 1.6 + 12 * math.sin(t * 9))
        for t in (i / 40 for i in range(41))
    ]
    c.poly([*shore, (c.w, c.ground + 2), (0, c.ground + 2)], c.lit((226, 202, 150)))
    c.line(shore, (250, 250, 246), 5, 200)
    if c.chance(0.7):
        palm(c, Frame(c, c.w * (0.1 if left else 0.9), c.ground, 330 * c.u))


def palm(c: Canvas, f: Frame) -> None:
    """A leaning palm tree one unit tall."""
    trunk = [(0.18 * t**2, -t) for t in (i / 10 for i in range(11))]
    f.line(trunk, c.lit((120, 90, 60)), 0.05)
    (tx, ty), leaf = trunk[-1], c.lit((40, 110, 60))
    for angle in (200, 230, 260, 290, 320, 350, 20):
        a = math.radians(angle)
        end = (tx + math.cos(a) * 0.42, ty + math.sin(a) * 0.3 + 0.12)
        f.line([(tx, ty), ((tx + end[0]) / 2, min(ty, end[1]) - 0.06), end], leaf, 0.035)


def _sailboat(c: Canvas, f: Frame) -> None:
    sail = c.lit((250, 250, 246))
    f.poly([(-1, 0), (1, 0), (0.7, 0.3), (-0.7, 0.3)], c.lit((150, 60, 50)))
    f.line([(0, 0), (0, -2)], c.lit((60, 50, 40)), 3 / f.s)
    f.poly([(0.04, -1.9), (0.04, -0.1), (0.9, -0.1)], sail)
    f.poly([(-0.04, -1.6), (-0.04, -0.1), (-0.7, -0.1)], mix(sail, (0, 0, 0), 0.08))


def river(c: Canvas) -> None:
    """A river winding from the hills into the foreground, trees on its banks, maybe a bridge."""
    horizon = c.stage(0.5)
    c.sky(horizon, sun=(c.uniform(0.2, 0.8), 0.5), clouds=3)
    _ranges(c, 2, 0.32, 0.48)
    c.fill_below(c.ridge(horizon, 30, 3, 3, False), c.lit(mix(GREEN, (120, 150, 90), 0.3)))
    left, right = _river_banks(c, horizon)
    water = mix(c.light.horizon, c.lit((40, 120, 190)), 0.7)
    c.poly([*left, *reversed(right)], water)
    for bank in (left, right):
        c.line(bank, mix(water, WHITE, 0.4), 3)
    for (lx, y), (rx, _) in list(zip(left, right, strict=True))[1:30:2]:  # ripples
        for _ in range(2):
            x, w = c.uniform(lx, rx), (rx - lx) * 0.08
            c.line([(x - w, y), (x + w, y)], WHITE, 2, 110)
    trees = c.lit((58, 108, 58))
    for side, bank in ((-1, left), (1, right)):
        for k in range(0, 31, 5):
            if c.chance(0.6):
                x, y = bank[k]
                round_tree(c, x + side * 60 * c.u, y, (50 + 160 * k / 30) * c.u, trees)
    if c.chance(0.55):
        _bridge(c, left[12], right[12])
    c.ground_band(GREEN)


def _river_banks(c: Canvas, horizon: float) -> tuple[list[Point], list[Point]]:
    """The two banks of a river that starts narrow on the horizon and swings as it widens."""
    vx, phase, swing = (
        c.uniform(0.35, 0.65) * c.w,
        c.uniform(0, math.pi),
        c.uniform(0.08, 0.16) * c.w,
    )
    left, right = [], []
    for t in (i / 30 for i in range(31)):
        y = horizon + 6 + (c.ground - horizon) * t**1.3
        middle, half = vx + math.sin(phase + t * 4) * swing * t, 8 + t * 0.32 * c.w
        left.append((middle - half, y))
        right.append((middle + half, y))
    return left, right


def _bridge(c: Canvas, left: Point, right: Point) -> None:
    """An arched bridge with a railing across the river between two bank points."""
    (x0, y), x1 = left, right[0]
    span = x1 - x0 + 120 * c.u
    middle, rise = (x0 + x1) / 2, span * 0.18
    color = c.lit(c.pick([(200, 60, 50), (170, 160, 150)]))
    deck = [
        (middle + span / 2 * t, y - rise * (1 - t * t)) for t in (i / 20 - 1 for i in range(41))
    ]
    c.line(deck, color, 14 * c.u)
    c.line([(x, dy - 24 * c.u) for x, dy in deck], color, 4 * c.u)
    for x, dy in deck[::5]:
        c.line([(x, dy), (x, dy - 24 * c.u)], color, 3 * c.u)


def lake(c: Canvas) -> None:
    """Mountains mirrored in still water, a pagoda on a hill, a boat."""
    horizon = c.stage(0.58)
    c.sky(horizon, sun=(c.uniform(0.2, 0.8), 0.45), clouds=3)
    far = c.ridge(horizon - 10, (horizon - c.top) * 0.45, 3, 5)
    near = c.ridge(horizon, (horizon - c.top) * 0.25, 4, 4)
    water = mix(c.light.horizon, c.lit((50, 100, 130)), 0.4)
    c.gradient((0, horizon, c.w, c.ground + 2), water, c.lit((30, 64, 90)))
    for line, color in ((far, c.haze(BLUE_GREEN, 0.35)), (near, c.haze((44, 84, 60), 0.8))):
        c.fill_below(line, color, horizon)
        mirrored = [(x, 2 * horizon - y) for x, y in line]
        c.poly([*mirrored, (c.w, horizon), (0, horizon)], mix(color, water, 0.45), 200)
    if c.chance(0.6):
        x = c.uniform(0.15, 0.85) * c.w
        hilltop = min(y for px, y in near if abs(px - x) < 40)
        _pagoda(c, Frame(c, x, hilltop + 6, 130 * c.u))
    for _ in range(26):  # ripples catch the light
        y, x = c.uniform(horizon + 8, c.ground - 10), c.uniform(0, c.w)
        c.line([(x - 40 * c.u, y), (x + 40 * c.u, y)], mix(water, WHITE, 0.5), 2, 140)
    if c.chance(0.7):
        boat = Frame(c, c.uniform(0.2, 0.8) * c.w, horizon + (c.ground - horizon) * 0.55, 100 * c.u)
        boat.chord((-0.7, -0.26, 0.7, 0.22), 0, 180, c.lit((90, 60, 40)))
        person(c, boat.x, boat.y, 0.6 * boat.s, c.lit((50, 50, 60)), hat=True)
    c.ground_band((40, 70, 90))


def _pagoda(c: Canvas, f: Frame) -> None:
    """Five storeys with red eaves, one unit tall."""
    wall, roof = c.lit((236, 224, 200)), c.lit((170, 60, 40))
    for k in range(5):
        w, y = 0.32 - 0.04 * k, -k * 0.2
        f.rect((-w * 0.6, y - 0.2, w * 0.6, y), wall)
        f.poly([(-w, y - 0.155), (w, y - 0.155), (w * 0.5, y - 0.277), (-w * 0.5, y - 0.277)], roof)
    f.line([(0, -1.08), (0, -1.3)], roof, 0.03)


def forest(c: Canvas) -> None:
    """Tall conifers in layers, sunbeams through the canopy, big trunks and ferns in front."""
    c.sky(sun=(c.uniform(0.3, 0.7), 0.1), clouds=1)
    for k in range(4):
        depth = k / 3
        color = c.haze(mix((40, 90, 60), (14, 40, 26), depth), 0.3 + 0.7 * depth)
        base = c.stage(0.55 + 0.15 * depth)
        for x in c.spread(int(26 - 4 * k), -60, 0.5):
            height = c.uniform(200, 320) * c.u * (0.7 + 0.6 * depth)
            pine(c, x, base + c.uniform(0, 50), height, color)
        c.rect((0, base + 20, c.w, c.ground + 2), color)
    if not c.light.dark:
        _sunbeams(c, c.uniform(0.3, 0.7) * c.w)
    bark = c.lit((70, 50, 36))
    for x in (c.uniform(0.02, 0.12) * c.w, c.uniform(0.86, 0.98) * c.w):
        w = c.uniform(50, 90) * c.u
        c.rect((x - w / 2, 0, x + w / 2, c.ground + 2), bark)
        for k in range(6):  # the grain of the bark
            gx = x - w / 2 + w * (k + 0.5) / 6
            c.line([(gx, 0), (gx + c.uniform(-6, 6), c.ground)], mix(bark, (0, 0, 0), 0.3), 2)
    fern = c.lit((60, 120, 50))
    for x in c.spread(int(c.w / 70)):
        f = Frame(c, x, c.ground, 50 * c.u)
        for a in (math.radians(d - 90) for d in (-50, -25, 0, 25, 50)):
            f.line([(0, 0), (math.cos(a), math.sin(a) * 0.8)], fern, 4 / f.s)
    c.ground_band((40, 66, 40))


def _sunbeams(c: Canvas, x: float) -> None:
    beam = mix(c.light.sun, WHITE, 0.4)
    for _ in range(5):
        x0, w = x + c.uniform(-300, 300) * c.u, c.uniform(30, 80) * c.u
        slant = c.uniform(0.2, 0.5) * (c.ground - c.top)
        c.poly(
            [(x0, c.top), (x0 + w, c.top), (x0 + w + slant, c.ground), (x0 + slant, c.ground)],
            beam,
            34,
        )


def rain(c: Canvas) -> None:
    """A rainy street: heavy clouds, grey houses, people under umbrellas, slanting rain."""
    c.sky(clouds=0, stars=False)
    cloud = mix(c.light.horizon, (60, 64, 74), 0.5)
    for _ in range(9):
        x, y = c.uniform(-0.05, 1.05) * c.w, c.stage(c.uniform(0.0, 0.3))
        c.cloud(x, y, c.uniform(380, 640) * c.u, cloud, 230)
    x = -c.uniform(0, 80)
    while x < c.w:  # a row of houses and shop fronts
        w, h = c.uniform(140, 260) * c.u, c.uniform(0.3, 0.6) * (c.ground - c.top)
        _house(c, Frame(c, x, c.ground, 100 * c.u), w / (100 * c.u), h / (100 * c.u))
        x += w
    for _ in range(int(c.rng.integers(2, 5))):
        walker = c.lit((40, 44, 56))
        person(
            c, c.uniform(0.1, 0.9) * c.w, c.ground, c.uniform(170, 220) * c.u, walker, umbrella=True
        )
    drop, slant = mix(c.light.horizon, WHITE, 0.5), c.uniform(-0.25, 0.25)
    for _ in range(int(900 * c.w / 1920)):
        x, y, length = c.uniform(-100, c.w + 100), c.uniform(0, c.ground), c.uniform(20, 60) * c.u
        c.line([(x, y), (x + slant * length, y + length)], drop, 1.5, c.uniform(60, 150))
    c.ground_band((80, 86, 98))


def _house(c: Canvas, f: Frame, width: float, height: float) -> None:
    """A grey house front with two columns of windows, lit behind the rain."""
    body = c.haze(c.pick([(120, 124, 132), (140, 130, 120), (110, 120, 128)]), 0.7)
    f.rect((0, -height, width - 0.08, 0), body)
    lamp = c.lit((255, 214, 140), glow=0.7 if c.light.dark else 0.2)
    y = -height + 0.3
    while y < -1.2:
        for x in (width * 0.2, width * 0.55):
            f.rect((x, y, x + width * 0.2, y + 0.36), lamp, 0.02)
        y += 0.7


def blossoms(c: Canvas) -> None:
    """Cherry trees in bloom on a grassy hill, petals in the air, flowers in the grass."""
    c.sky(sun=(c.uniform(0.2, 0.8), 0.3), clouds=3)
    _ranges(c, 1, 0.5, 0.5)
    c.fill_below(c.ridge(c.stage(0.78), 60 * c.u, 2, 2, False), c.lit((110, 170, 80)))
    pink = [c.lit(p) for p in ((246, 184, 206), (240, 160, 190), (252, 214, 226))]
    for k in range(int(c.rng.integers(1, 3))):
        x = c.uniform(0.2, 0.8) * c.w if k == 0 else c.uniform(0.05, 0.95) * c.w
        height = c.uniform(380, 520) * c.u * (1 - 0.3 * k)
        _cherry(c, Frame(c, x, c.stage(0.86), height), pink)
    for _ in range(80):  # petals
        x, y = c.uniform(0, c.w), c.uniform(c.top, c.ground)
        c.ellipse(x, y, 6 * c.u, 3.5 * c.u, c.pick(pink), 220)
    flowers = ((250, 220, 80), (250, 250, 250), (240, 120, 160))
    for x in c.spread(int(c.w / 30), 0, 0.5):
        c.circle(x, c.ground - c.uniform(4, 30) * c.u, 6 * c.u, c.lit(c.pick(flowers)))
    c.ground_band((86, 140, 64))


def _cherry(c: Canvas, f: Frame, pink: list[RGB]) -> None:
    """A cherry tree one unit tall: a trunk, six branches, clusters of blossom at their tips."""
    bark = c.lit((84, 56, 48))
    f.poly([(-0.05, 0), (0.05, 0), (0.025, -0.5), (-0.025, -0.5)], bark)
    for a in (math.radians(d - 90) for d in (-70, -40, -10, 20, 50, 75)):
        tip = (math.cos(a) * 0.45, -0.5 + math.sin(a) * 0.4)
        f.line([(0, -0.45), tip], bark, 0.025)
        for _ in range(7):
            x, y = tip[0] + c.uniform(-0.13, 0.13), tip[1] + c.uniform(-0.09, 0.09)
            f.circle(x, y, c.uniform(0.07, 0.12), c.pick(pink))


def rice_field(c: Canvas) -> None:
    """Flooded paddies with rows of seedlings running to the hills, a farmer in a straw hat."""
    horizon = c.stage(0.5)
    c.sky(horizon, sun=(c.uniform(0.2, 0.8), 0.5), clouds=3)
    _ranges(c, 2, 0.3, 0.48)
    c.fill_below(c.ridge(horizon, 20, 3, 2, False), c.haze((70, 120, 60), 0.7), horizon + 4)
    if c.chance(0.7):
        _farmhouse(c, Frame(c, c.uniform(0.1, 0.9) * c.w, horizon, 100 * c.u))
    water = mix(c.light.horizon, c.lit((120, 170, 120)), 0.35)
    c.gradient((0, horizon, c.w, c.ground + 2), water, c.lit((90, 150, 80)))
    vx, green = c.uniform(0.3, 0.7) * c.w, c.lit((52, 128, 44))
    for k in range(-30, 31):  # rows of seedling tufts running to the vanishing point
        for t in ((i / 22) ** 1.5 for i in range(1, 22)):
            tuft = Frame(c, vx + k * 70 * c.u * t, horizon + (c.ground - horizon) * t, 2 + 12 * t)
            tuft.poly([(-1, 0), (-0.2, -1.6), (0.2, -1.6), (1, 0)], green)
    for t in (0.18, 0.45, 0.8):  # the dikes between paddies
        y = horizon + (c.ground - horizon) * t
        c.rect((0, y, c.w, y + 3 + 6 * t), c.lit((110, 96, 64)))
    farmer = c.lit((60, 70, 100))
    person(
        c,
        c.uniform(0.2, 0.8) * c.w,
        horizon + (c.ground - horizon) * 0.7,
        170 * c.u,
        farmer,
        hat=True,
    )
    c.ground_band((70, 120, 60))


def _farmhouse(c: Canvas, f: Frame) -> None:
    """A white farmhouse with a red roof and a tree beside it, on the far edge of the fields."""
    f.rect((-0.7, -0.5, 0.7, 0), c.lit((230, 220, 200)))
    f.poly([(-0.9, -0.48), (0, -1.0), (0.9, -0.48)], c.lit((180, 70, 50)))
    round_tree(c, *f.p(1.3, 0.04), 1.3 * f.s, c.lit((50, 100, 50)))
