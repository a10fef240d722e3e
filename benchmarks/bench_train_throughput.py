"""Training throughput of the BFT Trainer against an identical plain cross-entropy Trainer.

Both runs use the same model (LoRA on the default SmolLM2-135M-Instruct unless
``--model``), the same knowledge-base training data, batch size, seed and step
count. The baseline is the stock transformers ``Trainer`` with the model's own
cross-entropy loss; the other is bftbio's Trainer with ``compute_loss_func`` set
to :func:`bftbio.train.lm_loss` with the chosen loss. The first ``--warmup``
steps are not timed. Runs alternate (baseline, loss, baseline, loss, ...) over
``--rounds`` so that load from other processes hits both alike; the printed
ratio is the median over rounds of (tokens/s of the loss) / (tokens/s of plain
CE), target >= 0.95.

    python benchmarks/bench_train_throughput.py --steps 12 --rounds 2
"""

from __future__ import annotations

import argparse
import statistics
import time


def run(loss: str | None, args, data, llm_name: str) -> float:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainerCallback, TrainingArguments, set_seed

    from bftbio.models import load_llm
    from bftbio.train import TrainConfig
    from bftbio.train._finetune import BalancedLoss, _Collator, _trainer_class, tokenize_records

    set_seed(0)
    llm = load_llm(llm_name, device="cpu" if not torch.cuda.is_available() else "cuda")
    features = tokenize_records(llm.tokenizer, data.splits["train"], args.max_length)
    model = get_peft_model(llm.model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
    timing = {"tokens": 0, "start": None}

    class Clock(TrainerCallback):
        def on_step_begin(self, targs, state, control, **kw):
            if state.global_step == args.warmup and timing["start"] is None:
                timing["start"] = time.perf_counter()

    collate = _Collator(llm.tokenizer.pad_token_id)

    def counting_collate(batch):
        out = collate(batch)
        if timing["start"] is not None:
            timing["tokens"] += int(out["attention_mask"].sum())
        return out

    targs = TrainingArguments(
        output_dir=f"/tmp/bftbio-throughput-{loss or 'ce'}", per_device_train_batch_size=args.batch_size,
        max_steps=args.steps, learning_rate=2e-4, lr_scheduler_type="cosine", logging_steps=10_000,
        save_strategy="no", report_to=[], remove_unused_columns=False, disable_tqdm=True, seed=0,
        use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
    )
    if loss is None:
        trainer = Trainer(model=model, args=targs, train_dataset=features, data_collator=counting_collate,
                          callbacks=[Clock()])
    else:
        config = TrainConfig(loss=loss)
        trainer = _trainer_class()(model=model, args=targs, train_dataset=features, data_collator=counting_collate,
                                   compute_loss_func=BalancedLoss(config, 1), callbacks=[Clock()])
    trainer.train()
    elapsed = time.perf_counter() - timing["start"]
    return timing["tokens"] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--loss", default="bft", choices=["sft", "dft", "bft", "bft-local"])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()

    from bftbio.train import build_training_data

    data = build_training_data(n_genes=40, n_gene_sets=20, exclude=None, seed=0)
    ratios, rows = [], []
    for r in range(args.rounds):
        base = run(None, args, data, args.model)
        ours = run(args.loss, args, data, args.model)
        ratios.append(ours / base)
        rows.append((r, base, ours))
        print(f"round {r}: plain CE Trainer {base:.1f} tokens/s, {args.loss} Trainer {ours:.1f} tokens/s, "
              f"ratio {ours / base:.3f}", flush=True)
    print(f"median throughput ratio {args.loss} / plain CE: {statistics.median(ratios):.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
