"""LoRA fine-tuning with the BFT, SFT or DFT loss, on the transformers Trainer."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from .._settings import logger, package_versions, settings, write_atomic
from ._config import TrainConfig
from ._data import TrainingData, build_training_data, read_records
from ._naming_data import build_naming_data

PROVENANCE = "bftbio_provenance.json"


def tokenize_records(tokenizer, records: list[dict], max_length: int) -> list[dict]:
    """Chat-formatted ``input_ids`` with ``labels`` on the answer only (−100 elsewhere)."""
    from ..models import chat_prompt

    end = tokenizer.eos_token_id
    out = []
    for r in records:
        prompt = chat_prompt(tokenizer, r["prompt"])
        answer = tokenizer(r["answer"], add_special_tokens=False)["input_ids"] + [end]
        ids = (prompt + answer)[:max_length]
        labels = ([-100] * len(prompt) + answer)[:max_length]
        if all(label == -100 for label in labels):
            continue  # the prompt alone fills max_length: nothing to learn from
        out.append({"input_ids": ids, "labels": labels})
    return out


class _Collator:
    """Right-pads a micro-batch; padded positions are ignored by the loss."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict]):
        import torch

        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(features), width), -100, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.tensor(f["input_ids"])
            labels[i, :n] = torch.tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class BalancedLoss:
    """The Trainer's ``compute_loss_func``: :func:`lm_loss` with exact accumulation scaling.

    sft/dft divide the token sum by the target tokens of the whole accumulated
    batch (transformers' ``num_items_in_batch``); bft/bft-local divide the sample
    sum by the samples of the whole accumulated batch. Either way micro-batch
    2 × 2 steps gives the gradients of batch 4 × 1 step, and the Trainer must not
    divide again (it does not when ``compute_loss_func`` is set). Running sums of
    the statistics feed the log.

    With several processes (DDP), each computes its own samples' weights s_b: a sample's
    weight depends on that sample alone, so where it is computed does not matter. Each
    process divides its sum by the global count (tokens gathered by transformers, samples
    as ``batch × accumulation × processes``); the Trainer multiplies by the process count
    and DDP averages the gradients, which together give the global batch's mean. The
    division assumes full micro-batches; an epoch's last, partial batch is divided by the
    full count, as in one process. The logged statistics are summed over processes.
    """

    def __init__(self, config: TrainConfig, accumulation_steps: int, num_processes: int = 1) -> None:
        self.config = config
        self.accumulation_steps = accumulation_steps
        self.num_processes = num_processes
        self.reset()

    def reset(self) -> None:
        self.sums = {"sample_weight": 0.0, "confidence": 0.0, "ce": 0.0}
        self.samples = 0
        self.batches = 0

    def __call__(self, outputs, labels, num_items_in_batch=None):
        from ._loss import lm_loss

        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        training = num_items_in_batch is not None
        num_samples = labels.shape[0] * self.accumulation_steps * self.num_processes if training else None
        loss, stats = lm_loss(
            logits, labels, self.config.loss, group_size=self.config.group_size, gamma=self.config.gamma,
            num_items_in_batch=num_items_in_batch, num_samples=num_samples, return_stats=True,
        )
        if training:
            self.sums["sample_weight"] += float(stats["sample_weight"].sum())
            self.sums["confidence"] += float(stats["confidence"].sum())
            self.sums["ce"] += float(stats["ce"])
            self.samples += labels.shape[0]
            self.batches += 1
        return loss

    def averages(self) -> dict[str, float]:
        """Means since the last log, over every process's samples (the Trainer logs on every process at once)."""
        totals = [self.sums["sample_weight"], self.sums["confidence"], self.sums["ce"], self.samples, self.batches]
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            import torch

            summed = torch.tensor(totals, dtype=torch.float64,
                                  device="cuda" if dist.get_backend() == "nccl" else "cpu")
            dist.all_reduce(summed)
            totals = summed.tolist()
        weight, confidence, ce, samples, batches = totals
        self.reset()
        if not samples:
            return {}
        return {"mean_sample_weight": weight / samples, "mean_confidence": confidence / samples, "ce": ce / batches}


