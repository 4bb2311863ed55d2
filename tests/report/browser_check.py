"""Open a report.html in headless Chromium and check it renders without errors.

Used by tests/report/test_pdf_and_browser.py (CI installs Debian's ``chromium``); run it
by hand::

    python tests/report/browser_check.py validation_reports/example/report.html

It (1) dumps the DOM after scripts would have run, with a console-error catcher
injected into a copy of the page, and checks no error was recorded, every image
decoded (naturalWidth > 0) and every table has rows; (2) takes a full-page
screenshot (``--screenshot``, default ``$TMPDIR/report_screenshot.png``)
for a person to look at; (3) scans Chromium's stderr log for console errors.
Exit status 0 when everything passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]

# Injected into a copy of the page: records errors and checks images and tables
# once the page has loaded, writing the verdict into the DOM for --dump-dom.
PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.tagName))));
}, true);
(function () {
  var orig = console.error;
  console.error = function () { window.__errors.push('console: ' + [].join.call(arguments, ' '));
                                 orig.apply(console, arguments); };
})();
window.addEventListener('load', function () {
  var imgs = document.images, bad = [];
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].alt || ('img ' + i));
  }
  var tables = document.querySelectorAll('table.apa'), empty = 0;
  tables.forEach(function (t) { if (t.querySelectorAll('tbody tr').length === 0) empty++; });
  var out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = JSON.stringify({errors: window.__errors, images: imgs.length,
                                    broken_images: bad, tables: tables.length,
                                    empty_tables: empty,
                                    sections: document.querySelectorAll('main section').length,
                                    failed_sections: document.querySelectorAll('section.failed').length});
  document.body.appendChild(out);
});
</script>
"""


def run(cmd: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def main(argv=None) -> int:
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("--screenshot", type=Path, default=None)
    ap.add_argument("--width", type=int, default=1100)
    ap.add_argument("--height", type=int, default=8000)
    args = ap.parse_args(argv)
    html = args.html.resolve()
    if not Path(CHROMIUM).exists():
        print(f"chromium not found at {CHROMIUM}; install it (apt-get install -y chromium).")
        return 1
    shot = (args.screenshot or Path(tempfile.gettempdir()) / "report_screenshot.png").resolve()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        probe_page = Path(tmp) / "probe.html"
        text = html.read_text(encoding="utf-8")
        probe_page.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
        prof = Path(tmp) / "profile"
        r = run([CHROMIUM, *FLAGS, f"--user-data-dir={prof}", "--virtual-time-budget=5000",
                 "--dump-dom", probe_page.as_uri()])
        m = re.search(r'<pre id="__probe">(.*?)</pre>', r.stdout, re.S)
        if not m:
            problems.append("the probe did not report (page did not load?)")
            print(r.stderr[-2000:])
        else:
            verdict = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
            print("DOM probe:", json.dumps(verdict))
            if verdict["errors"]:
                problems.append(f"JavaScript/console errors: {verdict['errors']}")
            if verdict["broken_images"]:
                problems.append(f"images that did not decode: {verdict['broken_images']}")
            if verdict["empty_tables"]:
                problems.append(f"{verdict['empty_tables']} tables without rows")
        for line in r.stderr.splitlines():
            if re.search(r"CONSOLE.*(error|Uncaught)|Failed to load|ERR_FILE_NOT_FOUND", line, re.I):
                problems.append(f"chromium log: {line.strip()}")
        prof2 = Path(tmp) / "profile2"
        r2 = run([CHROMIUM, *FLAGS, f"--user-data-dir={prof2}",
                  f"--window-size={args.width},{args.height}", f"--screenshot={shot}",
                  html.as_uri()])
        if not shot.exists():
            problems.append(f"no screenshot written ({r2.stderr[-500:]})")
        else:
            print(f"screenshot: {shot}")
        for line in r2.stderr.splitlines():
            if re.search(r"CONSOLE.*(error|Uncaught)|Failed to load|ERR_FILE_NOT_FOUND", line, re.I):
                problems.append(f"chromium log: {line.strip()}")
    if problems:
        print("FAIL")
        for p in problems:
            print("  -", p)
        return 1
    print("OK: no console errors, all images decoded, all tables have rows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
