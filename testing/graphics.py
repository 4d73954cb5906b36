"""Flat graphics a CMS stores next to photos, generated: a UI screenshot with text, a flag, an illustration.

They need far less encoder quality than photos for the same perceptual score, which is what quality=auto is
for; bench/autoquality.py measures it on them and on the photos.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)


def screenshot(size: tuple[int, int] = (1440, 900)) -> Image.Image:
    """A dashboard: dark header, side menu, rows of text, buttons and a line chart."""
    width, height = size
    image = Image.new("RGB", size, (248, 249, 251))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 64), fill=(33, 37, 41))
    draw.text((24, 18), "imgopt dashboard", font=_font(26), fill="white")
    draw.rectangle((0, 64, 220, height), fill=(236, 239, 243))
    for index, item in enumerate(["Overview", "Uploads", "Renditions", "Settings", "Billing"]):
        draw.text((24, 96 + 40 * index), item, font=_font(18), fill=(50, 60, 70))
    for index in range(14):
        line = f"Row {index}: the quick brown fox jumps over the lazy dog, 0123456789 ({index * 37 % 101}%)"
        draw.text((250, 96 + 30 * index), line, font=_font(16), fill=(20, 24, 28))
    for index, colour in enumerate([(13, 110, 253), (25, 135, 84), (220, 53, 69)]):
        left = 250 + 170 * index
        draw.rounded_rectangle((left, 560, left + 150, 600), 8, fill=colour)
        draw.text((left + 20, 570), "Button", font=_font(16), fill="white")
    chart = [(250 + x * 10, 820 - 120 * abs(math.sin(x / 7))) for x in range(110)]
    draw.line(chart, fill=(13, 110, 253), width=3)
    return image


def flag(size: tuple[int, int] = (1800, 1200)) -> Image.Image:
    """Stripes, a canton of stars and an outlined disc: hard edges between flat colours."""
    width, height = size
    image = Image.new("RGB", size, (0, 56, 168))
    draw = ImageDraw.Draw(image)
    for index in range(7):
        fill = (206, 17, 38) if index % 2 == 0 else (255, 255, 255)
        draw.rectangle((0, height * index // 7, width, height * (index + 1) // 7), fill=fill)
    draw.rectangle((0, 0, width * 2 // 5, height * 4 // 7), fill=(0, 56, 168))
    for row in range(5):
        for column in range(6):
            centre = (60 + column * 110, 50 + row * 120, 28)
            draw.regular_polygon(centre, 5, rotation=90, fill=(255, 255, 255))
    disc = (width - 420, height - 420, width - 120, height - 120)
    draw.ellipse(disc, fill=(255, 205, 0), outline=(20, 20, 20), width=12)
    return image


def illustration(size: tuple[int, int] = (1600, 1000)) -> Image.Image:
    """A landscape in flat shapes over a sky gradient."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(120 + 100 * t), int(180 + 50 * t), int(235 - 20 * t)))
    draw.ellipse((1150, 120, 1350, 320), fill=(255, 214, 90))
    hills = [(0, 700), (300, 420), (650, 680), (900, 480), (1250, 700), (1600, 520), (1600, 1000), (0, 1000)]
    draw.polygon(hills, fill=(70, 140, 90))
    draw.polygon(
        [(0, 820), (500, 700), (1000, 860), (1600, 740), (1600, 1000), (0, 1000)], fill=(50, 110, 70)
    )
    draw.rectangle((200, 760, 330, 900), fill=(190, 80, 60))
    draw.polygon([(185, 760), (265, 690), (345, 760)], fill=(120, 50, 40))
    return image


GRAPHICS: dict[str, Callable[[], Image.Image]] = {
    "ui-screenshot.png": screenshot,
    "flag.png": flag,
    "illustration.png": illustration,
}


def graphics(scale: float = 1.0) -> dict[str, bytes]:
    """Every graphic as PNG bytes (``scale`` < 1 for the smoke run)."""
    encoded = {}
    for name, draw in GRAPHICS.items():
        image = draw()
        if scale != 1.0:
            image = image.resize((round(image.width * scale), round(image.height * scale)))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        encoded[name] = buffer.getvalue()
    return encoded
