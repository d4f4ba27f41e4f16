"""Demo product pictures, drawn here with Pillow: a side view of the shoe type (runner, court
sneaker, oxford, loafer, boot, chelsea boot, sandal, slide) in its colour, lit from the top left,
with a soft shadow on a studio backdrop. Drawn at twice the size and scaled down for smooth edges.
"""

import itertools
from collections.abc import Callable, Sequence
from typing import Any

Colour = tuple[int, int, int]
Point = tuple[float, float]
WIDTH, HEIGHT = 1200, 900
SCALE = 2  # drawn at 2400x1800, scaled down: anti-aliased edges
GROUND = 700  # the line the soles stand on

WHITE_SOLE: Colour = (246, 245, 241)
GUM_SOLE: Colour = (176, 118, 64)
DARK_SOLE: Colour = (46, 40, 36)
LEATHER_SOLE: Colour = (92, 60, 38)
CORK: Colour = (201, 160, 112)


def shade(colour: Colour, amount: float) -> Colour:
    """Lighter toward white (amount > 0) or darker toward black (amount < 0), 0..1."""
    target = 255 if amount > 0 else 0
    return tuple(round(c + (target - c) * abs(amount)) for c in colour)  # type: ignore[return-value]


def spline(points: Sequence[Point], closed: bool = True, steps: int = 10) -> list[Point]:
    """A smooth curve through the points (Catmull-Rom), for shoe outlines that are not polygons."""
    count = len(points)
    out: list[Point] = []
    segments = count if closed else count - 1
    for i in range(segments):
        p0 = points[(i - 1) % count] if closed or i > 0 else points[0]
        p1, p2 = points[i], points[(i + 1) % count]
        p3 = points[(i + 2) % count] if closed or i + 2 < count else points[-1]
        for step in range(steps):
            t = step / steps
            t2, t3 = t * t, t * t * t
            out.append(
                tuple(  # type: ignore[arg-type]
                    0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3)
                    for a, b, c, d in zip(p0, p1, p2, p3, strict=True)
                )
            )
    if not closed:
        out.append(points[-1])
    return out


def vertical_gradient(size: tuple[int, int]) -> Any:
    """Black at the top to white at the bottom (a 1-pixel column stretched: cheap at any size)."""
    from PIL import Image

    column = Image.linear_gradient("L").resize((1, size[1]), Image.Resampling.BILINEAR)
    return column.resize(size, Image.Resampling.NEAREST)


