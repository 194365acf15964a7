"""`csm init`, the study's own notebook folder, and where bundled files are found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import csmlib as csm
from csmlib import bundled
from csmlib.errors import DataError, StudyError
from csmlib.run.cli import main
from csmlib.run.scaffold import init_study
from csmlib.run.study import load_study

ROOT = Path(__file__).resolve().parent.parent


def test_init_writes_a_template_study_whose_instrument_fits_the_acsi_model(tmp_path):
    folder = tmp_path / "Acme 2026"
    written = init_study(folder)
    assert sorted(p.relative_to(folder).as_posix() for p in written) == [
        "README.md", "instrument.yml", "study.yml"]
    assert (folder / "data").is_dir() and not any((folder / "data").iterdir())
    inst = csm.Instrument.from_yaml(folder / "instrument.yml")
    assert set(csm.models.acsi().indicators) <= set(inst.item_names)
    study = yaml.safe_load((folder / "study.yml").read_text())
    assert study["name"] == "Acme 2026" and study["model"] == "acsi"
    assert study["waves"] == [{"name": "2026Q1", "data": "data/wave1.csv"}]
    # no data yet: the study file names the file the user must add
    with pytest.raises(StudyError, match="data file not found"):
        load_study(folder / "study.yml")
    # ... and a survey export in data/ makes it a study that loads
    pd.read_csv(ROOT / "data" / "demo" / "wave1.csv").to_csv(folder / "data" / "wave1.csv", index=False)
    loaded = load_study(folder / "study.yml")
    assert [n.name for n in loaded.notebooks][-1] == "study_report"
    assert "# " in (folder / "instrument.yml").read_text()   # commented


def test_init_demo_copies_the_demo_study_and_it_loads(tmp_path):
    folder = tmp_path / "demo"
    init_study(folder, demo=True)
    study = load_study(folder / "study.yml")
    demo = yaml.safe_load((ROOT / "data" / "demo" / "study.yml").read_text())
    assert [w.name for w in study.waves] == [w["name"] for w in demo["waves"]]
    for w in study.waves:
        assert w.data.read_bytes() == (ROOT / "data" / "demo" / w.data.name).read_bytes()
        assert w.data.parent == (folder / "data").resolve()
    assert study.parameters == demo["parameters"]
    assert [n.name for n in study.notebooks] == demo["notebooks"]
    one = tmp_path / "one"
    init_study(one, demo=True, waves=1)
    assert [w.name for w in load_study(one / "study.yml").waves] == [demo["waves"][0]["name"]]


def test_init_refuses_to_overwrite_and_bad_wave_counts(tmp_path):
    init_study(tmp_path / "s")
    (tmp_path / "s" / "study.yml").write_text("mine")
    with pytest.raises(StudyError, match="overwrite") as err:
        init_study(tmp_path / "s", demo=True)
    assert "study.yml" in str(err.value)
    assert (tmp_path / "s" / "study.yml").read_text() == "mine"
    with pytest.raises(StudyError, match="3 waves"):
        init_study(tmp_path / "x", demo=True, waves=4)
    with pytest.raises(StudyError, match="--demo"):
        init_study(tmp_path / "y", waves=1)
    (tmp_path / "f").write_text("")
    with pytest.raises(StudyError, match="is a file"):
        init_study(tmp_path / "f")


def test_cli_init(tmp_path, capsys, monkeypatch):
    assert main(["init", str(tmp_path / "d"), "--demo", "--waves", "1"]) == 0
    out = capsys.readouterr().out
    assert "csm run" in out and (tmp_path / "d" / "data" / "wave1.csv").is_file()
    assert "ipykernel install" not in out   # the csm kernel is registered here
    assert main(["init", str(tmp_path / "d")]) == 2
    assert "overwrite" in capsys.readouterr().err
    # a fresh environment without the kernel is told how to register it
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def no_kernel(self, name):
        raise NoSuchKernel(name)

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", no_kernel)
    assert main(["init", str(tmp_path / "e")]) == 0
    assert "ipykernel install --sys-prefix --name csm" in capsys.readouterr().out


def _study_with_own_notebooks(tmp_path, folder_key: str | None) -> Path:
    init_study(tmp_path, demo=True, waves=1)
    own = tmp_path / (folder_key or "notebooks")
    own.mkdir(exist_ok=True)
    (own / "measurement.ipynb").write_bytes((ROOT / "notebooks" / "measurement.ipynb").read_bytes())
    text = (tmp_path / "study.yml").read_text()
    if folder_key:
        text = text.replace("# notebook_folder: notebooks", f"notebook_folder: {folder_key}")
    (tmp_path / "study.yml").write_text(text)
    return own


@pytest.mark.parametrize("folder_key", [None, "my notebooks"])
def test_study_notebooks_come_from_its_own_folder_then_the_packaged_ones(tmp_path, folder_key):
    own = _study_with_own_notebooks(tmp_path, folder_key)
    study = load_study(tmp_path / "study.yml")
    paths = {n.name: n.path for n in study.notebooks}
    assert paths["measurement"] == (own / "measurement.ipynb").resolve()
    assert paths["structural"] == (bundled.bundled_dir("notebooks") / "structural.ipynb").resolve()


def test_missing_notebook_folder_is_an_error(tmp_path):
    init_study(tmp_path, demo=True, waves=1)
    text = (tmp_path / "study.yml").read_text().replace("# notebook_folder: notebooks",
                                                        "notebook_folder: nowhere")
    (tmp_path / "study.yml").write_text(text)
    with pytest.raises(StudyError, match="notebook_folder: folder not found"):
        load_study(tmp_path / "study.yml")


def test_bundled_dir_in_a_clone_and_when_the_packaged_copy_is_missing(monkeypatch):
    assert bundled.bundled_dir("data") == ROOT / "data"
    assert bundled.bundled_dir("notebooks") == ROOT / "notebooks"
    with pytest.raises(DataError, match="no bundled folder"):
        bundled.bundled_dir("references")
    # an installed package without the copies the build step makes
    monkeypatch.setattr(bundled, "_source_tree", lambda: None)
    with pytest.raises(DataError, match="missing from this installation") as err:
        csm.datasets.load("mobi")
    assert "_bundled" in str(err.value) and "reinstall" in str(err.value)
