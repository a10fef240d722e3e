"""SIMULATED Perturb-seq: a simulator whose generative model is written down.

The simulator is for tests, tutorials and timing. Its output says it is simulated
(``adata.uns["simulated"] = True`` and a dataset name that contains "simulated"), and
every result frame built from it carries that name.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from scipy import sparse

from ._gene2vec import gene2vec_interactions
from ._pairs import gene_pairs
from ._sampler import negative_binomial_block, stack_rows

SIMULATED_DATASET = "simulated Perturb-seq (bftbio.datasets.simulate_perturbseq)"
_LOG_EFFECT_RANGE = (-7.0, 4.0)  # clip of the log fold change of a mean (x0.0009 .. x55)
_SIZE_FACTOR_SD = 0.25  # log size factors: 0.25 * N(0, 1) clipped to +-2 sd


def _network(network, data) -> tuple[list[str], sparse.csr_matrix, str]:
    """Genes (sorted official protein-coding symbols), 0/1 adjacency and a description."""
    from .. import knowledge

    if network is None:
        edges = gene2vec_interactions("train", path=data)  # FileNotFoundError says where to put the files
        edges = edges[edges["label"] == 1]
        source = "Gene2vec train split, positive pairs (co-expression; Du et al. 2019)"
    else:
        source = "given by the caller"
    edges = gene_pairs(edges if network is None else network, positives_only=True, what="network")
    names = pd.unique(edges[["gene_a", "gene_b"]].to_numpy().ravel())
    symbols = knowledge.resolve_symbols(list(names), warn=False)
    table = knowledge.genes()
    coding = set(table.index[table["type"] == "protein-coding"])
    to_symbol = {n: s for n, s in zip(names, symbols) if not pd.isna(s) and s in coding}
    a = edges["gene_a"].map(to_symbol)
    b = edges["gene_b"].map(to_symbol)
    keep = a.notna() & b.notna() & (a != b)
    genes = sorted(set(a[keep]) | set(b[keep]))
    if not genes:
        raise ValueError("the network has no edge between two human protein-coding genes of the knowledge base")
    index = {g: i for i, g in enumerate(genes)}
    i = a[keep].map(index).to_numpy()
    j = b[keep].map(index).to_numpy()
    adjacency = sparse.coo_matrix((np.ones(2 * len(i)), (np.r_[i, j], np.r_[j, i])), shape=(len(genes),) * 2).tocsr()
    adjacency.data[:] = 1.0  # repeated edges count once
    return genes, adjacency, source


def simulate_perturbseq(
    *,
    n_cells: int = 20_000,
    n_genes: int = 2_000,
    n_conditions: int = 210,
    n_combos: int = 60,
    seed: int = 0,
    network=None,
    data: str | os.PathLike | None = None,
    control_fraction: float = 0.1,
    knockdown: tuple[float, float] = (0.05, 0.3),
    effect_size: float = 1.0,
    two_hop: float = 0.5,
    interaction_fraction: float = 0.2,
    interaction_strength: tuple[float, float] = (0.4, 0.8),
    mean_log_expression: float = -2.3,
    sd_log_expression: float = 1.0,
    normalize: bool = True,
):
    """SIMULATED Perturb-seq: single and double CRISPR perturbations in GEARS's format.

    Not real data. Gene symbols are real human protein-coding genes and effects
    spread along a real gene–gene network, so gene embeddings that carry knowledge
    about genes can predict responses to genes never perturbed in training; but
    every number is drawn from the model below. The result says so:
    ``adata.uns["simulated"] = True`` and ``adata.uns["dataset"]`` is
    ``"simulated Perturb-seq (bftbio.datasets.simulate_perturbseq)"``.

    **Generative model.** All draws come from ``numpy.random.default_rng(seed)``.

    1. *Network.* The undirected graph of ``network``; by default the positive
       (label 1) pairs of the Gene2vec train split, which come from co-expression
       (Du et al. 2019). bftbio builds its knowledge embeddings from the Gene
       Ontology, not from these pairs, so the benchmark is not circular. Names are
       resolved with :func:`bftbio.knowledge.resolve_symbols`; only edges between two
       distinct protein-coding genes are kept, repeated edges once. ``A`` is the 0/1
       adjacency matrix and ``deg_i`` the degree of gene ``i``.
    2. *Conditions.* ``n_conditions - n_combos`` perturbed genes are drawn uniformly
       without replacement from the network's genes, each a single condition
       ``"GENE+ctrl"``. ``n_combos`` distinct unordered pairs of those genes are drawn
       uniformly, each a double ``"A+B"`` (A before B alphabetically). Control cells
       are ``"ctrl"``.
    3. *Measured genes* (``n_genes``): the perturbed genes, then other network genes
       drawn uniformly; if the network has too few, protein-coding genes outside the
       network (drawn uniformly from the knowledge base), which no perturbation
       touches. ``var_names`` are sorted symbols.
    4. *Gene parameters.* Baseline mean ``m_g = exp(N(mean_log_expression,
       sd_log_expression²))`` counts per cell; negative-binomial size
       ``r_g = exp(N(log 2, 0.5²))`` (variance ``mu + mu²/r_g``); response sign
       ``s_g = ±1`` with probability 1/2 each; response size
       ``w_g = effect_size * exp(N(0, 0.5²))``.
    5. *Single perturbation of gene p.* Knockdown ``rho_p ~ U(knockdown)``; strength
       ``c_p = exp(N(0, 0.3²))``. The log fold change of the mean of gene ``j`` is

       - ``log(rho_p)`` for ``j = p`` (the target is knocked down);
       - ``c_p * s_j * w_j`` for a neighbour of p (``A_pj = 1``);
       - ``two_hop * c_p * s_j * w_j * H_pj`` for a gene at distance two, with
         ``H_pj = sum_i A_pi A_ij / deg_i`` (each neighbour i passes on an equal share
         of its influence to each of its own neighbours);
       - 0 otherwise.
    6. *Double perturbation of a and b.* The sum of the two singles' log fold
       changes (additive in log-mean space). A random ``round(interaction_fraction *
       n_combos)`` of the doubles also interact: on every gene other than a and b the
       sum is multiplied by ``1 + tau``, with ``|tau| ~ U(interaction_strength)`` and
       a sign drawn with probability 1/2: ``+`` synergy, ``-`` buffering. The targets
       keep the additive sum.
    7. Log fold changes are clipped to ``[-7, 4]``.
    8. *Cells.* ``round(control_fraction * n_cells)`` control cells; the others are
       split as evenly as possible among the conditions (the first conditions get one
       more). Cells are ordered by condition. Size factor
       ``s_c = exp(0.25 z_c)``, ``z_c ~ N(0, 1)`` clipped to ``[-2, 2]``.
    9. *Counts.* Independently for each cell c of condition k and gene g,
       ``X_cg ~ NB(mean = s_c * m_g * exp(LFC_kg), size = r_g)``. (Drawn sparsely and
       exactly: Bernoulli support and a zero-truncated compound Poisson–logarithmic
       value at the largest size factor, then binomial thinning by
       ``s_c / max s``.)

    The drawn parameters and the true log fold changes are kept in
    ``adata.uns["simulation"]``, so a test can compare a model with the truth.

    Parameters
    ----------
    n_cells, n_genes
        Cells (controls included) and measured genes.
    n_conditions, n_combos
        Perturbed conditions (singles and doubles together) and how many of them are
        doubles.
    seed
        Seed of every draw: the same arguments give the same data.
    network
        Gene pairs (a DataFrame with ``gene_a``/``gene_b``, or its first two columns,
        rows with ``label`` 0 dropped; or a list of 2-tuples). Default: Gene2vec's
        train positives, read with :func:`bftbio.datasets.gene2vec_interactions`.
    data
        Folder of the Gene2vec files when ``network`` is None.
    control_fraction
        Share of control cells.
    knockdown
        Range of the remaining fraction of the target's mean (0.05–0.3: knocked down
        by 70–95%).
    effect_size
        Median absolute log fold change of a neighbour under a unit-strength
        perturbation.
    two_hop
        Weight of distance-two effects relative to neighbours.
    interaction_fraction, interaction_strength
        Share of doubles with an interaction, and the range of ``|tau|``.
    mean_log_expression, sd_log_expression
        Location and scale of the log baseline means (the defaults give about 13%
        non-zero counts and a median of ~850 counts per cell over 5,000 genes).
    normalize
        ``True``: ``X`` holds log1p(counts per 10,000) and ``layers["counts"]`` the
        counts, ready for :func:`bftbio.tasks.prepare_perturbation`. ``False``: ``X``
        holds the counts; normalise before preparing.

    Returns
    -------
    AnnData with sparse CSR float32 ``X`` (cells × genes) and

    - ``obs``: ``condition`` (categorical; ``"ctrl"``, ``"A+ctrl"``, ``"A+B"``),
      ``cell_type`` (``"simulated"``), ``size_factor``, ``n_counts``;
    - ``var``: ``gene_name`` (the symbol, as GEARS files have it), ``in_network``,
      ``perturbed``, ``base_mean``, ``nb_size``;
    - ``layers["counts"]`` (when ``normalize``);
    - ``uns["simulated"] = True``, ``uns["dataset"]``, ``uns["log1p"]`` (when
      ``normalize``, as scanpy writes it), and ``uns["simulation"]``: ``params``,
      ``network`` (its source and size), ``log_fold_change`` (true LFC of the mean,
      a float32 array of ``conditions`` × ``genes``, its row and column labels;
      :func:`simulated_effects` gives it as a frame that follows ``adata``'s genes) and ``interactions`` (one row per double: ``condition``,
      ``tau``; 0 for additive doubles). Everything is writable to h5ad at any size.

    Raises
    ------
    FileNotFoundError
        ``network`` is None and the Gene2vec files are not found (the message says
        where to put them).
    ValueError
        Sizes that cannot be met (e.g. more perturbed genes than network genes).

    Examples
    --------
    >>> from bftbio.datasets import simulate_perturbseq
    >>> adata = simulate_perturbseq(n_cells=2_000, n_genes=500, n_conditions=40, n_combos=10)  # doctest: +SKIP
    >>> adata.uns["dataset"]  # doctest: +SKIP
    'simulated Perturb-seq (bftbio.datasets.simulate_perturbseq)'
    >>> adata.obs["condition"].value_counts().head(3)  # doctest: +SKIP
    """
    import anndata as ad

    from .. import knowledge

    n_singles = n_conditions - n_combos
    if n_singles < 1 or n_combos < 0:
        raise ValueError(f"need 0 <= n_combos < n_conditions, got n_conditions={n_conditions}, n_combos={n_combos}")
    if n_combos > n_singles * (n_singles - 1) // 2:
        raise ValueError(f"{n_singles} perturbed genes make only {n_singles * (n_singles - 1) // 2} pairs; "
                         f"n_combos={n_combos} is too many")
    if n_genes < n_singles:
        raise ValueError(f"n_genes={n_genes} must be at least the number of perturbed genes ({n_singles})")
    if not 0 < control_fraction < 1:
        raise ValueError(f"control_fraction must lie in (0, 1), got {control_fraction}")
    n_control = int(round(control_fraction * n_cells))
    if n_cells - n_control < n_conditions or n_control < 2:
        raise ValueError(f"n_cells={n_cells} leaves too few cells for {n_conditions} conditions and the controls")

    net_genes, adjacency, source = _network(network, data)
    if len(net_genes) < n_singles:
        raise ValueError(f"the network has {len(net_genes)} protein-coding genes, fewer than the "
                         f"{n_singles} perturbed genes asked for")
    rng = np.random.default_rng(seed)

    # 2. conditions
    pert_idx = np.sort(rng.choice(len(net_genes), size=n_singles, replace=False))
    perturbed = [net_genes[i] for i in pert_idx]
    all_pairs = np.array([(i, j) for i in range(n_singles) for j in range(i + 1, n_singles)], dtype=np.int64)
    pairs = all_pairs[np.sort(rng.choice(len(all_pairs), size=n_combos, replace=False))] if n_combos else \
        np.zeros((0, 2), np.int64)
    conditions = ["ctrl"] + [f"{g}+ctrl" for g in perturbed] + [
        "+".join(sorted((perturbed[i], perturbed[j]))) for i, j in pairs]

    # 3. measured genes
    others = np.setdiff1d(np.arange(len(net_genes)), pert_idx)
    take = min(n_genes - n_singles, len(others))
    measured = perturbed + [net_genes[i] for i in rng.choice(others, size=take, replace=False)]
    if len(measured) < n_genes:
        table = knowledge.genes()
        pool = sorted(set(table.index[table["type"] == "protein-coding"]) - set(net_genes))
        if len(pool) < n_genes - len(measured):
            raise ValueError(f"n_genes={n_genes} exceeds the protein-coding genes of the knowledge base")
        measured += [pool[i] for i in rng.choice(len(pool), size=n_genes - len(measured), replace=False)]
    genes = sorted(measured)
    n_genes = len(genes)
    net_index = {g: i for i, g in enumerate(net_genes)}
    net_col = np.array([net_index.get(g, -1) for g in genes])  # -1: outside the network
    in_net = net_col >= 0

    # 4. gene parameters
    base_mean = np.exp(rng.normal(mean_log_expression, sd_log_expression, n_genes))
    nb_size = np.exp(rng.normal(np.log(2.0), 0.5, n_genes))
    sign = rng.choice([-1.0, 1.0], size=n_genes)
    weight = effect_size * np.exp(rng.normal(0.0, 0.5, n_genes))

    # 5. singles: log fold change of each measured gene
    rho = rng.uniform(knockdown[0], knockdown[1], n_singles)
    strength = np.exp(rng.normal(0.0, 0.3, n_singles))
    deg = np.asarray(adjacency.sum(axis=1)).ravel()
    one_hop = adjacency[pert_idx]
    two = (one_hop @ sparse.diags(1.0 / deg) @ adjacency).toarray()
    one = one_hop.toarray()
    two[one > 0] = 0.0
    two[np.arange(n_singles), pert_idx] = 0.0
    reach = np.zeros((n_singles, n_genes))
    reach[:, in_net] = (one + two_hop * two)[:, net_col[in_net]]
    single_lfc = strength[:, None] * reach * (sign * weight)[None, :]
    gene_pos = {g: i for i, g in enumerate(genes)}
    target_col = np.array([gene_pos[g] for g in perturbed])
    single_lfc[np.arange(n_singles), target_col] = np.log(rho)

    # 6. doubles
    tau = np.zeros(n_combos)
    n_interacting = int(round(interaction_fraction * n_combos))
    if n_interacting:
        chosen = rng.choice(n_combos, size=n_interacting, replace=False)
        tau[chosen] = rng.choice([-1.0, 1.0], size=n_interacting) * rng.uniform(*interaction_strength, n_interacting)
    combo_lfc = single_lfc[pairs[:, 0]] + single_lfc[pairs[:, 1]]
    for row, (i, j) in enumerate(pairs):
        keep_targets = combo_lfc[row, [target_col[i], target_col[j]]].copy()
        combo_lfc[row] *= 1.0 + tau[row]
        combo_lfc[row, [target_col[i], target_col[j]]] = keep_targets
    lfc = np.clip(np.vstack([np.zeros((1, n_genes)), single_lfc, combo_lfc]), *_LOG_EFFECT_RANGE)

    # 8. cells, 9. counts, one condition block at a time
    n_per = np.full(n_conditions, (n_cells - n_control) // n_conditions)
    n_per[: (n_cells - n_control) % n_conditions] += 1
    cells_per = np.r_[n_control, n_per]
    size_factor = np.exp(_SIZE_FACTOR_SD * np.clip(rng.standard_normal(n_cells), -2, 2))
    s_max = float(np.exp(2 * _SIZE_FACTOR_SD))
    starts = np.r_[0, np.cumsum(cells_per)]
    blocks = []
    for k in range(len(conditions)):
        mean = s_max * base_mean * np.exp(lfc[k])
        for lo in range(starts[k], starts[k + 1], 5_000):
            hi = min(lo + 5_000, starts[k + 1])
            blocks.append(negative_binomial_block(rng, mean, nb_size, size_factor[lo:hi] / s_max))
    counts = stack_rows(blocks, n_genes)
    del blocks

    n_counts = np.asarray(counts.sum(axis=1)).ravel()
    obs = pd.DataFrame({
        "condition": pd.Categorical(np.repeat(conditions, cells_per), categories=conditions),
        "cell_type": pd.Categorical(["simulated"] * n_cells),
        "size_factor": size_factor.astype(np.float32),
        "n_counts": n_counts.astype(np.float32),
    }, index=pd.Index([f"sim-{i:06d}" for i in range(n_cells)], name="cell"))
    perturbed_set = set(perturbed)
    var = pd.DataFrame({
        "gene_name": genes,
        "in_network": in_net,
        "perturbed": [g in perturbed_set for g in genes],
        "base_mean": base_mean.astype(np.float32),
        "nb_size": nb_size.astype(np.float32),
    }, index=pd.Index(genes, name="gene"))
    if normalize:
        scale = (1e4 / np.maximum(n_counts, 1)).astype(np.float32)
        x = sparse.csr_matrix((np.log1p(counts.data * np.repeat(scale, np.diff(counts.indptr))),
                               counts.indices.copy(), counts.indptr.copy()), shape=counts.shape)
        adata = ad.AnnData(X=x, obs=obs, var=var, layers={"counts": counts})
        adata.uns["log1p"] = {"base": None}
    else:
        adata = ad.AnnData(X=counts, obs=obs, var=var)
    adata.uns["simulated"] = True
    adata.uns["dataset"] = SIMULATED_DATASET
    adata.uns["simulation"] = {
        "params": {
            "n_cells": n_cells, "n_genes": n_genes, "n_conditions": n_conditions, "n_combos": n_combos,
            "seed": seed, "control_fraction": control_fraction, "knockdown": list(knockdown),
            "effect_size": effect_size, "two_hop": two_hop, "interaction_fraction": interaction_fraction,
            "interaction_strength": list(interaction_strength), "mean_log_expression": mean_log_expression,
            "sd_log_expression": sd_log_expression, "normalize": normalize,
        },
        "network": {"source": source, "n_genes": len(net_genes), "n_edges": int(adjacency.nnz // 2)},
        # An array with its row labels, not a DataFrame: h5ad keeps a frame's column names in one HDF5
        # attribute, which thousands of genes overflow, and the simulated screen must be writable.
        "conditions": np.asarray(conditions, dtype=object),
        "genes": np.asarray(genes, dtype=object),
        "log_fold_change": lfc.astype(np.float32),
        "interactions": pd.DataFrame({"condition": conditions[1 + n_singles:], "tau": tau}),
    }
    return adata


def simulated_effects(adata) -> pd.DataFrame:
    """The true log fold changes of a screen from :func:`simulate_perturbseq`, labelled: conditions × genes.

    Examples
    --------
    >>> from bftbio.datasets import simulate_perturbseq, simulated_effects
    >>> adata = simulate_perturbseq(n_cells=2_000, n_genes=200, n_conditions=20)  # doctest: +SKIP
    >>> simulated_effects(adata).loc["ctrl"].abs().max()  # doctest: +SKIP
    0.0
    """
    truth = adata.uns.get("simulation") if hasattr(adata, "uns") else None
    if not isinstance(truth, dict) or "log_fold_change" not in truth:
        raise ValueError("adata holds no simulated effects (uns['simulation']['log_fold_change']); it does not "
                         "come from bftbio.datasets.simulate_perturbseq")
    frame = pd.DataFrame(truth["log_fold_change"], index=pd.Index([str(c) for c in truth["conditions"]],
                         name="condition"), columns=pd.Index([str(g) for g in truth["genes"]], name="gene"))
    missing = pd.Index(adata.var_names).difference(frame.columns)
    if len(missing):
        raise ValueError(f"{len(missing)} genes of adata were not simulated (e.g. {list(missing[:3])}); "
                         "simulated_effects follows adata's genes, which must come from the simulation")
    return frame.reindex(columns=adata.var_names)  # a subset or reordering of the genes follows adata