class Canvas:
    """The picture being drawn, in 1200x900 units; `lift` moves the shoe up to the middle of the
    frame (a low shoe would otherwise sit in the bottom half). Every layer is made only as large
    as the part it covers: full-size masks and blurs made a picture cost over a second."""

    def __init__(self, lift: float = 0) -> None:
        from PIL import Image, ImageDraw

        self.lift = lift
        size = (WIDTH * SCALE, HEIGHT * SCALE)
        # Studio backdrop: light at the top, a touch darker toward the floor.
        column = (1, size[1])  # one column of the backdrop, stretched sideways
        top, bottom = Image.new("RGB", column, (250, 249, 246)), Image.new("RGB", column, (224, 222, 217))
        self.image = Image.composite(bottom, top, vertical_gradient(column)).resize(size, Image.Resampling.NEAREST)
        self.draw = ImageDraw.Draw(self.image)

    def _scaled(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * SCALE, (y - self.lift) * SCALE) for x, y in points]

    @staticmethod
    def _box(points: Sequence[tuple[float, float]], margin: float = 0) -> tuple[int, int, int, int]:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        return int(min(xs) - margin), int(min(ys) - margin), int(max(xs) + margin) + 1, int(max(ys) + margin) + 1

    def shadow(self, left: float, right: float, depth: float = 0.45) -> None:
        from PIL import Image, ImageDraw, ImageFilter

        blur = 22 * SCALE
        ellipse = self._scaled([(left, GROUND - 22), (right, GROUND + 26)])
        box = self._box(ellipse, 3 * blur)
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        ImageDraw.Draw(mask).ellipse([(x - box[0], y - box[1]) for x, y in ellipse], fill=round(255 * depth))
        self.image.paste((40, 36, 32), box[:2], mask.filter(ImageFilter.GaussianBlur(blur)))

    def shape(
        self,
        points: Sequence[Point],
        colour: Colour,
        light: float = 0.28,
        dark: float = 0.3,
        outline: bool = True,
        smooth: bool = True,
    ) -> list[Point]:
        """A filled outline, lit from above: lighter at its top, darker at its bottom."""
        from PIL import Image, ImageDraw

        outline_points = spline(points) if smooth else list(points)
        scaled = self._scaled(outline_points)
        box = self._box(scaled)
        size = (box[2] - box[0], box[3] - box[1])
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).polygon([(x - box[0], y - box[1]) for x, y in scaled], fill=255)
        gradient = vertical_gradient(size)
        lit = Image.composite(
            Image.new("RGB", size, shade(colour, -dark)), Image.new("RGB", size, shade(colour, light)), gradient
        )
        self.image.paste(lit, box[:2], mask)
        if outline:
            self.draw.line(scaled + scaled[:1], fill=shade(colour, -0.45), width=3 * SCALE, joint="curve")
        return outline_points

    def gloss(self, area: tuple[float, float, float, float], clip: Sequence[Point], strength: float = 0.35) -> None:
        """A soft highlight where the light falls, kept inside the outline `clip`."""
        from PIL import Image, ImageChops, ImageDraw, ImageFilter

        blur = 18 * SCALE
        ellipse = self._scaled([area[:2], area[2:]])
        box = self._box(ellipse, 3 * blur)
        size = (box[2] - box[0], box[3] - box[1])
        spot = Image.new("L", size, 0)
        ImageDraw.Draw(spot).ellipse([(x - box[0], y - box[1]) for x, y in ellipse], fill=round(255 * strength))
        inside = Image.new("L", size, 0)
        ImageDraw.Draw(inside).polygon([(x - box[0], y - box[1]) for x, y in self._scaled(clip)], fill=255)
        self.image.paste(
            (255, 255, 255), box[:2], ImageChops.multiply(spot.filter(ImageFilter.GaussianBlur(blur)), inside)
        )

    def line(self, points: Sequence[Point], colour: Colour, width: float, smooth: bool = True) -> None:
        path = spline(points, closed=False) if smooth and len(points) > 2 else list(points)
        self.draw.line(self._scaled(path), fill=colour, width=round(width * SCALE), joint="curve")

    def dots(self, points: Sequence[Point], colour: Colour, radius: float) -> None:
        r = radius * SCALE
        for x, y in self._scaled(points):
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)

    def rectangle(self, corner: Point, opposite: Point, colour: Colour) -> None:
        self.draw.rectangle(self._scaled([corner, opposite]), fill=colour)

    def finish(self) -> Any:
        return self.image.reduce(SCALE)  # a box filter: every output pixel averages its 2x2


def _along(start: Point, end: Point, count: int) -> list[Point]:
    return [
        (start[0] + (end[0] - start[0]) * i / (count - 1), start[1] + (end[1] - start[1]) * i / (count - 1))
        for i in range(count)
    ]


def _laces(canvas: Canvas, start: Point, end: Point, count: int, colour: Colour) -> None:
    """Criss-cross laces between eyelets along the lacing line."""
    eyelets = _along(start, end, count)
    for (x1, y1), (x2, y2) in itertools.pairwise(eyelets):
        canvas.line([(x1 - 14, y1 - 10), (x2 + 14, y2 + 8)], colour, 9, smooth=False)
    canvas.dots(eyelets, shade(colour, -0.5), 5)


def _sole_colour(colour: Colour) -> Colour:
    return GUM_SOLE if sum(colour) > 640 else WHITE_SOLE


