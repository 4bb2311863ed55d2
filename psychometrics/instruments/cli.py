"""``psychometrics instruments list | show NAME | validate FILE``."""
from __future__ import annotations

import argparse

from .loader import instrument_paths, load_instrument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("instruments", help="List, show and validate item banks.")
    sub = p.add_subparsers(dest="instruments_command", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="List the shipped item banks.").set_defaults(func=_list)
    show = sub.add_parser("show", help="Show a bank's items, scales, forms and norms.")
    show.add_argument("name", help="A shipped name or a YAML file.")
    show.set_defaults(func=_show)
    val = sub.add_parser("validate", help="Validate a bank file; list every problem.")
    val.add_argument("file", help="The YAML file to check.")
    val.set_defaults(func=_validate)


def _list(args: argparse.Namespace) -> int:
    rows = []
    for name, path in instrument_paths().items():
        inst = load_instrument(path)
        flag = " (provisional)" if inst.provisional else ""
        rows.append((name, f"{len(inst.items)} items, {len(inst.scales)} scales",
                     inst.name + flag))
    width = max(len(r[0]) for r in rows) if rows else 0
    for name, size, title in rows:
        print(f"{name:<{width}}  {size:<22}  {title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    print(describe(load_instrument(args.name)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    inst = load_instrument(args.file)
    print(f"{args.file}: valid bank {inst.id!r} ({len(inst.items)} items, "
          f"{len(inst.scales)} scales, {len(inst.forms)} forms, {len(inst.norms)} norm sets).")
    return 0


def describe(inst) -> str:
    """A plain-text description of a bank, with the provenance of each fact."""
    rs = inst.response_scale
    unverified = "" if rs.provenance.verified else "  [unverified]"
    lines = [f"{inst.name}  (id {inst.id}, version {inst.version})"]
    if inst.provisional:
        lines.append("PROVISIONAL bank: not a claim about the published instrument.")
    lines += [f"Citation: {inst.citation}", f"Licence: {inst.licence}", "",
              f"Response scale {rs.min}..{rs.max}{unverified}"]
    for point, label in sorted(rs.labels.items()):
        lines.append(f"  {point} = {label}")
    lines += ["", f"Items: {len(inst.items)} ({sum(not i.verified for i in inst.items)} unverified)",
              "", "Scales:"]
    for sid, s in inst.scales.items():
        lo, hi = inst.scale_range(sid)
        what = ("components " + ", ".join(s.components)) if s.components else (
            f"{len(s.items)} items: " + ", ".join(s.items))
        mark = "" if s.provenance.verified else "  [unverified]"
        lines.append(f"  {sid} - {s.name} ({s.method}, {lo:g}-{hi:g}){mark}")
        lines.append(f"      {what}")
        if s.reverse:
            lines.append("      reverse-keyed: " + ", ".join(s.reverse))
        if s.missing is not None:
            m = s.missing
            k = {"min_answered": f" (at least {m.min_answered} answered)",
                 "impute_rounded_mean": f" (at most {m.max_missing} blanks)"}.get(m.rule, "")
            mark = "" if m.provenance.verified else "  [unverified]"
            lines.append(f"      missing data: {m.rule}{k}{mark}")
    if inst.forms:
        lines += ["", "Forms:" + (f" (default {inst.default_form})" if inst.default_form else "")]
        for fid, f in inst.forms.items():
            lines.append(f"  {fid} - {f.name}: scales {', '.join(f.scales or inst.scales)}")
    if inst.norms:
        lines += ["", "Norm sets:"]
        for nid, n in inst.norms.items():
            mark = "" if n.provenance.verified else "  [unverified]"
            lines.append(f"  {nid} - {n.name}{mark}")
            for sid, sn in n.scales.items():
                parts = [f"{k} {v:g}" for k, v in (("cut-off", sn.cutoff), ("RCI", sn.rci))
                         if v is not None]
                lines.append(f"      {sid}: " + ", ".join(parts))
    return "\n".join(lines)
