import hashlib
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio.datasets import (
    _gears,
    adamson2016,
    download_adamson2016,
    download_norman2019,
    download_replogle2022_k562_essential,
    norman2019,
    replogle2022_k562_essential,
)


def write_gears(folder: Path, name: str = "norman", drop: str | None = None) -> Path:
    """A small file in the layout of GEARS's perturb_processed.h5ad."""
    import anndata as ad

    rng = np.random.default_rng(0)
    conditions = ["ctrl"] * 6 + ["CBL+ctrl"] * 4 + ["CBL+CNN1"] * 4 + ["CNN1+ctrl"] * 4
    obs = pd.DataFrame({
        "condition": pd.Categorical(conditions),
        "cell_type": pd.Categorical(["K562"] * len(conditions)),
        "dose_val": ["1+1" if "+" in c and "ctrl" not in c else "1" for c in conditions],
        "control": [int(c == "ctrl") for c in conditions],
        "condition_name": [f"K562_{c}_1" for c in conditions],
    }, index=[f"AAAC{i:04d}-1" for i in range(len(conditions))])
    var = pd.DataFrame({"gene_name": ["CBL", "CNN1", "TP53", "MDM2", "GAPDH"]},
                       index=["ENSG00000110395", "ENSG00000130176", "ENSG00000141510", "ENSG00000135679",
                              "ENSG00000111640"])
    x = sparse.random(len(conditions), 5, density=0.6, random_state=rng, format="csr", dtype=np.float32)
    x.data = np.log1p(x.data * 10).astype(np.float32)
    adata = ad.AnnData(X=x, obs=obs, var=var)
    adata.uns["rank_genes_groups_cov_all"] = {"K562_CBL+ctrl_1": np.array(var.index[:3])}
    if drop:
        del adata.obs[drop]
    target = folder / name / "perturb_processed.h5ad"
    target.parent.mkdir(parents=True)
    adata.write_h5ad(target)
    return target


@pytest.mark.parametrize("reader, folder", [(norman2019, "norman"), (adamson2016, "adamson"),
                                            (replogle2022_k562_essential, "replogle_k562_essential")])
def test_readers_find_the_gears_folder(tmp_path, reader, folder):
    file = write_gears(tmp_path, folder)
    for path in (tmp_path, tmp_path / folder, file):  # GEARS data folder, dataset folder, the file
        adata = reader(path=path)
        assert adata.shape == (18, 5)
        assert list(adata.var["gene_name"][:2]) == ["CBL", "CNN1"]
        assert adata.uns["simulated"] is False and adata.uns["dataset"] == reader.__name__
        assert "dataverse.harvard.edu" in adata.uns["source"]["url"]
        assert set(adata.obs["condition"]) == {"ctrl", "CBL+ctrl", "CBL+CNN1", "CNN1+ctrl"}


def test_reader_names_where_to_put_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"perturb_processed.h5ad not found.*norman/.*download_norman2019"):
        norman2019(path=tmp_path)


def test_reader_rejects_a_file_without_gears_columns(tmp_path):
    write_gears(tmp_path, drop="cell_type")
    with pytest.raises(ValueError, match=r"missing obs\['cell_type'\]"):
        norman2019(path=tmp_path)


def test_download_without_a_checksum_refuses_before_any_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(ValueError, match=r"no verified SHA-256 for norman2019.*checksum="):
        download_norman2019(tmp_path)


def test_download_verifies_and_unpacks(tmp_path, monkeypatch):
    source = write_gears(tmp_path / "build")
    archive = tmp_path / "6154020"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(source, "norman/perturb_processed.h5ad")
        zf.writestr("norman/go.csv", "source,target\n")
    checksum = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(_gears, "_DATAVERSE", archive.parent.as_uri() + "/{}")
    out = tmp_path / "data"
    folder = download_norman2019(out, checksum=checksum)
    assert folder == out / "norman"
    assert norman2019(path=out).shape == (18, 5)
    with pytest.raises(ValueError, match="checksum"):
        download_norman2019(tmp_path / "other", checksum="0" * 64)


def test_readers_are_plain_functions_with_their_own_docstrings():
    for reader, download in ((norman2019, download_norman2019), (adamson2016, download_adamson2016),
                             (replogle2022_k562_essential, download_replogle2022_k562_essential)):
        assert reader.__code__.co_name == reader.__name__  # a def of that name, not a renamed closure
        assert download.__code__.co_name == download.__name__ == f"download_{reader.__name__}"
        assert f"uns[\"dataset\"] = \"{reader.__name__}\"" in reader.__doc__
        assert f":func:`{reader.__name__}`" in download.__doc__
