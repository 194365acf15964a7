"""Fit once, report many (csmlib.run.fitcache): a wave x segment's fits are
estimated once and read back bit-identical to fitting in the notebook; a
corrupt, foreign or stale stored bootstrap is recomputed, never trusted; two
processes asking at once compute it once; nothing about a respondent is
stored.  The reference is always the plain estimation (``csm.fit_pls`` /
``csm.fit_cbsem`` / ``csm.bootstrap``) of the same inputs."""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.run import fitcache
from csmlib.run.notebook import open_run

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
PLS_OPTIONS = {"scheme": "path", "missing": "mean", "weights": None}
N_BOOT, SEED = 120, 11


def _open(data: Path, folder: Path | None, segment: str = "North"):
    return open_run(str(data), str(DEMO / "instrument.yml"), model="acsi", segment=segment,
                    segment_column="region", fit_cache=str(folder) if folder else "")


def _digest(boot) -> str:
    """SHA-256 of everything a bootstrap reports: draws, flags, estimates, intervals."""
    h = hashlib.sha256()
    for a in (boot.theta, boot.draws, boot.failed, boot.sign_flipped):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(boot.keys.to_json().encode())
    h.update(boot.table.to_json(double_precision=15).encode())
    h.update(str((boot.seed, boot.n_boot, boot.n_failed, boot.n_sign_flipped)).encode())
    return h.hexdigest()


@pytest.fixture(autouse=True)
def _empty_memory():
    fitcache._MEMO.clear()
    yield
    fitcache._MEMO.clear()


@pytest.fixture(scope="module")
def reference():
    """The plain estimation of the demo's first wave, North."""
    run = _open(DEMO / "wave1.csv", None)
    pls = csm.fit_pls(run.spec, run.survey, **PLS_OPTIONS)
    return {"pls": pls, "boot": csm.bootstrap(pls, n_boot=N_BOOT, seed=SEED),
            "cb": csm.fit_cbsem(run.spec, run.survey, missing="listwise")}


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "2026Q1" / "North"
    out.mkdir(parents=True)
    return out / "fits"


def _cached(run):
    pls = run.fit_pls(**PLS_OPTIONS)
    return pls, run.bootstrap(pls, n_boot=N_BOOT, seed=SEED)


def test_cached_fits_and_bootstrap_equal_the_plain_estimation_bit_for_bit(folder, reference):
    first = _open(DEMO / "wave1.csv", folder)
    pls, boot = _cached(first)
    assert first.fits.log == [("pls", "fitted"), ("bootstrap", "computed")]
    fitcache._MEMO.clear()   # another kernel: the bootstrap comes from the file
    second = _open(DEMO / "wave1.csv", folder)
    pls2, boot2 = _cached(second)
    assert second.fits.log == [("pls", "fitted"), ("bootstrap", "read")]
    for got in (boot, boot2):
        assert _digest(got) == _digest(reference["boot"])
        pd.testing.assert_frame_equal(got.keys, reference["boot"].keys)
        pd.testing.assert_frame_equal(got.estimates, reference["boot"].estimates)
        pd.testing.assert_frame_equal(got.index, reference["boot"].index)
    pd.testing.assert_frame_equal(pls2.estimates, reference["pls"].estimates)
    # in the same kernel, the next notebook gets the very same objects
    third = _open(DEMO / "wave1.csv", folder)
    assert _cached(third) == (pls2, boot2)
    assert third.fits.log == [("pls", "memory"), ("bootstrap", "memory")]
    cb = third.fit_cbsem(missing="listwise")
    assert third.fit_cbsem(missing="listwise") is cb
    pd.testing.assert_frame_equal(cb.estimates, reference["cb"].estimates)
    pd.testing.assert_series_equal(cb.fit_indices, reference["cb"].fit_indices)


