"""Tiny PNG charts for the benchmarks, written with zlib + struct (no plotting library).

``bar_chart`` draws grouped bars (one group per x label, one colour per series) with
a title, a legend, group labels and each bar's value, in a 3x5 pixel font scaled up.
``update_docs`` replaces one marked section of docs/benchmarks.md.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# 3x5 glyphs, one string of 5 rows of 3 bits per character (letters drawn as capitals).
_FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", "a": "010101111101101", "b": "110101110101110",
    "c": "011100100100011", "d": "110101101101110", "e": "111100110100111",
    "f": "111100110100100", "g": "011100101101011", "h": "101101111101101",
    "i": "111010010010111", "j": "001001001101010", "k": "101101110101101",
    "l": "100100100100111", "m": "101111111101101", "n": "110101101101101",
    "o": "010101101101010", "p": "110101110100100", "q": "010101101110011",
    "r": "110101110101101", "s": "011100010001110", "t": "111010010010010",
    "u": "101101101101111", "v": "101101101101010", "w": "101101111111101",
    "x": "101101010101101", "y": "101101010010010", "z": "111001010100111",
    " ": "000000000000000", ".": "000000000000010", ",": "000000000010100",
    "-": "000000111000000", "/": "001001010100100", "%": "101001010100101",
    "(": "010100100100010", ")": "010001001001010", ":": "000010000010000",
}

WHITE = (255, 255, 255)
BLACK = (30, 30, 30)
GREY = (200, 200, 200)
COLOURS = [(52, 101, 164), (237, 125, 49), (112, 173, 71), (165, 105, 189)]


class Canvas:
    """An RGB pixel buffer with rectangles and text."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(colour) * (x1 - x0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, scale: int = 2, colour=BLACK) -> None:  # type: ignore[no-untyped-def]
        for char in text.lower():
            glyph = _FONT.get(char, _FONT[" "])
            for index, bit in enumerate(glyph):
                if bit == "1":
                    self.rect(x + (index % 3) * scale, y + (index // 3) * scale, scale, scale, colour)
            x += 4 * scale

    @staticmethod
    def text_width(text: str, scale: int = 2) -> int:
        return len(text) * 4 * scale - scale

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def _label(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def bar_chart(
    path: Path,
    title: str,
    groups: list[tuple[str, list[float]]],
    series: list[str],
    *,
    log_scale: bool = False,
    width: int = 760,
    height: int = 360,
) -> None:
    """Write a grouped bar chart to ``path``: ``groups`` is [(x label, [value per series])]."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 20, 20, 60, 40
    plot_h = height - top - bottom
    values = [v for _, vs in groups for v in vs if v > 0]
    high = max(values) if values else 1.0
    low = min(values) if values else 1.0
    if log_scale:
        lo_exp = math.floor(math.log10(low)) if low > 0 else 0
        hi_exp = math.log10(high) + 0.15

        def bar_height(value: float) -> int:
            if value <= 0:
                return 0
            return max(1, int(plot_h * (math.log10(value) - lo_exp + 0.3) / (hi_exp - lo_exp + 0.3)))
    else:

        def bar_height(value: float) -> int:
            return int(plot_h * value / (high * 1.1))

    canvas.text(left, 12, title, 3)
    legend_x = left
    for index, name in enumerate(series):
        canvas.rect(legend_x, 38, 12, 12, COLOURS[index % len(COLOURS)])
        canvas.text(legend_x + 18, 39, name, 2)
        legend_x += 18 + Canvas.text_width(name) + 24
    if log_scale:
        canvas.text(width - right - Canvas.text_width("log scale"), 39, "log scale", 2, (120, 120, 120))
    base = height - bottom
    canvas.rect(left, base, width - left - right, 2, GREY)
    group_w = (width - left - right) // max(1, len(groups))
    bar_w = max(4, (group_w - 30) // max(1, len(series)))
    for g_index, (label, vals) in enumerate(groups):
        gx = left + g_index * group_w + 15
        for s_index, value in enumerate(vals):
            h = bar_height(value)
            x = gx + s_index * bar_w
            canvas.rect(x + 2, base - h, bar_w - 4, h, COLOURS[s_index % len(COLOURS)])
            text = _label(value)
            tw = Canvas.text_width(text, 1 if bar_w < 40 else 2)
            canvas.text(x + (bar_w - tw) // 2, base - h - 14, text, 1 if bar_w < 40 else 2)
        canvas.text(gx + (len(vals) * bar_w - Canvas.text_width(label)) // 2, base + 10, label, 2)
    path.write_bytes(canvas.png())


def update_docs(section: str, start: str, end: str) -> None:
    """Replace (or append) the section between markers ``start``/``end`` in docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if start in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
