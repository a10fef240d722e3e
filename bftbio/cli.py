"""The ``bftbio`` command line: one entry point for every job.

    bftbio run [--quick] [--train] [--config run.yaml] [--out DIR] [--data DIR]   the main job (see README)
    bftbio kb build [--source DIR]         rebuild the knowledge snapshot from Debian's files
    bftbio kb info                         what the knowledge snapshot holds
    bftbio train [--config run.yaml] [--FIELD VALUE ...]   LoRA fine-tuning (BFT, SFT, DFT)
    bftbio bench losses [--max-steps N ...]  the four losses on one budget, probes and naming
    bftbio bench genesets [--data DIR]     gene-set naming baselines beside GeneAgent's answers
    bftbio bench interactions [--data DIR] [--methods ...]   Gene2vec interaction AUROC by embedding source
    bftbio bench perturbation [--data DIR] [--methods ...]   perturbation response on SIMULATED data
    bftbio bench cells [--datasets ...] [--methods ...]   cell embeddings on real labelled data beside PCA
    bftbio embed GENE ... [--source S] [--out F]   gene embeddings (or --profiles: the texts) as CSV
    bftbio store info | check [--repair] | export FILE | import FILE | merge FILE ... --out F
                                           the cache of profiles and vectors
    bftbio info                            versions, settings and where the defaults come from
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path


def _refuse_to_overwrite(args: argparse.Namespace, *paths) -> None:
    """Nothing the user made is replaced unless they pass --overwrite."""
    for path in paths:
        if path and Path(path).exists() and not args.overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite to replace it, or choose another file")


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import RunConfig, run_main_job

    config = RunConfig.from_command_line(args, config=args.config)
    run_main_job(out=args.out, config=config, quick=args.quick, overwrite=args.overwrite, data=args.data,
                 train=True if args.train else None)
    return 0


def _cmd_kb_build(args: argparse.Namespace) -> int:
    from .knowledge import build_snapshot

    path = build_snapshot(source=args.source, out=args.out, overwrite=args.overwrite)
    print(f"knowledge snapshot written to {path}")
    return 0


def _cmd_kb_info(args: argparse.Namespace) -> int:
    from . import knowledge

    print(json.dumps(knowledge.provenance(), indent=2, default=str))
    return 0


def _adapters(items: list[str]) -> dict[str, str]:
    """``--adapter NAME=PATH ...`` as ``{name: path}``."""
    out = {}
    for item in items:
        label, _, path = item.partition("=")
        if not label or not path:
            raise ValueError(f"--adapter takes NAME=PATH, got {item!r}")
        out[label] = path
    return out


def _embedding_specs(args: argparse.Namespace) -> dict:
    """``--methods`` and ``--adapter`` as ``{method: embed_genes options or a baseline name}``."""
    menu = {"knowledge": {"source": "knowledge"}, "hidden": {"source": "hidden"},
            "profile": {"source": "profile", "max_new_tokens": args.max_new_tokens}}
    specs = {name: menu.get(name, name) for name in args.methods}  # "random", "annotations" stay names
    for label, path in _adapters(args.adapter).items():
        specs[f"profile ({label})"] = {"source": "profile", "adapter": path, "max_new_tokens": args.max_new_tokens}
    return specs


def _cmd_bench_genesets(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tasks import benchmark_gene_set_naming

    _refuse_to_overwrite(args, args.out, args.figure)
    models = {}
    if args.base:
        models["base"] = {"adapter": None}
    models.update({label: {"adapter": path} for label, path in _adapters(args.adapter).items()})
    for spec in models.values():
        spec.update(choose=args.choose, evidence=not args.no_evidence)
    verify = {"both": (False, True), "no": (False,), "only": (True,)}[args.verify]
    if args.verify_models is not None:  # verification for these labels only; the others name without it
        unknown = sorted(set(args.verify_models) - set(models))
        if unknown:
            raise ValueError(f"--verify-models {unknown} are not among the models {sorted(models)}")
        for label, spec in models.items():
            spec["verify"] = verify if label in args.verify_models else (False,)
    table, per_set = benchmark_gene_set_naming(
        args.datasets, data=args.data, limit=args.limit, sample=args.sample, models=models or None, verify=verify,
        encoder=None if args.no_similarity else "default", max_new_tokens=args.max_new_tokens, return_per_set=True)
    if args.out:
        table.to_csv(args.out, index=False)
    metrics = [m for m in args.metrics if m in set(table["metric"])]
    with pd.option_context("display.width", 250, "display.max_colwidth", 70, "display.max_columns", 20):
        for dataset, frame in table.groupby("dataset", sort=False):
            wide = frame.pivot_table(index="method", columns="metric", values="value", sort=False)
            n = int(frame["n"].max())
            print(f"\n{dataset} ({n} sets)")
            print(wide[[m for m in metrics if m in wide.columns]].round(3).to_string())
    if args.figure and not per_set.empty and "similarity" in per_set.columns:
        from .pl import similarity_distributions

        axes = similarity_distributions(per_set)
        figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
        figure.savefig(args.figure, dpi=120, bbox_inches="tight")
        print(f"figure: {args.figure}")
    if args.out:
        print(f"tidy table: {args.out}")
    return 0


def _train_config(args: argparse.Namespace):
    from .train import TrainConfig

    values = TrainConfig.from_command_line(args, config=args.config)
    if args.data:
        values["benchmark_data"] = str(Path(args.data) / "geneagent")
    return TrainConfig.from_dict(values)


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import finetune

    config = _train_config(args)
    out = finetune(config=config)
    if os.environ.get("RANK", "0") == "0":  # under `accelerate launch`, the main process reports
        print(f"adapter written to {out}")
        print((out / "bftbio_provenance.json").read_text()[:2000])
    return 0


def _cmd_bench_losses(args: argparse.Namespace) -> int:
    import pandas as pd

    from .train import compare_losses

    config = _train_config(args)
    table = compare_losses(args.losses, output_dir=args.runs, config=config)
    out = Path(args.runs) / "losses.csv"
    table.to_csv(out, index=False)
    wide = table.pivot_table(index="method", columns=["task", "dataset", "split", "metric"], values="value", sort=False)
    with pd.option_context("display.width", 250, "display.max_columns", 50):
        print(wide.round(3).T.to_string())
    print(f"tidy table: {out}")
    return 0


def _cmd_bench_interactions(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tasks import benchmark_interactions

    _refuse_to_overwrite(args, args.out, args.roc)
    methods = _embedding_specs(args)
    sample = dict(zip(("train", "validation", "test"), args.sample_genes)) if args.sample_genes else None
    table, scores = benchmark_interactions(methods, data=args.data, sample_genes=sample, combines=args.combines,
                                           classifiers=args.classifiers, return_scores=True)
    wide = table[table["metric"].isin(["auroc", "auprc", "n_missing"])].pivot_table(
        index="method", columns=["split", "metric"], values="value", sort=False)
    with pd.option_context("display.width", 200):
        print(f"dataset: {table['dataset'].iloc[0]}; published on the full test split: GenePT 0.83, "
              "Gene2vec 0.67, random 0.49 (AUROC)")
        print(wide.round(3).to_string())
        print(table.drop_duplicates("method")[["method", "setting"]].to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"tidy table: {args.out}")
    if args.roc:
        from .pl import roc_curves

        ax = roc_curves(scores, title="Gene2vec test split")
        ax.figure.savefig(args.roc, dpi=120, bbox_inches="tight")
        print(f"ROC curves: {args.roc}")
    return 0


def _cmd_bench_perturbation(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tasks import PERTURBATION_SUBGROUPS, benchmark_perturbation

    _refuse_to_overwrite(args, args.out)
    table = benchmark_perturbation(_embedding_specs(args), seed=args.seed, n_cells=args.cells, n_genes=args.genes,
                                   n_conditions=args.singles + args.combos, n_combos=args.combos, data=args.data)
    subgroups = list(PERTURBATION_SUBGROUPS)
    shown = table[table["metric"].isin(["pearson_delta", "pearson_delta_de"]) & table["subgroup"].isin(subgroups)]
    wide = shown.pivot_table(index="method", columns=["metric", "subgroup"], values="value", sort=False,
                             dropna=False)  # NoChange's correlations are NaN: keep its row
    wide = wide.reindex(columns=[(m, g) for m in ("pearson_delta", "pearson_delta_de") for g in subgroups
                                 if (m, g) in wide.columns])
    n = table[(table["metric"] == "pearson_delta_de") & (table["method"] == "TrainMean")].set_index("subgroup")["n"]
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(f"SIMULATED DATA, not a measurement: {table['dataset'].iloc[0]}")
        print(f"{args.cells:,} cells x {args.genes:,} genes, {args.singles} singles + {args.combos} doubles, "
              f"seed {args.seed}; GEARS simulation split, test conditions per subgroup: "
              f"{n.reindex(subgroups).dropna().astype(int).to_dict()}")
        print(wide.round(3).to_string())
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"tidy table: {args.out}")
    return 0


def _cmd_bench_cells(args: argparse.Namespace) -> int:
    import pandas as pd

    from .embed import DEFAULT_RECIPE
    from .tasks import benchmark_cells

    _refuse_to_overwrite(args, args.out)
    menu = {"pca": "pca", "expression": "expression", "random": "random", "sentence": "sentence"}
    specs = {name: spec for name, spec in _embedding_specs(args).items() if name not in menu}
    specs = {**{name: menu[name] for name in args.methods if name in menu}, **specs}
    given = {"weights": args.weights, "center": False if args.no_center else None, "remove_pcs": args.remove_pcs}
    recipe = {**DEFAULT_RECIPE, **{k: v for k, v in given.items() if v is not None}}
    table = benchmark_cells(args.datasets, specs, recipes={"": recipe}, n_genes=args.n_genes, n_seeds=args.seeds,
                            n_folds=args.folds, seed=args.seed)
    shown = table.assign(cell=[f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                               zip(table["value"], table["low"], table["high"])])
    with pd.option_context("display.width", 250, "display.max_colwidth", 30):
        for dataset, frame in shown.groupby("dataset", sort=False):
            print(f"{dataset}: {frame['n'].max()} cells, {frame['n_genes'].max()} genes; mean [95% interval] over "
                  f"{args.seeds} seeds (clustering) or {args.folds} folds (annotation)")
            print(frame.pivot_table(index="method", columns="metric", values="cell", aggfunc="first",
                                    sort=False).to_string())
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"tidy table: {args.out}")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from . import embed

    genes = list(args.genes)
    if args.genes_file:
        genes += [line.strip() for line in Path(args.genes_file).read_text().splitlines() if line.strip()]
    if not genes:
        raise ValueError("give gene names or --genes-file")
    out = Path(args.out) if args.out else None
    _refuse_to_overwrite(args, out)
    options = {"model": args.model, "adapter": args.adapter, "max_new_tokens": args.max_new_tokens,
               "cache": not args.no_cache, "store": args.store, "shard": args.shard}
    if args.profiles:
        table = embed.gene_profiles(genes, source=args.source, **options)
    else:
        table = embed.embed_genes(genes, source=args.source, encoder=args.encoder, **options)
        table.insert(0, "symbol", table.attrs["symbol"])
    if out is None:
        print(table.to_csv())
    else:
        table.to_csv(out)
        print(f"{len(table)} genes written to {out}")
    return 0


def _cmd_store(args: argparse.Namespace) -> int:
    import pandas as pd

    from .store import Store

    store = Store(args.store) if args.store else Store()
    if args.store_command == "info":
        table = store.info()
        with pd.option_context("display.width", 200, "display.max_colwidth", 120):
            print(f"{store.path}: {len(table)} namespaces")
            print(table.to_string(index=False) if len(table) else "(empty)")
    elif args.store_command == "export":
        path = store.export(args.file, namespaces=args.namespace or None, overwrite=args.overwrite)
        print(f"exported to {path}")
    elif args.store_command == "check":
        report = store.check(repair=args.repair)
        bad = report["bad_texts"] + report["bad_vectors"]
        print(f"{store.path}: SQLite integrity {report['integrity']}; {report['namespaces']} namespaces, "
              f"{report['texts']} texts ({report['bad_texts']} bad), {report['vectors']} vectors "
              f"({report['bad_vectors']} bad)")
        if args.repair:
            print(f"repaired: {report['dropped']} bad entries dropped" if report["integrity"] == "ok" else
                  f"rebuilt from what could be read ({report['dropped']} bad entries dropped); the damaged file "
                  f"is kept as {store.path.name}.damaged")
        elif bad or report["integrity"] != "ok":
            print("bftbio store check --repair drops the bad entries (they are recomputed when next needed)")
            return 1
    else:
        added = store.import_from(args.file)
        print(f"imported {added['texts']} texts and {added['vectors']} vectors into {store.path}"
              + (f"; {added['conflicts']} entries differed and kept this store's value" if added["conflicts"] else ""))
    return 0


def _cmd_store_merge(args: argparse.Namespace) -> int:
    from .store import merge_stores

    totals = merge_stores(args.out, args.shards, overwrite=args.overwrite)
    print(f"merged {totals['shards']} stores into {args.out}: {totals['texts']} texts, {totals['vectors']} vectors"
          + (f"; {totals['conflicts']} entries differed between stores and kept the first's value"
             if totals["conflicts"] else ""))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from . import __version__, settings
    from .models import PACKAGED_MODELS

    print(f"bftbio {__version__}")
    print(settings)
    for name, spec in PACKAGED_MODELS.items():
        where = spec.locate()
        print(f"{name}: {'packaged at ' + str(where) if where else 'NOT installed (' + spec.install_command + ')'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bftbio", description="Balanced Fine-Tuning for gene knowledge.")
    parser.add_argument("--verbosity", choices=["error", "warning", "info", "debug"], default=None)
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also: BFTBIO_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    from .run import RunConfig
    from .train import TrainConfig  # light: the rest of bftbio.train loads on first use

    def configured(subparsers, name: str, config_class, help: str, data_help: str) -> argparse.ArgumentParser:
        """A command set by a config dataclass: --config FILE, --data DIR and one --FIELD per field."""
        command = subparsers.add_parser(name, help=help)
        command.add_argument("--config", default=None,
                             help=f"YAML file of {config_class.__name__} fields; options given here override it")
        command.add_argument("--data", default=None, help=data_help)
        config_class.add_arguments(command, skip=("train",) if config_class is RunConfig else ())
        return command

    run = configured(sub, "run", RunConfig, "run the main job end to end on the embedded defaults",
                     "benchmark data folder holding geneagent/ and gene2vec/ (default: $BFTBIO_DATA, else the "
                     "copy that ships with bftbio)")
    run.add_argument("--quick", action="store_true", help="a smoke run on small budgets (not a measurement); "
                     "--config and the options then override the quick budget")
    run.add_argument("--train", action="store_true", help="also fine-tune (bft and sft by default) and compare "
                     "the adapters; without it nothing is trained")
    run.add_argument("--out", default=None, help="run directory (default: runs/<date-time>)")
    run.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty run directory")
    run.set_defaults(func=_cmd_run)

    kb = sub.add_parser("kb", help="the human gene knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    build = kb_sub.add_parser("build", help="rebuild the snapshot from r-bioc-org.hs.eg.db and r-bioc-go.db")
    build.add_argument("--source", default=None, help="folder with the two .deb files or their extracted trees "
                       "(default: download them with apt-get)")
    build.add_argument("--out", default=None, help="snapshot folder (default: the package's data/kb)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing snapshot")
    build.set_defaults(func=_cmd_kb_build)
    info = kb_sub.add_parser("info", help="sources, dates and sizes of the snapshot")
    info.set_defaults(func=_cmd_kb_info)

    train = configured(sub, "train", TrainConfig, "LoRA fine-tuning with BFT, SFT or DFT (fields of TrainConfig)",
                       "benchmark data folder holding geneagent/ (default: $BFTBIO_DATA, else the packaged copy)")
    train.set_defaults(func=_cmd_train)

    bench = sub.add_parser("bench", help="benchmarks that print tidy tables")
    # The options every benchmark of embeddings or names shares.
    benchmark = argparse.ArgumentParser(add_help=False)
    benchmark.add_argument("--adapter", nargs="*", default=[], metavar="NAME=PATH",
                           help="also the base model with these LoRA adapters (e.g. bft=runs/train; "
                                "shipped=default for the naming adapter bftbio ships)")
    benchmark.add_argument("--max-new-tokens", type=int, default=128,
                           help="length of each text a model writes (profiles, names), in tokens")
    benchmark.add_argument("--out", default=None, help="write the tidy table to this CSV")
    benchmark.add_argument("--overwrite", action="store_true", help="replace the files --out and the figure "
                           "options name if they exist")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    bl = configured(bench_sub, "losses", TrainConfig, "train sft, dft, bft, bft-local on the same budget and compare",
                    "benchmark data folder holding geneagent/ (default: $BFTBIO_DATA, else the packaged copy)")
    bl.add_argument("--losses", nargs="+", default=["sft", "dft", "bft", "bft-local"])
    bl.add_argument("--runs", default="runs/losses", help="folder for the runs (finished runs are reused)")
    bl.set_defaults(func=_cmd_bench_losses)
    gs = bench_sub.add_parser("genesets", parents=[benchmark], help="gene-set naming on the GeneAgent sets beside GeneAgent and GPT-4")
    gs.add_argument("--data", default=None,
                    help="folder of the GeneAgent files (default: $BFTBIO_DATA/geneagent, else the packaged copy)")
    gs.add_argument("--datasets", nargs="+", default=["NeST", "MSigDB", "GO"], choices=["NeST", "MSigDB", "GO"])
    gs.add_argument("--limit", type=int, default=None, help="only the first N sets of each dataset")
    gs.add_argument("--sample", type=int, default=None, help="a seeded sample of N GO sets")
    gs.add_argument("--base", action="store_true", help="also name the sets with the base model, no adapter")
    gs.add_argument("--choose", default="generate", choices=["generate", "rank", "both"],
                    help="how the models reach a name: write it, rank the evidence's terms, or both")
    gs.add_argument("--no-evidence", action="store_true", help="prompts without the evidence block")
    gs.add_argument("--verify", default="no", choices=["both", "no", "only"],
                    help="model methods without and/or with enrichment verification")
    gs.add_argument("--verify-models", nargs="+", default=None, metavar="NAME",
                    help="run verification for these models only (e.g. bft); the others name without it")
    gs.add_argument("--no-similarity", action="store_true", help="ROUGE only (skip the encoder and percentiles)")
    gs.add_argument("--metrics", nargs="+", default=["rougeL", "similarity", "percentile", "share_p90", "no_answer",
                                                     "flagged", "wall_s"])
    gs.add_argument("--figure", default=None, help="write the similarity distributions to this PNG")
    gs.set_defaults(func=_cmd_bench_genesets, max_new_tokens=96)

    em = sub.add_parser("embed", help="embed genes (profile, knowledge or hidden source) into a CSV")
    em.add_argument("genes", nargs="*", help="gene symbols, aliases or IDs")
    em.add_argument("--genes-file", default=None, help="a file with one gene name per line")
    em.add_argument("--source", default="knowledge", choices=["knowledge", "profile", "hidden"],
                    help="knowledge: NCBI Gene + GO profiles (default); profile: the model writes them; "
                         "hidden: the model's hidden states")
    em.add_argument("--model", default="default", help="language model name or folder")
    em.add_argument("--adapter", default=None, help="LoRA adapter folder (e.g. a bftbio train output)")
    em.add_argument("--encoder", default="default", help="sentence encoder name or folder")
    em.add_argument("--max-new-tokens", type=int, default=128)
    em.add_argument("--profiles", action="store_true", help="write the profile texts instead of vectors")
    em.add_argument("--no-cache", action="store_true", help="neither read nor write the store")
    em.add_argument("--store", default=None, help="store file (default: <cachedir>/store.sqlite)")
    em.add_argument("--shard", default=None, metavar="I/N",
                    help="only shard I of N (from 0) of the genes, by a hash of the symbol: N workers share a list, "
                         "each with its own --store; `bftbio store merge` combines the stores")
    em.add_argument("--out", default=None, help="CSV file (default: print)")
    em.add_argument("--overwrite", action="store_true")
    em.set_defaults(func=_cmd_embed)

    st = sub.add_parser("store", help="the persistent cache of profiles and vectors")
    st.add_argument("--store", default=None, help="store file (default: <cachedir>/store.sqlite)")
    st_sub = st.add_subparsers(dest="store_command", required=True)
    st_sub.add_parser("info", help="namespaces, their parameters and sizes")
    ex = st_sub.add_parser("export", help="copy (some) namespaces into a new file to share")
    ex.add_argument("file")
    ex.add_argument("--namespace", nargs="*", default=None)
    ex.add_argument("--overwrite", action="store_true")
    im = st_sub.add_parser("import", help="merge a shared store file into this one (checked first)")
    im.add_argument("file")
    mg = st_sub.add_parser("merge", help="combine store files (e.g. the shards of `bftbio embed --shard`) into a "
                                         "new one, each checked first")
    mg.add_argument("shards", nargs="+", help="store files, in order of precedence")
    mg.add_argument("--out", required=True, help="the merged store file to write")
    mg.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    mg.set_defaults(func=_cmd_store_merge)
    ck = st_sub.add_parser("check", help="SQLite's integrity check and every entry's checksum; exit 1 if bad")
    ck.add_argument("--repair", action="store_true", help="drop the entries that fail (a damaged file is rebuilt "
                    "from what can be read and kept beside as <name>.damaged)")
    st.set_defaults(func=_cmd_store)

    bi = bench_sub.add_parser("interactions", parents=[benchmark],
                              help="gene-gene interactions on the Gene2vec splits, by embedding source")
    bi.add_argument("--data", default=None,
                    help="folder of the Gene2vec files (default: $BFTBIO_DATA/gene2vec, else the packaged copy)")
    bi.add_argument("--methods", nargs="+", default=["knowledge", "hidden", "random", "annotations"],
                    choices=["knowledge", "hidden", "profile", "random", "annotations"])
    bi.add_argument("--sample-genes", nargs=3, type=int, default=None, metavar=("TRAIN", "VALID", "TEST"),
                    help="only pairs among a seeded sample of each split's genes (for slow sources)")
    bi.add_argument("--combines", nargs="+", default=["sum"], choices=["sum", "hadamard", "concat"])
    bi.add_argument("--classifiers", nargs="+", default=["logistic"], choices=["logistic", "forest", "mlp"])
    bi.add_argument("--roc", default=None, help="write the test-split ROC curves to this PNG")
    bi.set_defaults(func=_cmd_bench_interactions)

    bp = bench_sub.add_parser("perturbation", parents=[benchmark],
                              help="perturbation response on SIMULATED Perturb-seq, by embedding source")
    bp.add_argument("--data", default=None, help="folder of the Gene2vec files, the simulator's gene network "
                    "(default: $BFTBIO_DATA/gene2vec, else the packaged copy)")
    bp.add_argument("--methods", nargs="+", default=["knowledge", "random"],
                    choices=["knowledge", "hidden", "profile", "random"])
    bp.add_argument("--cells", type=int, default=20_000)
    bp.add_argument("--genes", type=int, default=2_000)
    bp.add_argument("--singles", type=int, default=150)
    bp.add_argument("--combos", type=int, default=60)
    bp.add_argument("--seed", type=int, default=0)
    bp.set_defaults(func=_cmd_bench_perturbation)

    bc = bench_sub.add_parser("cells", parents=[benchmark],
                              help="cell embeddings on real labelled single-cell data beside PCA and random vectors")
    bc.add_argument("--datasets", nargs="+", default=["pbmc68k_reduced", "oligodendroglioma", "wu2020"],
                    choices=["pbmc68k_reduced", "oligodendroglioma", "wu2020"])
    bc.add_argument("--methods", nargs="+", default=["pca", "expression", "random", "knowledge", "sentence"],
                    choices=["pca", "expression", "random", "knowledge", "hidden", "profile", "sentence"],
                    help="rows; 'sentence' is GenePT-s (each cell's top genes as a sentence, embedded)")
    bc.add_argument("--weights", choices=["expression", "zscore", "idf"],
                    help="the recipe's gene weights (default: bftbio.embed.DEFAULT_RECIPE's; see "
                         "bftbio.embed.cell_vectors)")
    bc.add_argument("--no-center", action="store_true", help="gene vectors not centred (needs --remove-pcs 0: "
                                                             "GenePT-w as published)")
    bc.add_argument("--remove-pcs", type=int,
                    help="remove the gene vectors' top N directions (default: bftbio.embed.DEFAULT_RECIPE's)")
    bc.add_argument("--n-genes", type=int, default=2000, help="highly variable genes every method sees")
    bc.add_argument("--seeds", type=int, default=5)
    bc.add_argument("--folds", type=int, default=5)
    bc.add_argument("--seed", type=int, default=0)
    bc.set_defaults(func=_cmd_bench_cells)

    sub.add_parser("info", help="versions, settings and model locations").set_defaults(func=_cmd_info)
    return parser


# What a user can fix: a bad argument or value, a missing or existing file, a folder
# that cannot be written. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, FileExistsError, NotADirectoryError,
               IsADirectoryError, PermissionError, sqlite3.DatabaseError)


def _one_line(err: BaseException) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(text.split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Run one ``bftbio`` command; return its exit code.

    A user's error (bad value, missing file, unwritable folder) prints one line,
    ``bftbio: error: ...``, and returns 2; ``--debug`` or ``BFTBIO_DEBUG=1`` shows the
    traceback instead.
    """
    import os

    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("BFTBIO_DEBUG", "") not in ("", "0")
    if args.verbosity:
        from . import settings

        settings.verbosity = args.verbosity
    try:
        return args.func(args)
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"bftbio: error: {_one_line(err)} (--debug shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
