import hashlib
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio.datasets import (
    _perturbseq,
    adamson2016,
    download_norman2019,
    norman2019,
    replogle2022_k562_essential,
    simulate_perturbseq,
    packaged_dir,
)
from bftbio.knowledge import _snapshot
from bftbio.knowledge import genes as kb_genes

SHARED = packaged_dir() / "gene2vec"
SIZES = dict(n_cells=1_500, n_genes=150, n_conditions=24, n_combos=8)


def ring_network(n: int = 80) -> pd.DataFrame:
    """A hand-made network on the first n protein-coding genes of the knowledge base (sorted):
    gene i is linked to genes i+1, i+2 and i+5 (mod n), so every gene has 6 neighbours."""
    table = kb_genes()
    names = sorted(table.index[table["type"] == "protein-coding"])[:n]
    edges = [(names[i], names[(i + k) % n]) for i in range(n) for k in (1, 2, 5)]
    return pd.DataFrame(edges, columns=["gene_a", "gene_b"])


@pytest.fixture(scope="module")
def network():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        yield ring_network()


@pytest.fixture(scope="module")
def sim(network):
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        yield simulate_perturbseq(**SIZES, network=network, seed=3)


def test_labelled_simulated_in_gears_format(sim):
    assert sim.uns["simulated"] is True
    assert "simulated" in sim.uns["dataset"]
    assert sim.shape == (1_500, 150)
    assert sparse.isspmatrix_csr(sim.X) and sim.X.dtype == np.float32
    assert sparse.isspmatrix_csr(sim.layers["counts"]) and sim.layers["counts"].dtype == np.float32
    counts = sim.layers["counts"]
    assert np.all(counts.data == np.round(counts.data)) and counts.data.min() >= 1
    # X is log1p(counts per 10,000) with the same non-zeros
    row = 7
    expected = np.log1p(counts[row].toarray() / counts[row].sum() * 1e4)
    np.testing.assert_allclose(sim.X[row].toarray(), expected, rtol=1e-5)
    labels = sim.obs["condition"].astype(str)
    assert (labels == "ctrl").sum() == 150
    kinds = pd.Series(labels.unique()).map(lambda c: "ctrl" if c == "ctrl" else ("single" if c.endswith("+ctrl")
                                                                                  else "combo"))
    assert kinds.value_counts().to_dict() == {"single": 16, "combo": 8, "ctrl": 1}
    assert list(sim.var["gene_name"]) == list(sim.var_names)


def test_genes_are_real_protein_coding_and_include_the_perturbed(sim, network):
    table = kb_genes()
    assert (table.loc[sim.var_names, "type"] == "protein-coding").all()
    perturbed = {c.split("+")[0] for c in sim.obs["condition"].astype(str).unique() if c.endswith("+ctrl")}
    assert perturbed <= set(sim.var_names)
    assert perturbed <= set(network["gene_a"]) | set(network["gene_b"])
    assert set(sim.var_names[sim.var["perturbed"]]) == perturbed
    # The ring has 80 genes and 150 are measured: 70 come from outside the network, untouched.
    assert (~sim.var["in_network"]).sum() == 70
    lfc = sim.uns["simulation"]["log_fold_change"]
    assert (lfc.loc[:, ~sim.var["in_network"].to_numpy()] == 0).all().all()


def test_reproducible_with_the_seed(sim, network, real_kb):
    again = simulate_perturbseq(**SIZES, network=network, seed=3)
    assert (again.layers["counts"] != sim.layers["counts"]).nnz == 0
    assert list(again.obs["condition"]) == list(sim.obs["condition"])
    other = simulate_perturbseq(**SIZES, network=network, seed=4)
    assert list(other.var_names) != list(sim.var_names) or (other.layers["counts"] != sim.layers["counts"]).nnz > 0


def test_effects_follow_the_network(sim, network):
    lfc = sim.uns["simulation"]["log_fold_change"]
    neighbours: dict[str, set] = {}
    for a, b in network.itertuples(index=False):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    for condition in [c for c in lfc.index if c.endswith("+ctrl")]:
        target = condition.split("+")[0]
        row = lfc.loc[condition]
        one = neighbours[target] & set(lfc.columns)
        two = set().union(*(neighbours[g] for g in neighbours[target])) - one - {target}
        assert np.log(0.05) - 1e-6 <= row[target] <= np.log(0.3) + 1e-6  # knocked down 70-95%
        assert (row[list(one)] != 0).all()
        touched = set(row.index[row != 0])
        assert touched <= one | (two & set(lfc.columns)) | {target}
        # two hops are weaker than one hop on average
        if two & set(lfc.columns):
            assert row[list(two & set(lfc.columns))].abs().mean() < row[list(one)].abs().mean()