def runner(canvas: Canvas, colour: Colour) -> None:
    canvas.shadow(150, 1080)
    sole = _sole_colour(colour)
    canvas.shape(
        [
            (170, 688),
            (168, 600),
            (300, 610),
            (600, 640),
            (900, 650),
            (1050, 625),
            (1062, 660),
            (1010, 690),
            (700, 700),
            (300, 700),
        ],
        sole,
        light=0.1,
        dark=0.18,
    )
    canvas.shape(
        [(176, 694), (400, 703), (800, 700), (1008, 690), (1000, 703), (600, 712), (200, 708)], DARK_SOLE, outline=False
    )
    upper = canvas.shape(
        [
            (185, 605),
            (172, 520),
            (225, 432),
            (330, 408),
            (420, 452),
            (470, 360),
            (530, 372),
            (700, 468),
            (880, 528),
            (1030, 585),
            (1052, 628),
            (900, 652),
            (600, 638),
            (300, 612),
        ],
        colour,
    )
    canvas.line([(300, 590), (500, 540), (720, 560), (920, 610)], shade(colour, 0.75), 22)  # side stripe
    canvas.line([(190, 470), (200, 580)], shade(colour, -0.35), 16)  # heel tab
    canvas.gloss((300, 400, 760, 520), upper)
    _laces(canvas, (495, 395), (690, 478), 5, (250, 250, 250))


def court(canvas: Canvas, colour: Colour) -> None:
    canvas.shadow(160, 1070)
    sole = _sole_colour(colour)
    canvas.shape(
        [(180, 705), (178, 630), (600, 640), (1040, 640), (1055, 672), (1030, 705), (600, 708)],
        sole,
        light=0.05,
        dark=0.15,
        smooth=False,
    )
    canvas.line([(190, 662), (1040, 662)], shade(sole, -0.25), 3, smooth=False)  # stitching
    upper = canvas.shape(
        [
            (190, 640),
            (182, 540),
            (240, 470),
            (380, 458),
            (480, 398),
            (540, 410),
            (720, 488),
            (900, 540),
            (1020, 590),
            (1040, 640),
            (600, 642),
        ],
        colour,
    )
    canvas.shape(
        [(860, 548), (1000, 585), (1036, 636), (900, 640), (850, 600)], shade(colour, -0.12), light=0.15, dark=0.2
    )  # toe cap
    canvas.gloss((260, 440, 700, 540), upper)
    _laces(canvas, (500, 425), (700, 492), 5, (250, 250, 250))


def oxford(canvas: Canvas, colour: Colour, laced: bool = True) -> None:
    canvas.shadow(170, 1070, depth=0.5)
    canvas.shape([(190, 708), (185, 660), (330, 662), (340, 708)], LEATHER_SOLE, light=0.1, smooth=False)  # heel block
    canvas.shape(
        [(330, 668), (600, 682), (900, 676), (1045, 660), (1050, 676), (900, 690), (600, 694), (330, 684)],
        LEATHER_SOLE,
        light=0.1,
        outline=False,
    )
    upper = canvas.shape(
        [
            (198, 662),
            (192, 560),
            (235, 505),
            (420, 512),
            (520, 478),
            (640, 500),
            (820, 548),
            (980, 590),
            (1046, 640),
            (1030, 668),
            (800, 676),
            (500, 676),
            (300, 664),
        ],
        colour,
        light=0.18,
        dark=0.45,
    )
    canvas.line([(880, 560), (860, 610), (890, 668)], shade(colour, -0.45), 5)  # cap-toe seam
    canvas.line([(600, 500), (560, 590), (330, 600), (205, 590)], shade(colour, -0.35), 4)  # quarter seam
    canvas.gloss((820, 560, 1040, 640), upper, strength=0.6)  # polished toe
    canvas.gloss((230, 520, 460, 600), upper, strength=0.3)
    if laced:
        _laces(canvas, (515, 486), (625, 505), 4, shade(colour, -0.55))
    else:  # loafer: apron stitching and a saddle strap
        canvas.line([(560, 520), (640, 492), (800, 530), (840, 600)], shade(colour, -0.45), 5)
        canvas.shape([(520, 520), (640, 505), (650, 555), (540, 570)], shade(colour, -0.2), light=0.1, dark=0.2)


def loafer(canvas: Canvas, colour: Colour) -> None:
    oxford(canvas, colour, laced=False)


