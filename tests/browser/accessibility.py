"""Accessibility checks of Latchkey pages in a real Chromium, for any browser test to call.

- ``await assert_accessible(context, urls)`` opens each URL in the Playwright BrowserContext
  given (its cookies included: a signed-in context can check /account) and checks it;
- ``await page_problems(page, label)`` checks the page a Page already shows (what a form post
  answered: a login error, the throttle page, the signed-out page); [] when all is well.

Each page is checked in the light and the dark colour scheme, at a desktop and a phone width:

- axe-core (npm package, tests/browser/axe: ``npm ci --prefix tests/browser/axe``), all its
  WCAG 2.x A/AA and best-practice rules: zero violations;
- Tab reaches every focusable element, in visual order (top to bottom, then left to right), and
  no element has a positive tabindex (WCAG 2.4.3);
- each focused element shows an outline at least 2px wide whose colour has at least 3:1 contrast
  with what is behind it (WCAG 2.4.7, 2.4.13); in forced-colors mode too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

AXE_SCRIPT = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1024, "phone": 375}
SCHEMES = ("light", "dark")
MIN_FOCUS_CONTRAST = 3.0
MIN_OUTLINE_PX = 2.0
MAX_TABS = 60

# Describes document.activeElement: what it is, where, and how its focus ring is drawn on what.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  let behind = 'rgba(0, 0, 0, 0)';
  for (let node = el.parentElement; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (!/^rgba\\(.*,\\s*0\\)$/.test(bg) && bg !== 'transparent') { behind = bg; break; }
  }
  const r = el.getBoundingClientRect();
  return {key: [...document.querySelectorAll('*')].indexOf(el),
          id: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? `[name=${el.name}]` : '')
            + (el.value && el.tagName === 'BUTTON' ? `[value=${el.value}]` : '')
            + (el.textContent.trim() && !el.id ? ` "${el.textContent.trim().slice(0, 30)}"` : ''),
          top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right,
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
          outlineColor: style.outlineColor, behind: behind};
}"""

_FOCUSABLE = """() => {
  const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, '
    + 'summary, [tabindex], [contenteditable=""], [contenteditable=true]';
  return [...document.querySelectorAll(selector)]
    .filter(el => el.getAttribute('tabindex') !== '-1' && el.getClientRects().length > 0)
    .map(el => ({tag: el.tagName.toLowerCase(), tabindex: el.getAttribute('tabindex')}));
}"""


def axe_installed() -> bool:
    return AXE_SCRIPT.exists()


def require_axe() -> None:
    """Skips where axe-core is not installed; in CI (CI=true) that is a failure, never a skip."""
    if axe_installed():
        return
    message = f"{AXE_SCRIPT} is missing: npm ci --prefix tests/browser/axe"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def assert_accessible(context: Any, urls: Iterable[str]) -> None:
    """Opens each URL in ``context`` (a Playwright BrowserContext) and checks it."""
    problems: list[str] = []
    page = await context.new_page()
    try:
        for url in urls:
            response = await page.goto(url)
            assert response is not None
            problems += await page_problems(page, url)
    finally:
        await page.close()
    assert problems == [], "\n".join(problems)


async def page_problems(page: Any, label: str) -> list[str]:
    """Every check on the page ``page`` shows, in each scheme and width; its state is kept."""
    problems: list[str] = []
    await page.evaluate(AXE_SCRIPT.read_text())  # by DevTools: the page's CSP does not apply
    size = page.viewport_size
    try:
        for width_name, width in WIDTHS.items():
            await page.set_viewport_size({"width": width, "height": 800})
            for scheme in SCHEMES:
                await page.emulate_media(color_scheme=scheme, forced_colors="none")
                where = f"{label} ({scheme}, {width_name})"
                problems += [f"{where}: {v}" for v in await axe_violations(page)]
                problems += [f"{where}: {p}" for p in await focus_problems(page)]
            await page.emulate_media(color_scheme="light", forced_colors="active")
            problems += [f"{label} (forced colors, {width_name}): {p}" for p in await focus_problems(page)]
    finally:
        await page.emulate_media(color_scheme="light", forced_colors="none")
        if size is not None:
            await page.set_viewport_size(size)
    return problems


async def axe_violations(page: Any) -> list[str]:
    result = await page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, help: v.help, impact: v.impact,
                                      targets: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [f"axe {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in result]


async def focus_problems(page: Any) -> list[str]:
    """Tabs through the page from its top; says what is out of order, unreached or unseen."""
    problems: list[str] = []
    focusable = await page.evaluate(_FOCUSABLE)
    problems += [f"positive tabindex on {f['tag']}" for f in focusable
                 if f["tabindex"] is not None and re.fullmatch(r"\d+", f["tabindex"]) and int(f["tabindex"]) > 0]
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await page.mouse.click(1, 1)  # the sequential focus starting point: the top of the page
    visited: list[dict[str, Any]] = []
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(_FOCUSED)
        if focused is None or (visited and focused["key"] == visited[0]["key"]):
            break  # out of the page, or round again
        visited.append(focused)
    if len(visited) != len(focusable):
        problems.append(f"Tab reached {len(visited)} of {len(focusable)} focusable elements: "
                        f"{[v['id'] for v in visited]}")
    for before, after in zip(visited, visited[1:], strict=False):
        if not _follows(before, after):
            problems.append(f"tab order {before['id']} -> {after['id']} goes against the visual order")
    for element in visited:
        problems += [f"focus on {element['id']}: {p}" for p in _ring_problems(element)]
    return problems


def _follows(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """b comes after a in reading order: below it, or on the same line to its right."""
    if b["top"] >= a["bottom"] - 1:
        return True
    same_line = b["top"] < a["bottom"] and a["top"] < b["bottom"]
    return bool(same_line and b["left"] >= a["right"] - 1)


def _ring_problems(element: dict[str, Any]) -> list[str]:
    if element["outlineStyle"] in ("none", "hidden") or element["outlineWidth"] < MIN_OUTLINE_PX:
        return [f"no visible outline ({element['outlineStyle']} {element['outlineWidth']}px)"]
    behind = _rgba(element["behind"])
    ring = _over(_rgba(element["outlineColor"]), behind)
    ratio = contrast(ring, behind[:3])
    if ratio < MIN_FOCUS_CONTRAST:
        return [f"outline {element['outlineColor']} on {element['behind']} has contrast {ratio:.2f}:1"]
    return []


def _rgba(css: str) -> tuple[float, float, float, float]:
    found = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", css.strip())
    if found is None:
        raise ValueError(f"unexpected computed colour {css!r}")
    r, g, b, a = found.groups()
    return float(r), float(g), float(b), float(a) if a is not None else 1.0


def _over(color: tuple[float, float, float, float], behind: tuple[float, float, float, float],
          ) -> tuple[float, float, float]:
    alpha = color[3]
    return (color[0] * alpha + behind[0] * (1 - alpha), color[1] * alpha + behind[1] * (1 - alpha),
            color[2] * alpha + behind[2] * (1 - alpha))


def contrast(one: tuple[float, ...], two: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (0-255 channels)."""
    lighter, darker = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(rgb: tuple[float, ...]) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