def _trainer_class():
    from transformers import Trainer

    class BalancedTrainer(Trainer):
        """A Trainer that logs BFT's statistics (mean s_b, mean p_b, plain CE) beside the loss."""

        def log(self, logs, *args, **kwargs):
            if "loss" in logs and isinstance(self.compute_loss_func, BalancedLoss):
                logs.update(self.compute_loss_func.averages())
            return super().log(logs, *args, **kwargs)

    return BalancedTrainer


def validation_losses(model, features: list[dict], config: TrainConfig, batch_size: int = 8) -> dict[str, float]:
    """Plain token-mean cross-entropy and the run's own loss on tokenized records (no gradient).

    The own loss (e.g. BFT) is averaged over batches; plain cross-entropy over all
    target tokens. Both are reported because DFT-style token weights trade plain
    cross-entropy for confidence on the tokens the model already finds likely.
    """
    import torch

    from ._loss import lm_loss

    collate = _Collator(0)
    device = next(model.parameters()).device
    total, count, own, batches = 0.0, 0, 0.0, 0
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(features), batch_size):
            batch = {k: v.to(device) for k, v in collate(features[i : i + batch_size]).items()}
            labels = batch.pop("labels")
            logits = model(**batch).logits
            loss, stats = lm_loss(logits, labels, config.loss, group_size=config.group_size, gamma=config.gamma,
                                  return_stats=True)
            n = int(stats["n_tokens"])
            total += float(stats["ce"]) * n
            count += n
            own += float(loss)
            batches += 1
    model.train(was_training)
    return {"ce": total / max(count, 1), "loss": own / max(batches, 1)}


def data_from_config(config: TrainConfig) -> TrainingData:
    """The training data a :class:`TrainConfig` describes: its ``data_dir``, or records built from the knowledge base."""
    if config.data_dir:
        return TrainingData.from_folder(config.data_dir)
    if config.task == "naming":
        return build_naming_data(n_terms=config.n_terms, exclude=config.exclude, benchmark_data=config.benchmark_data,
                                 seed=config.seed)
    user = read_records(config.user_data) if config.user_data else None
    kept_out = config.exclude_genes  # a comma-separated string from the command line
    kept_out = [g.strip() for g in kept_out.split(",") if g.strip()] if isinstance(kept_out, str) else kept_out
    return build_training_data(
        n_genes=config.n_genes, n_gene_sets=config.n_gene_sets, wordings=config.wordings,
        exclude=config.exclude, benchmark_data=config.benchmark_data, lineage=config.exclude_lineage,
        jaccard=config.exclude_jaccard, seed=config.seed, user_records=user,
        exclude_genes=kept_out or (),
    )


#: DeepSpeed configs that ship with bftbio (``TrainConfig(deepspeed="zero3")``), in ``bftbio/train/deepspeed/``.
DEEPSPEED_CONFIGS = ("zero2", "zero3")


def deepspeed_config(name: str | os.PathLike) -> Path:
    """The DeepSpeed config file for ``name``: a packaged one (:data:`DEEPSPEED_CONFIGS`) or a path."""
    if str(name) in DEEPSPEED_CONFIGS:
        return Path(__file__).parent / "deepspeed" / f"{name}.json"
    path = Path(name).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no DeepSpeed config at {path}; give a JSON file or one of {DEEPSPEED_CONFIGS}")
    return path


class _OneProcess:
    """The one process of a run that was not launched by accelerate or torchrun."""

    is_main_process = True
    num_processes = 1

    def wait_for_everyone(self) -> None:
        pass


