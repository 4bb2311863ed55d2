"""Fixtures of the tracking tests: stores on SQLite and on a real throwaway PostgreSQL
server, a live web server, and headless Chromium.

PostgreSQL and Chromium are real parts: when their binaries are missing the tests that need
them FAIL with the command that installs them (``.ci/run`` installs them in CI); they are
never skipped.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest


from psychometrics.tracking.store import init_db  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "tracking"
INSTALL = ("apt-get install -y postgresql chromium chromium-driver (as .ci/run does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed; the PostgreSQL tests need a real "
                    f"server. Install it: {INSTALL}.")
    return found


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL cluster on a free localhost port; yields a base URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    root = tempfile.mkdtemp(prefix="trk_pg_")
    run_as: list[str] = []
    if os.geteuid() == 0:          # initdb refuses to run as root: use the postgres account
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("Running as root needs the 'postgres' system account (created by "
                        f"Debian's postgresql package). Install it: {INSTALL}.")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-U", "tracking", "--auth=trust", "-E",
                    "UTF8", "--no-locale"], check=True, capture_output=True)
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", data, "-o", opts, "-l",
                    os.path.join(root, "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://tracking@127.0.0.1:{port}"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_counter = iter(range(10 ** 6))


def _new_pg_db(base: str) -> str:
    import psycopg

    name = f"trk_{os.getpid()}_{next(_counter)}"
    conninfo = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A freshly initialised store on each database."""
    if request.param == "sqlite":
        eng = init_db(tmp_path / "clinic.db")
    else:
        eng = init_db(_new_pg_db(request.getfixturevalue("pg_url")))
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = init_db(tmp_path / "clinic.db")
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def clinic_csv() -> Path:
    return DATA / "clinic_small.csv"


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory, clinic_csv):
    """An SQLite store with the small simulated clinic, a fitted model and its signals."""
    from psychometrics.tracking.expected import fit_expected
    from psychometrics.tracking.ingestion import ingest
    from psychometrics.tracking.signals import pending_assessments, update_signals

    eng = init_db(tmp_path_factory.mktemp("store") / "clinic.db")
    ingest(eng, clinic_csv, signals=False)
    fit_expected(eng)
    update_signals(eng, pending_assessments(eng))
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def live_server(loaded_store):
    """The web page served by uvicorn in a thread on a free port; yields its base URL."""
    import uvicorn

    from psychometrics.tracking.auth import add_user
    from psychometrics.tracking.web import create_app

    add_user(loaded_store, "alice", "alice-password-1", "therapist", "T000", replace=True)
    add_user(loaded_store, "bob", "bob-password-12", "therapist", "T001", replace=True)
    add_user(loaded_store, "sue", "sue-password-123", "supervisor", replace=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(loaded_store), host="127.0.0.1",
                                           port=port, access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            pytest.fail("The web server did not start within 20 s.")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by selenium through Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_bin = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for b in (chromium, driver_bin):
        if not os.path.exists(b):
            pytest.fail(f"{b} is not installed; the web-page tests need a real browser. "
                        f"Install it: {INSTALL}.")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="trk_chrome_")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions", f"--user-data-dir={profile}",
                 "--window-size=1200,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})   # HTTP statuses
    drv = webdriver.Chrome(service=Service(executable_path=driver_bin), options=opts)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
