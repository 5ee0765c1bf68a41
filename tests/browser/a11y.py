"""The accessibility check of every page the browser tests open: axe-core (Deque's engine, MPL
2.0, pinned in tests/browser/package-lock.json and installed by tests/browser/install-axe, which
.ci/run calls) injected into the page, WCAG 2.x A and AA rules. A serious or critical violation
fails the test; lesser ones are printed. Pages run under the console's CSP, which allows no
script: the test's browser context bypasses CSP so the engine can be injected.

Screenshots of the same pages go to ``ARTIFACTS`` (printed once), for people to look at.
"""

from pathlib import Path
from typing import Any

from tests.required import missing

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / ".omniroo" / "artifacts" / "screenshots"
FAILING = ("serious", "critical")
_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " : " + n.failureSummary),
  }));
}"""


def axe_path() -> Path:
    if not AXE.exists():
        missing("axe-core is not installed: run tests/browser/install-axe")
    return AXE


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_path()))
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


def check(page: Any, name: str) -> None:
    """Fail on any serious or critical violation; save a screenshot as ``name``.png."""
    found = violations(page)
    for minor in (v for v in found if v["impact"] not in FAILING):
        print(f"a11y {name}: {minor['impact']} {minor['id']}: {minor['help']}")
    serious = [v for v in found if v["impact"] in FAILING]
    assert not serious, f"{name} ({page.url}): " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}): {v['nodes'][:3]}" for v in serious
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