def _distributed():
    """accelerate's view of the processes (rank, count, device) when launched with several, else :class:`_OneProcess`.

    A single process never creates accelerate's state here, so the Trainer still sets it up
    from the training arguments (``use_cpu`` included).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return _OneProcess()
    from accelerate import PartialState

    return PartialState()


def _last_checkpoint(out: Path) -> str | None:
    checkpoints = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def finetune(
    model: str = "default",
    data: TrainingData | str | os.PathLike | None = None,
    loss: str | None = None,
    *,
    config: TrainConfig | None = None,
    **options,
) -> Path:
    """Fine-tune a causal LM with LoRA and the BFT (or SFT, DFT) loss.

    Parameters
    ----------
    model
        Base model: ``"default"`` (SmolLM2-135M-Instruct, offline), a Hugging
        Face id or a local folder. Overrides ``config.model`` unless "default".
    data
        A :class:`TrainingData`, a folder it was written to
        (:meth:`TrainingData.to_jsonl`), a ``.jsonl``/``.csv`` of prompt/answer
        pairs (used for training, a tenth held out for validation), or None to
        build data from the config (``config.task``; benchmark-clean by default).
    loss
        ``"bft"``, ``"bft-local"``, ``"sft"`` or ``"dft"``; overrides ``config.loss``.
    config
        A :class:`TrainConfig`; ``options`` override its fields.

    Returns
    -------
    The output folder: ``adapter_model.safetensors`` and ``adapter_config.json``
    (peft), the tokenizer, ``bftbio_provenance.json`` (base model, loss and its
    options, data hash and sizes, exclusion rule, seed, versions, validation
    cross-entropy before and after), ``log_history.json`` and the training data.
    A killed run resumes from its last checkpoint when called again.

    Several processes
        Under ``accelerate launch --num_processes N`` (DDP; or with ``deepspeed=`` a ZeRO
        config) the same call trains data-parallel: each process takes ``batch_size``
        samples per micro-batch, so an optimiser step sees ``batch_size ×
        gradient_accumulation_steps × N`` samples. The loss is normalised over that whole
        global batch (tokens for sft/dft, gathered across processes by transformers;
        samples for bft/bft-local, whose sample weights are each sample's own), so N
        processes give the losses and gradients of one process with an N times larger
        batch (tested with two CPU processes). Only the main process writes: the data,
        checkpoints (through the Trainer), the adapter and the provenance.

    Examples
    --------
    >>> from bftbio.train import finetune
    >>> path = finetune(loss="bft", max_steps=100, output_dir="runs/bft")  # doctest: +SKIP
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import TrainingArguments, set_seed

    from ..models import load_llm

    config = TrainConfig(**{**(config or TrainConfig()).to_dict(), **options})
    if model != "default":
        config.model = str(model)
    if loss is not None:
        config = TrainConfig(**{**config.to_dict(), "loss": loss})
    out = Path(config.output_dir)
    state = _distributed()
    finished = (out / PROVENANCE).exists()
    state.wait_for_everyone()  # every process has looked before the main one removes anything
    if finished and not config.overwrite:
        raise FileExistsError(f"{out} holds a finished run; choose another output_dir or pass overwrite=True")
    if state.is_main_process:
        if finished:
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
    set_seed(config.seed)

    if data is None:
        data = data_from_config(config)
    elif not isinstance(data, TrainingData) and Path(data).is_dir():
        data = TrainingData.from_folder(data)
    elif not isinstance(data, TrainingData):
        records = read_records(data)
        n_val = max(1, len(records) // 10)
        data = TrainingData(splits={"train": records[n_val:], "validation": records[:n_val], "test": []},
                            provenance={"source": str(data), "n_records": {"train": len(records) - n_val,
                                                                           "validation": n_val}})
    if state.is_main_process:
        data.to_jsonl(out / "data")
    state.wait_for_everyone()

    # One process: the settings' device. Several: each its own (cuda:<local rank>, or cpu).
    device = settings.resolve_device() if state.num_processes == 1 else str(state.device)
    llm = load_llm(config.model, device=device)
    tokenizer = llm.tokenizer
    train = tokenize_records(tokenizer, data.splits["train"], config.max_length)
    validation = tokenize_records(tokenizer, data.splits["validation"], config.max_length)
    if not train:
        raise ValueError("no training examples left after tokenization; check the data and max_length")

    targets = config.target_modules if config.target_modules == "all-linear" else config.target_modules.split(",")
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM")
    peft_model = get_peft_model(llm.model, lora)
    if config.gradient_checkpointing:
        peft_model.enable_input_require_grads()
    use_bf16 = config.bf16 == "yes" or (
        config.bf16 == "auto" and device.startswith("cuda") and torch.cuda.is_bf16_supported()
    )
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        lr_scheduler_type="cosine",
        warmup_steps=0,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=2,
        eval_strategy="no",
        seed=config.seed,
        data_seed=config.seed,
        bf16=use_bf16,
        report_to=[],
        remove_unused_columns=False,
        disable_tqdm=not (settings.progress and sys.stderr.isatty()),  # plain log lines in files and pipes
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
        **({"gradient_checkpointing": True} if config.gradient_checkpointing else {}),
        **({"deepspeed": str(deepspeed_config(config.deepspeed))} if config.deepspeed else {}),
    )
    steps_per_epoch = math.ceil(len(train) / (config.batch_size * config.gradient_accumulation_steps))
    total_steps = config.max_steps if config.max_steps > 0 else math.ceil(steps_per_epoch * config.num_epochs)
    args.warmup_steps = int(round(config.warmup_ratio * total_steps))
    loss_func = BalancedLoss(config, config.gradient_accumulation_steps, max(1, args.world_size))
    trainer = _trainer_class()(
        model=peft_model, args=args, train_dataset=train, data_collator=_Collator(tokenizer.pad_token_id),
        compute_loss_func=loss_func,
    )
    val_before = validation_losses(peft_model, validation, config) if validation else {}
    checkpoint = _last_checkpoint(out)
    resumed_at = int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else 0
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - started
    # Tokens (prompt and answer) of the samples this call trained on: the mean length times the samples seen.
    seen = (trainer.state.global_step - resumed_at) * config.batch_size * config.gradient_accumulation_steps * max(
        1, args.world_size)
    tokens_seen = round(seen * sum(len(f["input_ids"]) for f in train) / len(train))
    val_after = validation_losses(peft_model, validation, config) if validation else {}
    if config.deepspeed:
        # ZeRO-3 splits the weights over the processes: every process takes part in gathering
        # them, and the Trainer writes the adapter from the main process.
        trainer.save_model(str(out))
    if not state.is_main_process:
        state.wait_for_everyone()  # returns once the main process has written the run
        return out

    if not config.deepspeed:
        peft_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_atomic(out / "log_history.json", json.dumps(trainer.state.log_history, indent=1))
    provenance = {
        "base_model": llm.name,
        "loss": config.loss,
        "loss_options": {"group_size": config.group_size, "gamma": config.gamma},
        "config": config.to_dict(),
        "data": data.provenance,
        "n_train_examples": len(train),
        "n_validation_examples": len(validation),
        "steps": trainer.state.global_step,
        "train_seconds": round(seconds, 1),
        "train_tokens_seen": tokens_seen,
        "tokens_per_second": round(tokens_seen / seconds, 1) if seconds > 0 else None,
        "train_loss": result.training_loss,
        "validation_ce_before": val_before.get("ce"),
        "validation_ce_after": val_after.get("ce"),
        "validation_loss_before": val_before.get("loss"),
        "validation_loss_after": val_after.get("loss"),
        "device": device,
        "num_processes": state.num_processes,
        "bf16": use_bf16,
        "versions": package_versions(),
    }
    write_atomic(out / PROVENANCE, json.dumps(provenance, indent=1, default=str))  # last: marks the run finished
    for checkpoint in out.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)  # the finished adapter supersedes them
    logger.info("trained %s with %s: validation %s loss %.4f -> %.4f, plain CE %.3f -> %.3f", llm.name,
                config.loss, config.loss, val_before.get("loss", float("nan")), val_after.get("loss", float("nan")),
                val_before.get("ce", float("nan")), val_after.get("ce", float("nan")))
    state.wait_for_everyone()
    return out


def load(path: str | os.PathLike, *, merge: bool = False, device: str | None = None):
    """Load a fine-tuned model written by :func:`finetune`.

    Parameters
    ----------
    path
        The output folder of :func:`finetune`.
    merge
        Merge the LoRA weights into the base model (faster inference, no peft wrapper).

    Returns
    -------
    A :class:`bftbio.models.LanguageModel` (``model, tokenizer, name, adapter``).
    """
    from ..models import load_llm

    path = Path(path)
    prov = path / PROVENANCE
    if not prov.is_file():
        raise FileNotFoundError(f"{path} is not a finished bftbio training run (no {PROVENANCE})")
    base = json.loads(prov.read_text())["base_model"]
    return load_llm(base, adapter=path, device=device, merge=merge)
