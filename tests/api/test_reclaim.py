"""A server killed outright leaves its jobs queued or running in the store; the next server to start
closes those of servers that are gone (a sweep interrupted and resumable, a run failed), each saying so,
and leaves alone the jobs of a server that is alive."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

from api.conftest import AUTH, MakeClient, stored_sweep
from gpufleet.store import open_store
from gpufleet.store.service_jobs import Owner, owners, process_started, record_owner, this_process
from gpufleet.store.sweeps import set_status


def _dead_pid() -> int:
    """The pid of a process that has ended (a server killed outright)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _queue_run(store_path: Path, run_id: str, status: str, owner: Owner) -> None:
    with open_store(store_path) as store:
        store.queue_run(run_id, "small", 1, dt.datetime.now(dt.UTC))  # this (live) process: the store's
        if status == "running":  # own check of the pid sees it alive; only the owner tells
            store.begin_run(run_id, "small", 1, dt.datetime.now(dt.UTC))
        record_owner(store, run_id, owner)


def test_jobs_of_a_server_that_is_gone_are_closed_when_a_server_starts(
    make_client: MakeClient, tmp_path: Path
) -> None:
    store_path = tmp_path / "results.duckdb"
    me = this_process()
    assert me.pid_started is not None or sys.platform != "linux"
    dead = Owner(socket.gethostname(), _dead_pid(), None)
    reused = Owner(me.host, me.pid, (me.pid_started or 0) + 1)  # this pid, but another process's start
    elsewhere = Owner("another-host", _dead_pid(), None)  # not knowable from here: left alone

    killed_sweep = stored_sweep(store_path, samples=2)
    live_sweep = stored_sweep(store_path, samples=2)
    with open_store(store_path) as store:
        for sweep_id, owner in ((killed_sweep, dead), (live_sweep, me)):
            set_status(store, sweep_id, "running")
            record_owner(store, sweep_id, owner)
    _queue_run(store_path, "20261201-000000-aaaaaa", "running", reused)
    _queue_run(store_path, "20261201-000001-bbbbbb", "queued", dead)
    _queue_run(store_path, "20261201-000002-cccccc", "running", elsewhere)
    _queue_run(store_path, "20261201-000003-dddddd", "running", me)

    client = make_client(store=store_path)

    sweep = client.get(f"/v1/sweeps/{killed_sweep}", headers=AUTH).json()
    assert sweep["status"] == "interrupted"
    assert sweep["message"] == (
        f"interrupted: the server process that held it ({dead.pid} on {dead.host}) is gone; "
        f"`gpufleet sweep --resume {killed_sweep}` finishes it"
    )
    assert client.get(f"/v1/sweeps/{live_sweep}", headers=AUTH).json()["status"] == "running"
    runs = {r["run_id"]: r for r in client.get("/v1/runs", headers=AUTH).json()["runs"]}
    for run_id, owner in (("20261201-000000-aaaaaa", reused), ("20261201-000001-bbbbbb", dead)):
        assert runs[run_id]["status"] == "failed"
        assert runs[run_id]["message"] == (
            f"interrupted: the server process that held it ({owner.pid} on {owner.host}) is gone; "
            "nothing of the run was stored: submit it again"
        )
    assert runs["20261201-000002-cccccc"]["status"] == "running"
    assert runs["20261201-000003-dddddd"]["status"] == "running"


def test_an_owner_is_alive_only_while_its_very_process_runs() -> None:
    me = this_process()
    assert me.alive()
    assert not Owner(me.host, _dead_pid(), None).alive()
    if me.pid_started is not None:
        assert not Owner(me.host, me.pid, me.pid_started + 1).alive()
        assert process_started(os.getpid()) == me.pid_started


def test_a_job_run_by_a_worker_is_held_by_that_worker(make_client: MakeClient, tmp_path: Path) -> None:
    """The server records itself when it queues a job; the worker that runs it takes it over, so a worker
    that outlives a killed server is seen alive and finishes its job."""
    from api.test_runs import submit, wait_done

    client = make_client()
    run_id = submit(client).json()["run_id"]
    assert wait_done(client, run_id)["status"] == "finished"
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:
        holder = owners(store)[run_id]
    me = this_process()
    assert holder.host == me.host and holder.pid != me.pid  # a worker process of the pool
    assert holder.alive()  # the pool's workers live as long as the server
