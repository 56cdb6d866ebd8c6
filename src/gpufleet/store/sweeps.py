"""Sweeps in the store: one `sweeps` row per sweep, one `sweep_samples` row per finished or failed sample.

Samples are written chunk by chunk, each chunk in one transaction, so an interrupted sweep keeps what
finished and `--resume` computes only the rest. Tables are registered in store/schema.py SIDE_TABLES.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gpufleet.errors import InputError, Problem
from gpufleet.store.schema import SWEEP_METRICS, q
from gpufleet.store.store import Store

SWEEPS = "sweeps"
SAMPLES = "sweep_samples"
SWEEP_PREFIX = "sw-"


def new_sweep_id(now: dt.datetime | None = None) -> str:
    """`sw-20261201-003012-3fa9c2`: unique per sweep, sorting by start time."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{SWEEP_PREFIX}{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class SweepRecord:
    """A sweep's row: what it sampled, how, and where it stands."""

    sweep_id: str
    scenario_name: str
    content_hash: str
    file: str
    scenario_text: str
    fidelity: str
    samples: int
    seed: int
    sampling: str
    gpufleet_version: str
    created: dt.datetime
    updated: dt.datetime
    status: str

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "scenario_text"}
        out["created"] = self.created.isoformat()
        out["updated"] = self.updated.isoformat()
        return out


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def create_sweep(store: Store, record: SweepRecord) -> None:
    cols = list(SweepRecord.__dataclass_fields__)
    row = [getattr(record, c) for c in cols]
    row[cols.index("created")] = _naive(record.created)
    row[cols.index("updated")] = _naive(record.updated)
    with store.side_write() as con:
        con.execute(
            f"INSERT INTO {q(SWEEPS)} ({', '.join(map(q, cols))}) VALUES ({', '.join('?' for _ in cols)})",
            row,
        )


def set_status(store: Store, sweep_id: str, status: str) -> None:
    with store.side_write() as con:
        con.execute(
            f"UPDATE {q(SWEEPS)} SET status = ?, updated = ? WHERE sweep_id = ?",
            [status, _naive(dt.datetime.now(dt.UTC)), sweep_id],
        )


def save_samples(store: Store, sweep_id: str, results: list[Any]) -> None:
    """One chunk's results (risk.sweep.SampleResult), in one transaction."""
    cols = ["sweep_id", "sample", "seed", "inputs", *SWEEP_METRICS, "yearly", "error"]
    rows = []
    for r in results:
        metrics = r.metrics or {}
        rows.append(
            [
                sweep_id,
                r.sample,
                r.seed,
                json.dumps(r.inputs, sort_keys=True),
                *(metrics.get(m) if r.metrics is not None else None for m in SWEEP_METRICS),
                json.dumps(r.yearly, sort_keys=True) if r.metrics is not None else None,
                r.error,
            ]
        )
    with store.side_write() as con:
        con.executemany(
            f"INSERT INTO {q(SAMPLES)} ({', '.join(map(q, cols))}) VALUES ({', '.join('?' for _ in cols)})",
            rows,
        )


def load_sweep(store: Store, ref: str) -> SweepRecord:
    """A sweep by id, unique prefix or `latest`."""
    ids = list(store.query(f"SELECT sweep_id FROM {q(SWEEPS)} ORDER BY created, sweep_id")["sweep_id"])
    if ref == "latest" and ids:
        ref = ids[-1]
    matches = [i for i in ids if i == ref] or [i for i in ids if ref and i.startswith(ref)]
    if len(matches) != 1:
        known = ", ".join(ids[-5:][::-1]) or "none"
        why = "is ambiguous" if matches else "is not in the store"
        raise InputError([Problem(str(store.path), "", f"sweep {ref!r} {why}; latest sweeps: {known}")])
    row = store.query(f"SELECT * FROM {q(SWEEPS)} WHERE sweep_id = ?", [matches[0]]).iloc[0]
    values = {c: row[c] for c in SweepRecord.__dataclass_fields__}
    for c in ("created", "updated"):
        values[c] = pd.Timestamp(values[c]).tz_localize("UTC").to_pydatetime()
    for c in ("samples", "seed"):
        values[c] = int(values[c])
    return SweepRecord(**values)


def load_samples(store: Store, sweep_id: str) -> pd.DataFrame:
    """The sweep's stored samples in sample order: inputs and yearly as parsed JSON."""
    df = store.query(f"SELECT * FROM {q(SAMPLES)} WHERE sweep_id = ? ORDER BY sample", [sweep_id])
    df = df.drop(columns=["sweep_id"])
    df["inputs"] = [json.loads(x) for x in df["inputs"]]
    df["yearly"] = [json.loads(x) if isinstance(x, str) else None for x in df["yearly"]]
    df["error"] = [x if isinstance(x, str) else None for x in df["error"]]
    return df.reset_index(drop=True)


def list_sweeps(store: Store) -> pd.DataFrame:
    """Every sweep, oldest first, with how many of its samples are stored and how many failed."""
    return store.query(
        f"SELECT s.sweep_id, s.scenario_name, s.fidelity, s.samples, s.seed, s.status, s.created, "
        f"count(x.sample) AS stored, count(x.error) AS failed FROM {q(SWEEPS)} s "
        f"LEFT JOIN {q(SAMPLES)} x USING (sweep_id) GROUP BY ALL ORDER BY s.created, s.sweep_id"
    )


def done_samples(store: Store, sweep_id: str) -> set[int]:
    df = store.query(f"SELECT sample FROM {q(SAMPLES)} WHERE sweep_id = ?", [sweep_id])
    return {int(s) for s in df["sample"]}
