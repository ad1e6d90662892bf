"""Scale-out (issue 16): two server processes behind nginx on one PostgreSQL database.

`python -m dashboard serve --replicas 2` is started as an operator would start it, on
loopback, on a fresh small demo database. Browser-less sessions (scripts/stclient.py: the
browser's own websocket protocol, sign-in through the form and the bind route, cookies
kept) spread over both processes by nginx's affinity cookie and do a short paced journey.
Then one process is killed, and:
- the sessions on the other carry on in the same Streamlit session (the area each chose
  before is still in effect, no new sign-in);
- the sessions that were on the killed one reconnect, as the browser does, and are served
  by the other, still signed in (the sign-in is a row in the shared database);
- new sessions sign in and are served.
No Chromium: marked browser because it starts real servers and nginx (about 40 s on an idle
2-core machine).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from dashboard.app import replicas
from dashboard.data import db
from dashboard.demo import demo_data
from dashboard.demo.accounts import create_demo_users
from tests.browser.helpers import IN_CI, ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from stclient import Session  # noqa: E402 - scripts/ is not a package

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
CHIEF = ("chief.exec", "demo-chief-2026!")
START_S = 90


@pytest.fixture(scope="module")
def nginx():
    found = replicas.find_nginx()
    if not found:
        reason = "nginx is missing (apt-get install nginx; scripts/test.sh installs it)"
        if IN_CI:
            pytest.fail(reason + "; CI must run the replica test")
        pytest.skip(reason)
    return found


@pytest.fixture
def replica_pair(nginx, new_pg_url, tmp_path):
    """`serve --replicas 2` on a fresh demo database: (public URL, replicas.json state)."""
    url = new_pg_url()
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo_data.generate(engine, seed=7, as_of=date(2026, 10, 31),
                       scale=demo_data.small_scale())
    with engine.begin() as conn:
        create_demo_users(conn)
    engine.dispose()
    run_dir = tmp_path / "run"
    port = replicas.free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--database-url", url, "serve", "--replicas", "2",
         "--port", str(port), "--address", "127.0.0.1", "--run-dir", str(run_dir),
         "--no-restart"], cwd=ROOT, env=replicas.server_env(url), stdout=log,
        stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_S
    while not ((run_dir / "replicas.json").exists() and replicas.healthy(base)):
        assert proc.poll() is None and time.monotonic() < deadline, (
            tmp_path / "serve.log").read_text()[-3000:]
        time.sleep(0.2)  # polling while the processes start
    state = json.loads((run_dir / "replicas.json").read_text())
    yield base, state, proc
    replicas.stop(proc, seconds=30)
    log.close()


async def _sessions_on_both(base: str, per_replica: int = 2) -> dict[str, list[Session]]:
    """Sign in new sessions until each of the two processes holds `per_replica`."""
    held: dict[str, list[Session]] = {"1": [], "2": []}
    for _attempt in range(16):
        if all(len(v) >= per_replica for v in held.values()):
            break
        s = Session(base, timeout=60)
        first = await s.sign_in(*CHIEF)
        assert first.ok, first.problem
        if len(held[s.replica]) < per_replica:
            held[s.replica].append(s)
        else:
            await s.close()
    assert all(len(v) >= per_replica for v in held.values()), (
        "nginx did not spread 16 new browsers over both processes")
    return held


async def _scenario(base: str, state: dict) -> None:
    held = await _sessions_on_both(base)
    rng = random.Random(16)
    areas = {}
    # a short paced journey on every session: choose an area, open pages with think time
    for replica, sessions in held.items():
        for s in sessions:
            run = await s.choose("Area", "Kent")
            assert run.ok, run.problem
            areas[id(s)] = "Kent"
            for page in ("staffing", "payback"):
                await asyncio.sleep(rng.uniform(0.2, 0.6))  # think time
                run = await s.run(page)
                assert run.ok and "Kent" in run.text(), (replica, page, run.problem)
                assert s.replica == replica  # affinity: the same process all along
            run = await s.choose("Area", "Kent")  # a filter change reruns the page shown
            assert run.ok and run.heading() == "Unpaid work (Community Payback)", run.heading()

    killed = next(r for r in state["replicas"] if r["number"] == 1)
    os.kill(killed["pid"], signal.SIGKILL)
    survivors, orphans = held["2"], held["1"]

    # sessions on the other process carry on, in the same Streamlit session
    for s in survivors:
        for page in ("gate", "quality"):
            run = await s.run(page)
            assert run.ok, run.problem
            assert "Kent" in run.text(), "the session's own filter was lost"

    # sessions on the killed process: their websocket is gone; the browser reconnects,
    # nginx sends it to the other process, and it is still signed in (no form)
    for s in orphans:
        with pytest.raises(Exception):  # noqa: B017 - any closed-connection error
            await s.run("gate")
        await s.close()
        await s.connect()
        run = await s.run("gate", query="")
        assert run.ok and run.pages, run.problem or "signed out after the move"
        assert run.heading() == "Through the Gate"
        assert s.replica == "2"

    # new sessions are served (whatever their cookie would have chosen)
    for _ in range(3):
        s = Session(base, timeout=60)
        first = await s.sign_in(*CHIEF, page="staffing")
        assert first.ok, first.problem
        assert s.replica == "2"
        await s.close()
    for s in survivors + orphans:
        await s.close()


def _run_in_own_thread(coro) -> None:
    """asyncio.run on a thread of its own: in the whole suite, Playwright's sync API holds an
    event loop on the main thread (the browser fixtures are module- or session-scoped), and
    asyncio.run refuses to start inside a running loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def test_two_replicas_behind_nginx_survive_losing_one(replica_pair):
    base, state, proc = replica_pair
    assert len(state["replicas"]) == 2
    _run_in_own_thread(_scenario(base, state))
    assert proc.poll() is None, "serve stopped when one replica died"
    survivor = next(r for r in state["replicas"] if r["number"] == 2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    for pid in (survivor["pid"], state["nginx_pid"]):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
