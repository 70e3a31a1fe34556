"""Retake every picture in docs/ from the Prefect UI as it is, and from the videos it makes.

    make up                                        # the stack (UI on http://127.0.0.1:4200)
    uv run --with playwright python docs/screenshots.py [--ui http://127.0.0.1:4200]

It drives the system's headless Chromium (`apt-get install -y chromium fonts-noto-cjk
fonts-noto-color-emoji`: without those fonts Chinese and the status icons show as boxes;
Playwright never downloads a browser here) through what a user does in the UI that
http://127.0.0.1:4200 opens (Prefect 3.9.1's V2 UI, under /v2): the new-video and new-batch
Run forms, three videos made from the bundled short sample (a landscape one of length `short`,
one held for review, a Short with word captions), their run pages and artifacts, and the Resume
form behind the run's ⋮ menu. Then it takes the thumbnail and frames from the videos the worker
made. The projects are made through the `new-video` deployment, on the stack's own database and
data dir (`--data-dir`, default `data/`, as `make up` uses).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SAMPLE = ROOT / "data" / "samples" / "night-markets.short.zh-TW.md"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1400
RUN_TIMEOUT = 1800.0  # seconds: three short videos on a busy 2-core machine


class Stack:
    """The stack's REST API (what the UI calls)."""

    def __init__(self, ui: str) -> None:
        self.ui = ui.rstrip("/")
        self.http = httpx.Client(base_url=f"{self.ui}/api", timeout=60)

    def deployment(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/deployments/name/{name}/{name}")

    def submit(self, deployment: str, parameters: dict[str, Any]) -> str:
        found = self.deployment(deployment)
        path = f"/deployments/{found['id']}/create_flow_run"
        return self._call("POST", path, json={"parameters": parameters})["id"]

    def run(self, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/flow_runs/{run_id}")

    def children(self, run_id: str) -> list[dict[str, Any]]:
        body = {"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}, "sort": "START_TIME_ASC"}
        return self._call("POST", "/flow_runs/filter", json=body)

    def artifact(self, run_id: str, key: str) -> dict[str, Any]:
        body = {"artifacts": {"flow_run_id": {"any_": [run_id]}, "key": {"any_": [key]}}}
        (found,) = self._call("POST", "/artifacts/filter", json=body)
        return found

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request; a server on SQLite answers 503 while its database is locked: ask again."""
        for attempt in range(10):
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 503:
                break
            time.sleep(1 + attempt)
        response.raise_for_status()
        return response.json()

    def wait(self, run_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            run = self.run(run_id)
            if done(run):
                return run
            if run["state"]["type"] in ("FAILED", "CRASHED", "CANCELLED"):
                raise SystemExit(f"run {run['name']} ended {run['state']}")
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run['name']} still {run['state']['name']}")
            time.sleep(5)


def finished(run: dict[str, Any]) -> bool:
    return run["state"]["type"] == "COMPLETED"


def suspended(run: dict[str, Any]) -> bool:
    return run["state"]["type"] == "PAUSED"


def project_of(stack: Stack, run_id: str) -> int:
    """The project id a new-video run made (its run name: new-video-{id}-...)."""
    name = stack.run(run_id)["name"]
    return int(name.split("-")[2])


# --- the browser -------------------------------------------------------------------------------


def shoot(page: Page, out: Path, *, height: int | None = None) -> None:
    """The page at full height (the UI scrolls inside its own panel, so the window grows)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # charts and markdown settle after the data arrives
    tall = height or page.evaluate(
        "Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": WIDTH, "height": min(int(tall) + 40, 4000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(out), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": 1000})
    print(f"wrote {out.relative_to(ROOT)}")


def run_form(page: Page, stack: Stack, deployment: str, out: Path, fill: list[str]) -> None:
    """Deployments → {deployment} → Run (top right) → Custom run: the form, its first text boxes
    filled in with `fill` (new-video: Name, Content; new-batch: Batch (YAML))."""
    found = stack.deployment(deployment)
    page.goto(f"{stack.ui}/v2/deployments/deployment/{found['id']}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()  # Quick run has no form
    page.get_by_role("button", name="Submit").wait_for()
    for index, value in enumerate(fill):
        page.locator("textarea").nth(index).fill(value)
    shoot(page, out)


def run_page(page: Page, stack: Stack, run_id: str, out: Path, tab: str = "Artifacts") -> None:
    """Runs → the run, one of the tabs under its graph (Details, Logs, ..., Artifacts)."""
    page.goto(f"{stack.ui}/v2/runs/flow-run/{run_id}?tab={tab}")
    page.get_by_text(stack.run(run_id)["name"]).first.wait_for()
    shoot(page, out)


def artifact_page(page: Page, stack: Stack, artifact: dict[str, Any], out: Path) -> None:
    page.goto(f"{stack.ui}/v2/artifacts/artifact/{artifact['id']}")
    page.get_by_text(artifact["key"]).first.wait_for()
    shoot(page, out)


def resume_form(page: Page, stack: Stack, run_id: str, menu: Path | None, out: Path) -> None:
    """Runs → the suspended run → ⋮ (Open menu, top right) → Resume: the typed review form."""
    page.set_viewport_size({"width": WIDTH, "height": 2400})  # the dialog grows with the window
    page.goto(f"{stack.ui}/v2/runs/flow-run/{run_id}")
    page.get_by_text(stack.run(run_id)["name"]).first.wait_for()
    page.get_by_role("button", name="Open menu").first.click()
    page.get_by_role("menuitem", name="Resume").wait_for()
    page.wait_for_timeout(500)
    if menu is not None:
        page.screenshot(path=str(menu), clip={"x": 0, "y": 0, "width": WIDTH, "height": 420})
        print(f"wrote {menu.relative_to(ROOT)}")
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Resume").wait_for()
    page.wait_for_timeout(1500)
    dialog.screenshot(path=str(out))
    print(f"wrote {out.relative_to(ROOT)}")
    dialog.get_by_role("button", name="Cancel").click()
    page.set_viewport_size({"width": WIDTH, "height": 1000})


@contextlib.contextmanager
def browser_page(chromium: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS, headless=True
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.set_default_timeout(180_000)
        yield page
        browser.close()


def script_review_pictures(page: Page, stack: Stack, run_id: str) -> None:
    """A video held after its script: the script's table and the Resume form with a field per
    piece (the menu is the same as the upload review's)."""
    stack.wait(run_id, suspended)
    held = project_of(stack, run_id)
    script = stack.artifact(run_id, f"video-{held}-script")
    artifact_page(page, stack, script, DOCS / "prefect-ui-script-review-artifact.png")
    resume_form(page, stack, run_id, None, DOCS / "prefect-ui-script-review-form.png")


# --- pictures from the videos -------------------------------------------------------------------


def frame(video: Path, seconds: float, out: Path, width: int) -> None:
    """One frame of `video` at `seconds`, as a JPEG `width` pixels wide."""
    from imageio_ffmpeg import get_ffmpeg_exe

    subprocess.run(
        [get_ffmpeg_exe(), "-y", "-loglevel", "error", "-ss", f"{seconds}", "-i", str(video)]
        + ["-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "3", str(out)],
        check=True,
    )
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui", default="http://127.0.0.1:4200")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument(
        "--reuse",
        type=json.loads,
        default=None,
        help='runs of an earlier call (its "submitted:" line) instead of new ones',
    )
    parser.add_argument(
        "--only-script-review",
        action="store_true",
        help="only the script review's pictures (one video held after its script: a minute)",
    )
    args = parser.parse_args()
    stack = Stack(args.ui)
    text = SAMPLE.read_text("utf-8")
    name = text.splitlines()[0].lstrip("# ").strip()
    video = {"name": name, "content": text, "length": "short"}
    held = {**video, "review": "script"}
    if args.only_script_review:
        with browser_page(args.chromium) as page:
            script_review_pictures(page, stack, stack.submit("new-video", {"video": held}))
        return
    runs = args.reuse or {
        "script": stack.submit("new-video", {"video": held}),
        "video": stack.submit("new-video", {"video": video}),
        "review": stack.submit("new-video", {"video": {**video, "review": "upload"}}),
        "short": stack.submit(
            "new-video", {"video": {**video, "format": "shorts", "captions": "words"}}
        ),
    }
    print("submitted:", json.dumps(runs))

    with browser_page(args.chromium) as page:
        script_review_pictures(page, stack, runs["script"])
        form = [name, text]
        run_form(page, stack, "new-video", DOCS / "prefect-ui-new-video-form.png", form)
        body = "".join(f"      {line}\n" for line in text.splitlines()[2:5])
        yaml = f"name: 小吃\nlength: short\nprojects:\n  - name: {name}\n    content: |\n{body}"
        run_form(page, stack, "new-batch", DOCS / "prefect-ui-new-batch-form.png", [yaml])

        stack.wait(runs["video"], finished)
        (child,) = stack.children(runs["video"])
        project = project_of(stack, runs["video"])
        run_page(page, stack, runs["video"], DOCS / "prefect-ui-new-video-run.png")
        run_page(page, stack, child["id"], DOCS / "prefect-ui-video-run.png")
        summary = stack.artifact(child["id"], f"video-{project}-summary")
        artifact_page(page, stack, summary, DOCS / "prefect-ui-video-summary.png")

        stack.wait(runs["review"], suspended)
        held = project_of(stack, runs["review"])
        review = stack.artifact(runs["review"], f"video-{held}-review")
        artifact_page(page, stack, review, DOCS / "prefect-ui-review-artifact.png")
        resume_form(
            page,
            stack,
            runs["review"],
            DOCS / "prefect-ui-review-menu.png",
            DOCS / "prefect-ui-review-form.png",
        )

    output = args.data_dir / "projects" / str(project) / "output"
    (DOCS / "landscape-thumbnail.jpg").write_bytes((output / "thumbnail.jpg").read_bytes())
    frame(output / "video.mp4", 20.0, DOCS / "demo-frame.jpg", 960)
    stack.wait(runs["short"], finished)
    short = project_of(stack, runs["short"])
    frame(args.data_dir / "projects" / str(short) / "output" / "video.mp4", 9.0,
          DOCS / "short-frame.jpg", 540)  # fmt: skip


if __name__ == "__main__":
    main()