def test_other_options_segment_or_data_are_other_entries(folder, tmp_path, reference):
    run = _open(DEMO / "wave1.csv", folder)
    pls = run.fit_pls(**PLS_OPTIONS)
    assert run.fit_pls(**{**PLS_OPTIONS, "scheme": "centroid"}) is not pls
    assert _open(DEMO / "wave1.csv", folder, segment="South").fit_pls(**PLS_OPTIONS) is not pls
    restricted = run.bootstrap(pls, n_boot=N_BOOT, seed=SEED, statistics=["estimates", "index"])
    direct = csm.bootstrap(reference["pls"], n_boot=N_BOOT, seed=SEED, statistics=["estimates", "index"])
    assert _digest(restricted) == _digest(direct) != _digest(reference["boot"])
    # a data file with one answer changed: a new key, never the old entry
    changed = tmp_path / "wave1.csv"
    lines = (DEMO / "wave1.csv").read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("CUSA1")] = "1" if row[header.index("CUSA1")] != "1" else "2"
    changed.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    stale = _open(changed, folder)
    pls_changed, boot_changed = _cached(stale)
    assert stale.fits.log == [("pls", "fitted"), ("bootstrap", "computed")]
    truth = csm.bootstrap(csm.fit_pls(stale.spec, stale.survey, **PLS_OPTIONS), n_boot=N_BOOT, seed=SEED)
    assert _digest(boot_changed) == _digest(truth) != _digest(reference["boot"])



def test_another_model_of_the_run_is_its_own_shared_entry(folder, reference):
    """study_design's competing models go through the run: each model is its own
    entry, equal to its plain fit, and the run's model is the run's entry."""
    run = _open(DEMO / "wave1.csv", folder)
    restricted = csm.ModelSpec.from_lavaan(
        "Expectation =~ CUEX1 + CUEX2 + CUEX3\nQuality =~ PERQ1 + PERQ2 + PERQ3\n"
        "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nQuality ~ Expectation\nSatisfaction ~ Quality")
    own = run.fit_pls(restricted, **PLS_OPTIONS)
    assert run.fit_pls(restricted, **PLS_OPTIONS) is own
    assert run.fit_pls(run.spec, **PLS_OPTIONS) is run.fit_pls(**PLS_OPTIONS) is not own
    assert run.fits.log == [("pls", "fitted"), ("pls", "memory"), ("pls", "fitted"), ("pls", "memory")]
    pd.testing.assert_frame_equal(own.estimates, csm.fit_pls(restricted, run.survey, **PLS_OPTIONS).estimates)
    pd.testing.assert_frame_equal(run.fit_pls(**PLS_OPTIONS).estimates, reference["pls"].estimates)

def _corrupt_truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _corrupt_garbage(p: Path) -> None:
    p.write_bytes(b"not a bootstrap")


def _corrupt_draws(p: Path) -> None:
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["draws"] = arrays["draws"].copy()
    arrays["draws"][3, 2] += 1e-9   # one draw changed, the checksum left as it was
    np.savez(p, **arrays)


def _corrupt_key(p: Path) -> None:
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"][()]))
    meta["key"] = "0" * 64   # another entry's file under this name
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(p, **arrays)


def _corrupt_format(p: Path) -> None:
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"][()]))
    meta["format"] = 99
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(p, **arrays)


def _corrupt_shape(p: Path) -> None:
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["failed"] = arrays["failed"][:-1]
    np.savez(p, **arrays)


def _corrupt_pickle(p: Path) -> None:
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["draws"] = np.array([{"evil": 1}], dtype=object)   # never unpickled
    np.savez(p, **arrays)


@pytest.mark.parametrize("corrupt, why", [
    (_corrupt_truncate, "unreadable"), (_corrupt_garbage, "unreadable"),
    (_corrupt_draws, "checksum"), (_corrupt_key, "another key"), (_corrupt_format, "another format"),
    (_corrupt_shape, "malformed"), (_corrupt_pickle, "unreadable"),
])
def test_a_corrupt_or_foreign_stored_bootstrap_is_recomputed_and_replaced(folder, reference, corrupt, why):
    _cached(_open(DEMO / "wave1.csv", folder))
    [entry] = folder.glob("*.npz")
    corrupt(entry)
    fitcache._MEMO.clear()
    run = _open(DEMO / "wave1.csv", folder)
    _, boot = _cached(run)
    assert run.fits.log[-1] == ("bootstrap", f"recomputed: {why}")
    assert _digest(boot) == _digest(reference["boot"])
    fitcache._MEMO.clear()   # the file was replaced by a good one
    again = _open(DEMO / "wave1.csv", folder)
    assert _digest(_cached(again)[1]) == _digest(reference["boot"])
    assert again.fits.log[-1] == ("bootstrap", "read")


