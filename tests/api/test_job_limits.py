"""The server's time limits on jobs: a run or sweep past its limit is stopped and recorded so (a run
failed with nothing of it stored, a sweep interrupted with its finished chunks whole), and the worker's
place is free for the next job."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIOS, run_cli

from api.conftest import AUTH, YAML, MakeClient
from api.test_runs import submit, wait_done
from api.test_sweeps import _wait as wait_sweep
from gpufleet.api.deadline import Stopped, limit_message, time_limit
from gpufleet.api.settings import Settings, check_settings
from gpufleet.errors import InputError
from gpufleet.store import open_store
from gpufleet.store.sweeps import load_samples

TINY_S = 0.001  # shorter than opening the store: no job can finish in it
UNCERTAIN = SCENARIOS / "uncertain.yaml"
SEND = AUTH | YAML


def test_a_run_past_the_limit_is_failed_saying_so_and_the_next_job_runs(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(run_time_limit_s=TINY_S, workers=1, queue=0)
    r = submit(client)
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    done = wait_done(client, run_id)
    assert done["status"] == "failed"
    assert done["message"] == "stopped: took longer than the server's run time limit of 0.001 s"
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:
        assert run_id not in store.run_ids()  # no tables, no row of `runs`
        assert store.query("SELECT count(*) AS n FROM jobs WHERE run_id = ?", [run_id])["n"][0] == 0
    # the one worker's place is free again: a sweep (not bound by the run limit) runs to its end
    sweep = client.post("/v1/sweeps", params={"samples": 2}, content=UNCERTAIN.read_bytes(), headers=SEND)
    assert sweep.status_code == 202, sweep.text
    assert wait_sweep(client, sweep.json()["sweep_id"])["status"] == "finished"


def test_a_sweep_past_the_limit_is_interrupted_saying_so_and_the_next_job_runs(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(sweep_time_limit_s=TINY_S, workers=1, queue=0)
    r = client.post("/v1/sweeps", params={"samples": 4}, content=UNCERTAIN.read_bytes(), headers=SEND)
    assert r.status_code == 202, r.text
    sweep_id = r.json()["sweep_id"]
    body = wait_sweep(client, sweep_id)
    assert body["status"] == "interrupted"
    assert body["message"] == (
        "stopped: took longer than the server's sweep time limit of 0.001 s; "
        f"`gpufleet sweep --resume {sweep_id}` finishes it"
    )
    listed = client.get("/v1/sweeps", headers=AUTH).json()["sweeps"]
    assert [(s["sweep_id"], s["status"], s["message"]) for s in listed] == [
        (sweep_id, "interrupted", body["message"])
    ]
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:
        samples = load_samples(store, sweep_id)
    assert len(samples) < 4  # stopped before the end; what is stored is whole samples
    whole = zip(samples["error"], samples["spend_usd"], strict=True)
    assert all(e is not None or s == s for e, s in whole)  # an error, or its figures (not NaN)
    run = submit(client)
    assert run.status_code == 202, run.text
    assert wait_done(client, run.json()["run_id"])["status"] == "finished"


def test_the_limit_stops_the_block_once_and_is_disarmed_after_it() -> None:
    with pytest.raises(Stopped) as caught, time_limit("run", TINY_S):
        while True:
            pass
    assert caught.value.message == limit_message("run", TINY_S)
    with time_limit("sweep", 3600.0):
        pass  # ends long before: nothing is raised later, the timer is off
    import signal

    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("field", ["run_time_limit_s", "sweep_time_limit_s"])
@pytest.mark.parametrize("value", [0.0, -5.0, float("nan")])
def test_limits_must_be_positive(tmp_path: Path, field: str, value: float) -> None:
    with pytest.raises(InputError, match="time-limit"):
        check_settings(Settings(store=tmp_path / "s.duckdb", no_auth=True, **{field: value}))


def test_serve_takes_the_limits_from_its_options_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "s.duckdb")
    result = run_cli("serve", "--no-auth", "--store", store, "--run-time-limit", "0", capsys=capsys)
    assert result.code == 2 and "--run-time-limit" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("GPUFLEET_SWEEP_TIME_LIMIT_S", "-1")
    result = run_cli("serve", "--no-auth", "--store", store, capsys=capsys)
    assert result.code == 2 and "--sweep-time-limit" in result.stderr and "Traceback" not in result.stderr
