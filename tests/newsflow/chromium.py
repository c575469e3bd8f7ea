"""Debian's Chromium for the browser tests: find (or install) it, render a page, read a PNG back."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def find_or_install_chromium() -> tuple[Path | None, str]:
    """``/usr/bin/chromium``, installed with apt-get when it is missing and we may.

    Returns:
        The browser's path, or None and why it is not there.
    """
    if CHROMIUM.is_file():
        return CHROMIUM, ""
    if shutil.which("apt-get") is None:
        return None, f"{CHROMIUM} is missing and there is no apt-get to install it"
    if os.geteuid() == 0:
        command = ["sh", "-c", INSTALL]
    elif shutil.which("sudo") is not None:
        command = ["sudo", "-n", "sh", "-c", INSTALL]
    else:
        return None, f"{CHROMIUM} is missing and installing it needs root: {INSTALL}"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return None, f"`{INSTALL}` timed out"
    if done.returncode != 0 or not CHROMIUM.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"`{INSTALL}` failed: {' / '.join(tail)}"
    return CHROMIUM, ""


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page: its serialised DOM and a screenshot."""

    dom: str
    screenshot: Path


def render(
    chromium: Path, page: Path, screenshot: Path, profile: Path, window: tuple[int, int] = (1280, 3000)
) -> Rendered:
    """Load ``page`` in headless Chromium once, dumping the DOM and saving a screenshot.

    Args:
        chromium: The browser.
        page: A local HTML file.
        screenshot: Where to write the PNG.
        profile: An empty folder for the browser's user data.
        window: Viewport width and height in pixels.

    Returns:
        The DOM as serialised after loading, and the screenshot's path.
    """
    command = [
        str(chromium),
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return Rendered(done.stdout, screenshot)


def _paeth(left: int, up: int, up_left: int) -> int:
    guess = left + up - up_left
    to_left, to_up, to_up_left = abs(guess - left), abs(guess - up), abs(guess - up_left)
    if to_left <= to_up and to_left <= to_up_left:
        return left
    return up if to_up <= to_up_left else up_left


def png_colours(path: Path, row_step: int = 4) -> tuple[int, int, Counter[bytes]]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG and count the colours of every ``row_step``-th row.

    Returns:
        Width, height and how many sampled pixels have each colour.
    """
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    position, compressed = 8, []
    width = height = depth = colour_type = interlace = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            compressed.append(chunk)
        elif kind == b"IEND":
            break
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    pixel = 3 if colour_type == 2 else 4
    stride = width * pixel
    raw = zlib.decompress(b"".join(compressed))
    previous = bytearray(stride)
    colours: Counter[bytes] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if method == 1:
            for i in range(pixel, stride):
                line[i] = (line[i] + line[i - pixel]) & 0xFF
        elif method == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif method == 3:
            for i in range(stride):
                left = line[i - pixel] if i >= pixel else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif method == 4:
            for i in range(stride):
                left = line[i - pixel] if i >= pixel else 0
                up_left = previous[i - pixel] if i >= pixel else 0
                line[i] = (line[i] + _paeth(left, previous[i], up_left)) & 0xFF
        if y % row_step == 0:
            colours.update(bytes(line[i : i + 3]) for i in range(0, stride, pixel))
        previous = line
    return width, height, colours
