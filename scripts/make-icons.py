#!/usr/bin/env python3
"""Draws Blastdesk's app and tray icons into icons/ (run after changing the design).

The icons are small, committed outputs of this script; needs Pillow
(`pip install pillow`). Sizes follow what `tauri build` expects.
"""
from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "icons"
SCALE = 4  # draw large, then downsample for smooth edges
BASE = 1024
TEAL_TOP = (34, 139, 106)
TEAL_BOTTOM = (20, 94, 78)
WHITE = (255, 255, 255, 255)


def brand(size: int) -> Image.Image:
    s = BASE * SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    # Rounded square with a vertical gradient.
    gradient = Image.new("RGBA", (s, s))
    g = ImageDraw.Draw(gradient)
    for y in range(s):
        t = y / (s - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(TEAL_TOP, TEAL_BOTTOM))
        g.line([(0, y), (s, y)], fill=colour + (255,))
    mask = Image.new("L", (s, s), 0)
    margin = 64 * SCALE
    ImageDraw.Draw(mask).rounded_rectangle(
        [margin, margin, s - margin, s - margin], radius=210 * SCALE, fill=255
    )
    img.paste(gradient, (0, 0), mask)
    d = ImageDraw.Draw(img)
    bubble(d, SCALE, offset=(0, 0))
    return img.resize((size, size), Image.LANCZOS)


def bubble(d: ImageDraw.ImageDraw, k: int, offset=(0, 0), fill=WHITE, ink=TEAL_BOTTOM + (255,)):
    ox, oy = offset
    # A speech bubble with a tail at the lower left ...
    d.rounded_rectangle(
        [ox + 232 * k, oy + 262 * k, ox + 792 * k, oy + 682 * k], radius=120 * k, fill=fill
    )
    d.polygon(
        [(ox + 300 * k, oy + 620 * k), (ox + 262 * k, oy + 800 * k), (ox + 450 * k, oy + 672 * k)],
        fill=fill,
    )
    # ... holding three message lines of falling length: one message, many people.
    for i, length in enumerate((380, 300, 210)):
        y = oy + (362 + i * 92) * k
        d.rounded_rectangle(
            [ox + 322 * k, y, ox + (322 + length) * k, y + 44 * k], radius=22 * k, fill=ink
        )


def main() -> None:
    ICONS.mkdir(exist_ok=True)
    master = brand(1024)
    for name, size in [
        ("32x32.png", 32),
        ("64x64.png", 64),
        ("128x128.png", 128),
        ("128x128@2x.png", 256),
        ("icon.png", 512),
    ]:
        master.resize((size, size), Image.LANCZOS).save(ICONS / name)
    master.save(ICONS / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (256, 256)])
    master.save(ICONS / "icon.icns")
    # The tray icon: the same mark, sized for menu bars and notification areas.
    master.resize((64, 64), Image.LANCZOS).save(ICONS / "tray.png")
    template(master.resize((64, 64), Image.LANCZOS)).save(ICONS / "tray-template.png")


def template(icon):
    """macOS's menu bar draws a template image from its alpha alone, in the
    bar's own colour: the mark's light parts (the speech bubble) become holes
    in the square, so the bubble still shows."""
    rgba = icon.convert("RGBA")
    out = Image.new("RGBA", rgba.size, (0, 0, 0, 0))
    pixels = [
        (0, 0, 0, round(a * (1 - min(r, g, b) / 255)))
        for r, g, b, a in rgba.getdata()
    ]
    out.putdata(pixels)
    return out


if __name__ == "__main__":
    main()
