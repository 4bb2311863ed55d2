"""Charts of the patient page as inline SVG, rendered on the server (no scripts, no CDN).

Only numbers and escaped labels enter the markup.
"""
from __future__ import annotations

import html
import math

import numpy as np
from markupsafe import Markup

__all__ = ["trajectory_svg", "alliance_svg"]

W, H = 640, 260
ML, MR, MT, MB = 48, 16, 28, 36


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (np.asarray(v, float) - lo) / span * (b - a)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    raw = (hi - lo) / max(n, 1) or 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step) + 1)]


def _frame(title: str, xlo, xhi, ylo, yhi, ylabel: str) -> tuple[list[str], object, object]:
    sx = _scale(xlo, xhi, ML, W - MR)
    sy = _scale(ylo, yhi, H - MB, MT)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img" aria-label="{html.escape(title)}" class="chart">',
           f"<title>{html.escape(title)}</title>",
           f'<text x="{ML}" y="16" class="chart-title">{html.escape(title)}</text>',
           f'<line x1="{ML}" y1="{H - MB}" x2="{W - MR}" y2="{H - MB}" class="axis"/>',
           f'<line x1="{ML}" y1="{MT}" x2="{ML}" y2="{H - MB}" class="axis"/>']
    for v in _ticks(ylo, yhi):
        y = float(sy(v))
        out.append(f'<line x1="{ML - 4}" y1="{y:.1f}" x2="{W - MR}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{ML - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                   f"{v:g}</text>")
    for v in _ticks(xlo, xhi, 8):
        if abs(v - round(v)) > 1e-9:
            continue
        x = float(sx(v))
        out.append(f'<text x="{x:.1f}" y="{H - MB + 16}" text-anchor="middle" class="tick">'
                   f"{int(v)}</text>")
    out.append(f'<text x="{(ML + W - MR) / 2:.0f}" y="{H - 4}" text-anchor="middle" '
               f'class="label">session</text>')
    out.append(f'<text x="12" y="{(MT + H - MB) / 2:.0f}" transform="rotate(-90 12 '
               f'{(MT + H - MB) / 2:.0f})" text-anchor="middle" class="label">'
               f"{html.escape(ylabel)}</text>")
    return out, sx, sy


def _points(sx, sy, sessions, values, cls: str, flagged=()) -> list[str]:
    out = []
    xs, ys = sx(sessions), sy(values)
    if len(sessions) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
        out.append(f'<polyline points="{path}" class="{cls}-line"/>')
    for s, v, x, y in zip(sessions, values, xs, ys):
        c = f"{cls}-point flagged" if int(s) in flagged else f"{cls}-point"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="{c}"><title>session {int(s)}'
                   f": {v:g}</title></circle>")
    return out


def trajectory_svg(sessions, scores, band=None, *, title: str, ylabel: str,
                   flagged=()) -> Markup:
    """Outcome trajectory with the expected curve and its tolerance band.

    ``band`` is a DataFrame with ``session, expected, lower, upper`` (or None: no model).
    """
    sessions = np.asarray(sessions, float)
    scores = np.asarray(scores, float)
    ys = [scores]
    xs = [sessions]
    if band is not None and len(band):
        ys += [band["lower"].to_numpy(float), band["upper"].to_numpy(float)]
        xs.append(band["session"].to_numpy(float))
    allx, ally = np.concatenate(xs), np.concatenate(ys)
    ylo, yhi = float(np.nanmin(ally)), float(np.nanmax(ally))
    pad = max(2.0, 0.08 * (yhi - ylo))
    out, sx, sy = _frame(title, 1.0, max(2.0, float(np.nanmax(allx))), ylo - pad, yhi + pad,
                         ylabel)
    if band is not None and len(band):
        bx = sx(band["session"])
        up = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(bx, sy(band["upper"])))
        lo = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(bx[::-1], sy(band["lower"])[::-1]))
        out.append(f'<polygon points="{up} {lo}" class="band"><title>tolerance band'
                   "</title></polygon>")
        ex = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(bx, sy(band["expected"])))
        out.append(f'<polyline points="{ex}" class="expected-line"/>')
    out += _points(sx, sy, sessions, scores, "score", flagged)
    out.append("</svg>")
    return Markup("\n".join(out))


def alliance_svg(sessions, scores, own_mean, threshold: float | None, *, title: str,
                 ylabel: str, flagged=()) -> Markup:
    """Alliance trajectory with the patient's running mean (and mean minus threshold)."""
    sessions = np.asarray(sessions, float)
    scores = np.asarray(scores, float)
    own_mean = np.asarray(own_mean, float)
    lows = own_mean - (threshold or 0.0)
    vals = np.concatenate([scores, own_mean[np.isfinite(own_mean)],
                           lows[np.isfinite(lows)]])
    ylo, yhi = float(np.nanmin(vals)), float(np.nanmax(vals))
    pad = max(1.0, 0.08 * (yhi - ylo))
    out, sx, sy = _frame(title, 1.0, max(2.0, float(np.nanmax(sessions))), ylo - pad,
                         yhi + pad, ylabel)
    ok = np.isfinite(own_mean)
    if ok.sum() >= 1:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(sx(sessions[ok]), sy(own_mean[ok])))
        out.append(f'<polyline points="{pts}" class="mean-line"><title>own running mean'
                   "</title></polyline>")
        if threshold:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(sx(sessions[ok]), sy(lows[ok])))
            out.append(f'<polyline points="{pts}" class="threshold-line"><title>own mean minus '
                       "reliable-change threshold</title></polyline>")
    out += _points(sx, sy, sessions, scores, "alliance", flagged)
    out.append("</svg>")
    return Markup("\n".join(out))
