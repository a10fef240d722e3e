import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio.datasets import packaged_dir, simulate_perturbseq, simulated_effects
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
    lfc = simulated_effects(sim)
    assert (lfc.loc[:, ~sim.var["in_network"].to_numpy()] == 0).all().all()


def test_reproducible_with_the_seed(sim, network, real_kb):
    again = simulate_perturbseq(**SIZES, network=network, seed=3)
    assert (again.layers["counts"] != sim.layers["counts"]).nnz == 0
    assert list(again.obs["condition"]) == list(sim.obs["condition"])
    other = simulate_perturbseq(**SIZES, network=network, seed=4)
    assert list(other.var_names) != list(sim.var_names) or (other.layers["counts"] != sim.layers["counts"]).nnz > 0


def test_effects_follow_the_network(sim, network):
    lfc = simulated_effects(sim)
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
    lfc, inter = simulated_effects(sim), sims["interactions"]
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
    lfc = simulated_effects(adata)
    assert (lfc.iloc[1:] != 0).sum(axis=1).min() > 1  # every perturbation reaches beyond its target


def test_the_true_effects_are_labelled_and_a_wide_screen_writes_to_h5ad(sim, network, tmp_path):
    import anndata as ad

    truth = sim.uns["simulation"]
    assert truth["log_fold_change"].shape == (len(truth["conditions"]), sim.n_vars)
    assert list(truth["conditions"])[0] == "ctrl" and not truth["log_fold_change"][0].any()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        wide = simulate_perturbseq(n_cells=300, n_genes=3_000, n_conditions=6, n_combos=2, seed=0)
    wide.write_h5ad(tmp_path / "wide.h5ad")  # thousands of genes once overflowed an HDF5 attribute
    back = ad.read_h5ad(tmp_path / "wide.h5ad")
    pd.testing.assert_frame_equal(simulated_effects(back), simulated_effects(wide))
    subset = wide[:, ::-7].copy()  # fewer genes, in another order: the truth follows adata's genes
    pd.testing.assert_frame_equal(simulated_effects(subset), simulated_effects(wide)[subset.var_names])
    with pytest.raises(ValueError, match="no simulated effects"):
        simulated_effects(ad.AnnData(np.zeros((2, 2))))