def test_doubles_are_mostly_additive(sim):
    sims = sim.uns["simulation"]
    lfc, inter = sims["log_fold_change"], sims["interactions"]
    assert len(inter) == 8 and (inter["tau"] != 0).sum() == round(0.2 * 8)
    for condition, tau in inter.itertuples(index=False):
        a, b = condition.split("+")
        additive = lfc.loc[f"{a}+ctrl"] + lfc.loc[f"{b}+ctrl"]
        scaled = additive * (1 + tau)
        scaled[[a, b]] = additive[[a, b]]
        np.testing.assert_allclose(lfc.loc[condition], np.clip(scaled, -7, 4), atol=1e-5)
    # and the observed counts follow the truth: per condition, the mean against control tracks exp(LFC)
    counts = sim.layers["counts"]
    labels = sim.obs["condition"].astype(str).to_numpy()
    size = sim.obs["size_factor"].to_numpy()

    def mean(condition):
        return np.asarray(counts[labels == condition].sum(0)).ravel() / size[labels == condition].sum()

    control = mean("ctrl")
    truth, ratio = [], []
    for condition in lfc.index[1:]:
        strong = (np.abs(lfc.loc[condition]) > 0.5).to_numpy() & (control > 0.2)
        truth.append(lfc.loc[condition].to_numpy()[strong])
        ratio.append(np.log((mean(condition)[strong] + 1e-3) / control[strong]))
    assert np.corrcoef(np.concatenate(ratio), np.concatenate(truth))[0, 1] > 0.8


def test_normalize_false_keeps_counts_in_x(network, real_kb):
    counts = simulate_perturbseq(**SIZES, network=network, seed=3, normalize=False)
    assert "counts" not in counts.layers and "log1p" not in counts.uns
    assert np.all(counts.X.data == np.round(counts.X.data))


def test_negative_binomial_moments():
    rng = np.random.default_rng(0)
    size = np.array([0.5, 2.0, 10.0])
    block = _perturbseq._negative_binomial_block(rng, np.full(3, 2.0), size, np.ones(100_000)).toarray()
    np.testing.assert_allclose(block.mean(0), 2.0, rtol=0.03)
    np.testing.assert_allclose(block.var(0), 2.0 + 4.0 / size, rtol=0.06)
    np.testing.assert_allclose((block == 0).mean(0), (size / (size + 2.0)) ** size, atol=0.01)
    # binomial thinning by q gives the mean q * mu
    thinned = _perturbseq._negative_binomial_block(rng, np.full(3, 2.0), size, np.full(100_000, 0.25))
    np.testing.assert_allclose(np.asarray(thinned.mean(0)).ravel(), 0.5, rtol=0.05)


def test_bad_sizes_and_networks_raise(network, real_kb):
    with pytest.raises(ValueError, match="too many"):
        simulate_perturbseq(n_cells=500, n_genes=50, n_conditions=6, n_combos=4, network=network)
    with pytest.raises(ValueError, match="protein-coding"):
        simulate_perturbseq(**SIZES, network=[("NOT_A_GENE", "ALSO_NOT")])
    with pytest.raises(ValueError, match="at least the number of perturbed genes"):
        simulate_perturbseq(n_cells=500, n_genes=5, n_conditions=12, n_combos=2, network=network)


def test_missing_gene2vec_files_raise_the_readers_error(tmp_path, monkeypatch, real_kb):
    monkeypatch.delenv("BFTBIO_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="train_text.txt.*download_gene2vec"):
        simulate_perturbseq(**SIZES, data=tmp_path)


def test_real_gene2vec_network(real_kb):
    adata = simulate_perturbseq(n_cells=2_000, n_genes=300, n_conditions=30, n_combos=10, data=SHARED, seed=0)
    assert "Gene2vec" in adata.uns["simulation"]["network"]["source"]
    assert adata.uns["simulation"]["network"]["n_genes"] > 3_000
    assert adata.var["in_network"].all()
    lfc = adata.uns["simulation"]["log_fold_change"]
    assert (lfc.iloc[1:] != 0).sum(axis=1).min() > 1  # every perturbation reaches beyond its target


# --- GEARS readers -----------------------------------------------------------------
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
    monkeypatch.setattr(_perturbseq, "_DATAVERSE", archive.parent.as_uri() + "/{}")
    out = tmp_path / "data"
    folder = download_norman2019(out, checksum=checksum)
    assert folder == out / "norman"
    assert norman2019(path=out).shape == (18, 5)
    with pytest.raises(ValueError, match="checksum"):
        download_norman2019(tmp_path / "other", checksum="0" * 64)
