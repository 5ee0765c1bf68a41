"""``python -m tooling.vendor_pico PACKAGE_DIR``: vendor Pico CSS into the console.

Pico (MIT, https://picocss.com) draws its form icons (checkbox tick, select chevron, ...) as
``data:`` SVG images in CSS custom properties; the console's CSP (``img-src 'self'``) blocks
``data:`` images. So this copies ``css/pico.min.css`` and the licence as they are, writes each
icon of the light theme as its own SVG file, and ``pico-icons.css``, which points Pico's icon
properties at those files. Run it on an unpacked package (``npm pack @picocss/pico@2.1.1``).
"""

import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

STATIC = Path(__file__).resolve().parents[1] / "shared" / "console" / "static"
# ``:root`` holds most icons; the light theme's block holds the valid/invalid marks.
_BLOCKS = (r":root,\s*:host\s*\{", r"\[data-theme=light\],\s*:root:not\(\[data-theme=dark\]\)")
_ICON = re.compile(r"--pico-icon-([a-z-]+):\s*url\(\"data:image/svg\+xml,([^\"]+)\"\)")


def icons(css: str) -> dict[str, str]:
    """Icon name -> SVG text, from the blocks above (the first definition of each wins)."""
    found: dict[str, str] = {}
    for block in _BLOCKS:
        start = re.search(block, css)
        if start is None:
            raise SystemExit(f"pico.css changed: no block {block}")
        body = css[start.end() : css.index("}", start.end())]
        for name, data in _ICON.findall(body):
            found.setdefault(name, unquote(data))
    return found


def main(package: Path) -> None:
    target = STATIC / "vendor" / "pico"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package / "css" / "pico.min.css", target / "pico.min.css")
    shutil.copyfile(package / "LICENSE.md", target / "LICENSE.md")
    (STATIC / "icons").mkdir(exist_ok=True)
    lines = [
        "/* Pico's icons as files: the CSP allows no data: images (tooling/vendor_pico.py). */"
    ]
    lines.append("html:root[data-theme=light] {")
    for name, svg in sorted(icons((package / "css" / "pico.css").read_text()).items()):
        (STATIC / "icons" / f"{name}.svg").write_text(svg + "\n")
        lines.append(f'  --pico-icon-{name}: url("/assets/icons/{name}.svg");')
    lines.append("}")
    (STATIC / "pico-icons.css").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
