"""``psychometrics track init|ingest|signals|serve|export|user``.

Heavy imports (SQLAlchemy, Starlette) happen inside the commands, so ``psychometrics
--help`` works without the ``tracking`` extra.
"""
from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from pathlib import Path

from ..io.cli_options import add_read_options, read_options

DEFAULT_DB = "clinic.db"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "track", help="clinic tracking: store, expected recovery, signals, web page",
        description="Routine outcome monitoring: a database of assessments, expected-recovery "
                    "and alliance-rupture signals, and a web page for therapists.")
    sub = p.add_subparsers(dest="track_command", metavar="SUBCOMMAND")
    sub.required = True

    def db_arg(q):
        q.add_argument("--db", default=os.environ.get("PSYCHOMETRICS_TRACK_DB", DEFAULT_DB),
                       help="SQLite file or SQLAlchemy URL, e.g. postgresql+psycopg://user@host"
                            f"/clinic (default {DEFAULT_DB} or $PSYCHOMETRICS_TRACK_DB)")

    q = sub.add_parser("init", help="create the store or upgrade its schema (idempotent)")
    db_arg(q)
    q.set_defaults(func=run_init)

    q = sub.add_parser("ingest", help="validate, score and store a file of assessments")
    db_arg(q)
    q.add_argument("file", help="assessments (.csv, .tsv, .parquet, .xlsx)")
    q.add_argument("--correct", action="store_true",
                   help="the rows correct stored assessments (old versions kept in history)")
    q.add_argument("--no-signals", action="store_true",
                   help="do not compute signals now (bulk back-loading; run 'track signals')")
    q.add_argument("--rejected", help="write the rejected rows with their reasons to this CSV")
    add_read_options(q)
    q.set_defaults(func=run_ingest)

    q = sub.add_parser("signals", help="(re)fit expected recovery and compute signals")
    db_arg(q)
    q.add_argument("--refit", action="store_true",
                   help="fit a new expected-recovery model version first")
    q.add_argument("--bands", type=int, default=5, help="intake-severity bands (default 5)")
    q.add_argument("--level", type=float, default=0.90,
                   help="tolerance band coverage (default 0.90)")
    q.add_argument("--norms", help="norm set for reliable change and cut-off (default us)")
    q.add_argument("--out", help="also write the signals to this CSV")
    q.set_defaults(func=run_signals)

    q = sub.add_parser("serve", help="start the web page (creates the store if needed)")
    db_arg(q)
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, default=8000)
    q.add_argument("--https-only", action="store_true",
                   help="mark the session cookie Secure (behind an HTTPS proxy)")
    q.add_argument("--demo", action="store_true",
                   help="fill an empty store with a simulated clinic and two demo accounts "
                        "(passwords printed once)")
    q.set_defaults(func=run_serve)

    q = sub.add_parser("export", help="write the stored data to a file for analysis")
    db_arg(q)
    q.add_argument("out", help="output file (.csv, .parquet, .xlsx)")
    q.add_argument("--instrument", help="only this instrument")
    q.add_argument("--signals", action="store_true", help="export the signals instead")
    q.set_defaults(func=run_export)

    q = sub.add_parser("user", help="add an account or reset its password")
    db_arg(q)
    q.add_argument("username")
    q.add_argument("--role", choices=("therapist", "supervisor"), required=True)
    q.add_argument("--therapist", help="therapist code of a therapist account")
    q.add_argument("--password-file",
                   help="read the password from this file (default: ask on the terminal)")
    q.add_argument("--replace", action="store_true", help="reset an existing account")
    q.set_defaults(func=run_user)


def run_init(args) -> int:
    from .store import current_revision, init_db

    engine = init_db(args.db)
    print(f"Tracking store ready at schema revision {current_revision(engine)}.")
    return 0


def run_ingest(args) -> int:
    from .ingestion import ingest
    from .store import open_store

    engine = open_store(args.db)
    res = ingest(engine, args.file, mode="correct" if args.correct else "add",
                 signals=not args.no_signals, reading=read_options(args))
    print(res.summary().as_text())
    if args.rejected:
        res.rejected.to_csv(args.rejected, index=False)
        print(f"Rejected rows written to {args.rejected}.")
    return 1 if res.n_rejected else 0


def run_signals(args) -> int:
    from .expected import fit_expected, load_model
    from .signals import pending_assessments, update_signals
    from .store import open_store

    engine = open_store(args.db)
    if args.refit or load_model(engine) is None:
        model = fit_expected(engine, n_bands=args.bands, level=args.level, norms=args.norms)
        print(model.summary().as_text())
        print()
    res = update_signals(engine, pending_assessments(engine),
                         norms={"oq-45.2": args.norms} if args.norms else None)
    print(res.summary().as_text())
    if args.out:
        res.table.to_csv(args.out, index=False)
    return 0


def run_serve(args) -> int:
    from .store import init_db
    from .web import serve

    engine = init_db(args.db)
    if args.demo:
        _demo(engine)
    print(f"Serving the tracking page on http://{args.host}:{args.port}/ (Ctrl+C to stop).",
          flush=True)
    serve(engine, args.host, args.port, https_only=args.https_only)
    return 0


def _demo(engine) -> None:
    from sqlalchemy import func, select

    from .auth import add_user
    from .demo import simulate_clinic
    from .expected import fit_expected
    from .ingestion import ingest
    from .schema import assessments
    from .signals import pending_assessments, update_signals

    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(assessments)).scalar_one()
    if n:
        print("The store already holds assessments; --demo adds nothing.")
        return
    ingest(engine, simulate_clinic(300, n_therapists=6), signals=False)
    fit_expected(engine)
    update_signals(engine, pending_assessments(engine))
    pw_s, pw_t = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    add_user(engine, "supervisor", pw_s, "supervisor", replace=True)
    add_user(engine, "therapist1", pw_t, "therapist", "T001", replace=True)
    print(f"Demo clinic: 300 simulated patients. Accounts: supervisor / {pw_s}, "
          f"therapist1 / {pw_t} (therapist T001).")


def run_export(args) -> int:
    from .exporting import export
    from .store import open_store

    path = export(open_store(args.db), args.out, instrument=args.instrument,
                  what="signals" if args.signals else "assessments")
    print(f"Written {path}.")
    return 0


def run_user(args) -> int:
    from .auth import add_user
    from .store import open_store

    if args.password_file:
        password = Path(args.password_file).read_text().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ.", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    add_user(open_store(args.db), args.username, password, args.role, args.therapist,
             replace=args.replace)
    print(f"Account {args.username!r} ({args.role}) saved.")
    return 0