def boot(canvas: Canvas, colour: Colour, chelsea: bool = False) -> None:
    canvas.shadow(160, 1070, depth=0.5)
    canvas.shape(
        [(180, 712), (178, 650), (600, 660), (1030, 655), (1058, 690), (1030, 712), (600, 716)],
        DARK_SOLE,
        light=0.12,
        smooth=False,
    )
    for x in range(200, 1030, 48):  # lugged tread
        canvas.rectangle((x, 704), (x + 26, 716), shade(DARK_SOLE, 0.15))
    upper = canvas.shape(
        [
            (192, 655),
            (185, 420),
            (196, 250),
            (330, 240),
            (430, 250),
            (440, 430),
            (560, 500),
            (800, 556),
            (990, 600),
            (1040, 650),
            (600, 660),
        ],
        colour,
        light=0.22,
        dark=0.4,
    )
    canvas.gloss((220, 270, 420, 560), upper, strength=0.3)
    canvas.gloss((780, 540, 1000, 620), upper, strength=0.35)
    canvas.line([(195, 600), (600, 612), (1000, 618)], shade(colour, -0.4), 4)  # welt stitching
    if chelsea:
        canvas.shape(
            [(270, 262), (370, 262), (350, 470), (300, 470)], shade(colour, -0.55), light=0.1, dark=0.1
        )  # elastic gusset
        canvas.shape([(190, 250), (215, 250), (215, 205), (190, 205)], shade(colour, -0.35), smooth=False)  # pull tab
    else:
        _laces(canvas, (425, 270), (560, 500), 7, (230, 200, 150))
        canvas.shape(
            [(185, 250), (440, 250), (440, 280), (185, 280)], shade(colour, -0.3), smooth=False
        )  # padded collar


def chelsea(canvas: Canvas, colour: Colour) -> None:
    boot(canvas, colour, chelsea=True)


def sandal(canvas: Canvas, colour: Colour) -> None:
    canvas.shadow(160, 1070, depth=0.35)
    canvas.shape(
        [(185, 700), (180, 668), (600, 676), (1040, 668), (1050, 690), (600, 704)], DARK_SOLE, light=0.1, smooth=False
    )
    canvas.shape(
        [(185, 668), (182, 640), (400, 652), (700, 662), (1040, 650), (1042, 670), (600, 678)],
        CORK,
        light=0.12,
        dark=0.12,
    )
    for start, top, end in (((720, 660), (800, 520), (900, 655)), ((520, 656), (600, 470), (700, 660))):
        canvas.line([start, top, end], colour, 42)
        canvas.line(
            [(start[0] + 12, start[1] - 10), (top[0], top[1] + 12), (end[0] - 12, end[1] - 10)], shade(colour, 0.35), 8
        )
    canvas.line([(190, 648), (200, 500), (320, 470), (470, 520), (560, 560)], colour, 34)  # ankle strap
    canvas.shape(
        [(300, 455), (345, 455), (345, 495), (300, 495)], (200, 182, 120), light=0.35, dark=0.2, smooth=False
    )  # buckle


def slide(canvas: Canvas, colour: Colour) -> None:
    canvas.shadow(160, 1070, depth=0.35)
    footbed = WHITE_SOLE if sum(colour) < 640 else DARK_SOLE
    canvas.shape(
        [(185, 700), (180, 640), (400, 655), (700, 662), (1040, 648), (1050, 690), (600, 706)],
        footbed,
        light=0.05,
        dark=0.2,
    )
    band = canvas.shape(
        [(470, 660), (500, 520), (620, 470), (780, 475), (890, 530), (930, 655), (820, 640), (680, 630), (560, 645)],
        colour,
        light=0.3,
        dark=0.35,
    )
    canvas.line([(560, 560), (700, 520), (840, 560)], shade(colour, 0.8), 14)  # logo stripe
    canvas.gloss((520, 470, 760, 560), band, strength=0.4)


# Each kind's drawing, and how far to lift it so the shoe sits in the middle of the frame.
DRAWERS: dict[str, tuple[Callable[[Canvas, Colour], None], float]] = {
    "runner": (runner, 90),
    "sneaker": (court, 100),
    "oxford": (oxford, 140),
    "loafer": (loafer, 140),
    "boot": (boot, 20),
    "chelsea": (chelsea, 20),
    "sandal": (sandal, 125),
    "slide": (slide, 135),
}


def draw(kind: str, colour: Colour) -> Any:
    """A 1200x900 RGB picture of a `kind` shoe (a DRAWERS key) in `colour`."""
    drawer, lift = DRAWERS[kind]
    canvas = Canvas(lift)
    drawer(canvas, colour)
    return canvas.finish()
