"""The ``bftbio`` command line: one entry point for every job.

    bftbio run [--quick] [--out DIR] [--data DIR]   the main job (see README)
    bftbio kb build [--source DIR]         rebuild the knowledge snapshot from Debian's files
    bftbio kb info                         what the knowledge snapshot holds
    bftbio train [--config run.yaml] [--FIELD VALUE ...]   LoRA fine-tuning (BFT, SFT, DFT)
    bftbio bench losses [--max-steps N ...]  the four losses on one budget, probes and naming
    bftbio bench genesets [--data DIR]     gene-set naming baselines beside GeneAgent's answers
    bftbio embed GENE ... [--source S] [--out F]   gene embeddings (or --profiles: the texts) as CSV
    bftbio store info | export FILE | import FILE  the cache of profiles and vectors
    bftbio info                            versions, settings and where the defaults come from
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cmd_run(args: argparse.Namespace) -> int:
    from ._pipeline import run_main_job

    run_main_job(out=args.out, quick=args.quick, overwrite=args.overwrite, data=args.data)
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


def _cmd_bench_genesets(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tasks import benchmark_gene_set_naming

    table = benchmark_gene_set_naming(args.datasets, data=args.data, limit=args.limit)
    if args.out:
        if Path(args.out).exists() and not args.overwrite:
            raise FileExistsError(f"{args.out} exists; pass --overwrite to replace it")
        table.to_csv(args.out, index=False)
    wide = table.pivot_table(index="method", columns=["dataset", "metric"], values="value", sort=False)
    metric = wide.xs(args.metric, axis=1, level="metric")
    n = table.groupby("dataset")["n"].first()
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(f"gene-set naming, mean {args.metric} F-measure (n sets: {n.to_dict()})")
        print(metric.round(3).to_string())
    return 0


def _train_config(args: argparse.Namespace):
    from .train import TrainConfig

    values = TrainConfig.from_yaml(args.config).to_dict() if args.config else {}
    for name in TrainConfig.__dataclass_fields__:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = None if isinstance(value, str) and value.lower() in ("none", "null") else value
    if args.data:
        values["benchmark_data"] = str(Path(args.data) / "geneagent")
    return TrainConfig.from_dict(values)


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import finetune

    config = _train_config(args)
    out = finetune(config=config)
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


def _cmd_embed(args: argparse.Namespace) -> int:
    from . import embed

    genes = list(args.genes)
    if args.genes_file:
        genes += [line.strip() for line in Path(args.genes_file).read_text().splitlines() if line.strip()]
    if not genes:
        raise SystemExit("bftbio embed: give gene names or --genes-file")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise SystemExit(f"bftbio embed: {out} exists; pass --overwrite to replace it")
    options = {"model": args.model, "adapter": args.adapter, "max_new_tokens": args.max_new_tokens,
               "cache": not args.no_cache}
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
    else:
        added = store.import_from(args.file)
        print(f"imported {added['texts']} texts and {added['vectors']} vectors into {store.path}")
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
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the main job end to end on the embedded defaults")
    run.add_argument("--quick", action="store_true", help="a few minutes instead of the full budget")
    run.add_argument("--out", default=None, help="run directory (default: runs/<date-time>)")
    run.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty run directory")
    run.add_argument("--data", default=None, help="benchmark data folder (geneagent/, gene2vec/); default $BFTBIO_DATA")
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

    from .train._config import TrainConfig

    train = sub.add_parser("train", help="LoRA fine-tuning with BFT, SFT or DFT (fields of TrainConfig)")
    train.add_argument("--config", default=None, help="YAML file of TrainConfig fields; flags override it")
    train.add_argument("--data", default=None, help="benchmark data folder holding geneagent/ (default $BFTBIO_DATA)")
    TrainConfig.add_arguments(train)
    train.set_defaults(func=_cmd_train)

    bench = sub.add_parser("bench", help="benchmarks that print tidy tables")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    bl = bench_sub.add_parser("losses", help="train sft, dft, bft, bft-local on the same budget and compare")
    bl.add_argument("--losses", nargs="+", default=["sft", "dft", "bft", "bft-local"])
    bl.add_argument("--runs", default="runs/losses", help="folder for the runs (finished runs are reused)")
    bl.add_argument("--config", default=None, help="YAML file of TrainConfig fields; flags override it")
    bl.add_argument("--data", default=None, help="benchmark data folder holding geneagent/ (default $BFTBIO_DATA)")
    TrainConfig.add_arguments(bl)
    bl.set_defaults(func=_cmd_bench_losses)
    gs = bench_sub.add_parser("genesets", help="gene-set naming on the GeneAgent sets: baselines and published answers")
    gs.add_argument("--data", default=None, help="folder of the GeneAgent files (default: $BFTBIO_DATA/geneagent)")
    gs.add_argument("--datasets", nargs="+", default=["NeST", "MSigDB", "GO"], choices=["NeST", "MSigDB", "GO"])
    gs.add_argument("--limit", type=int, default=None, help="only the first N sets of each dataset")
    gs.add_argument("--metric", default="rougeL", choices=["rougeL", "rouge1", "rouge2", "no_answer"])
    gs.add_argument("--out", default=None, help="write the tidy table to this CSV")
    gs.add_argument("--overwrite", action="store_true")
    gs.set_defaults(func=_cmd_bench_genesets)

    em = sub.add_parser("embed", help="embed genes (profile, knowledge or hidden source) into a CSV")
    em.add_argument("genes", nargs="*", help="gene symbols, aliases or IDs")
    em.add_argument("--genes-file", default=None, help="a file with one gene name per line")
    em.add_argument("--source", default="profile", choices=["profile", "knowledge", "hidden"])
    em.add_argument("--model", default="default", help="language model name or folder")
    em.add_argument("--adapter", default=None, help="LoRA adapter folder (e.g. a bftbio train output)")
    em.add_argument("--encoder", default="default", help="sentence encoder name or folder")
    em.add_argument("--max-new-tokens", type=int, default=128)
    em.add_argument("--profiles", action="store_true", help="write the profile texts instead of vectors")
    em.add_argument("--no-cache", action="store_true", help="neither read nor write the store")
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
    im = st_sub.add_parser("import", help="merge a shared store file into this one")
    im.add_argument("file")
    st.set_defaults(func=_cmd_store)

    sub.add_parser("info", help="versions, settings and model locations").set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbosity:
        from . import settings

        settings.verbosity = args.verbosity
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