def test_the_stored_file_holds_aggregate_numbers_only(folder, reference):
    run = _open(DEMO / "wave1.csv", folder)
    _cached(run)
    [entry] = folder.glob("*.npz")
    assert re.fullmatch(r"bootstrap-[0-9a-f]{64}\.npz", entry.name)
    k = len(reference["boot"].keys)
    with np.load(entry, allow_pickle=False) as z:
        shapes = {name: z[name].shape for name in z.files}
        meta = json.loads(str(z["meta"][()]))
    assert shapes == {"meta": (), "theta": (k,), "draws": (N_BOOT, k), "failed": (N_BOOT,),
                      "sign_flipped": (N_BOOT,)}
    assert run.n not in (k, N_BOOT)   # no array has one row per respondent
    assert set(meta) == {"format", "key", "csmlib", "keys", "key_columns", "seed", "ci", "level",
                         "elapsed", "engine", "n_jobs", "sha256"}
    raw = entry.read_bytes()
    data = pd.read_csv(DEMO / "wave1.csv", dtype=str)
    for col in ("name", "email"):
        for value in data[col].dropna().head(50):
            assert value.encode() not in raw, (col, value)


def test_what_is_not_stored(folder, reference):
    run = _open(DEMO / "wave1.csv", folder)
    pls = run.fit_pls(**PLS_OPTIONS)
    unseeded = run.bootstrap(pls, n_boot=20)
    bca = run.bootstrap(pls, n_boot=20, seed=1, ci="bca", statistics=["estimates"])
    plain = run.bootstrap(reference["pls"], n_boot=20, seed=1)   # not the cache's fit
    assert [why for _, why in run.fits.log[1:]] == [
        "not cached: no seed", "not cached: a BCa jackknife is one row per respondent",
        "not cached: the fit was not made by the run's fit cache"]
    assert not folder.exists() or not list(folder.glob("*.npz"))
    assert unseeded.n_boot == bca.n_boot == plain.n_boot == 20
    assert bca.jackknife is not None


def test_without_a_folder_fits_are_shared_in_memory_and_nothing_is_written(tmp_path, reference):
    run = _open(DEMO / "wave1.csv", None)
    pls, boot = _cached(run)
    assert _digest(boot) == _digest(reference["boot"])
    assert _cached(_open(DEMO / "wave1.csv", None)) == (pls, boot)
    assert not list(tmp_path.rglob("*.npz"))


def test_an_unreachable_folder_means_the_notebook_computes_its_own(tmp_path, reference):
    # a remote worker without the study's output folder: its parent does not exist
    run = _open(DEMO / "wave1.csv", tmp_path / "elsewhere" / "2026Q1" / "fits")
    _, boot = _cached(run)
    assert run.fits.log[-1] == ("bootstrap", "computed")
    assert _digest(boot) == _digest(reference["boot"])
    assert not (tmp_path / "elsewhere").exists()


def _bootstrap_in_a_process(data: str, folder: str) -> tuple[str, list]:
    run = _open(Path(data), Path(folder))
    _, boot = _cached(run)
    return _digest(boot), run.fits.log


def test_two_processes_at_once_compute_once_and_agree(folder, reference):
    folder.mkdir()
    with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
        futures = [pool.submit(_bootstrap_in_a_process, str(DEMO / "wave1.csv"), str(folder))
                   for _ in range(2)]
        outcomes = [f.result(timeout=600) for f in futures]
    assert {d for d, _ in outcomes} == {_digest(reference["boot"])}
    done = sorted(log[-1][1] for _, log in outcomes)
    assert done == ["computed", "read"]   # the lock: the second waited and read
    assert len(list(folder.glob("*.npz"))) == 1
    assert not list(folder.glob(".csm-tmp-*"))


def test_a_run_made_without_open_run_fits_without_sharing(reference):
    run = _open(DEMO / "wave1.csv", None)
    bare = type(run)(**{**run.__dict__, "fits": None})
    pls = bare.fit_pls(**PLS_OPTIONS)
    assert pls is not bare.fit_pls(**PLS_OPTIONS)
    pd.testing.assert_frame_equal(pls.estimates, reference["pls"].estimates)


class _Stop(Exception):
    pass


@pytest.mark.parametrize("flag, fit_once", [([], True), (["--one-fit-per-notebook"], False)])
def test_csm_run_fits_once_unless_told_otherwise(monkeypatch, tmp_path, flag, fit_once):
    from csmlib.run import batch, cli

    seen = {}

    def fake_run_study(study, **kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(batch, "run_study", fake_run_study)
    with pytest.raises(_Stop):
        cli.main(["run", str(DEMO / "study.yml"), "--jobs", "1", "--no-progress",
                  "--output", str(tmp_path), *flag])
    assert seen["fit_once"] is fit_once
