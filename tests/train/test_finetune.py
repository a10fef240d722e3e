"""Fine-tuning mechanics on the tiny Llama of tests/conftest.py (seconds)."""

import json
import os

import pytest
import torch

from bftbio.models import generate_texts
from bftbio.train import TrainingData, finetune, load
from bftbio.train._config import TrainConfig
from bftbio.train._finetune import BalancedLoss, tokenize_records

RECORDS = [
    {"prompt": f"Tell me about gene G{i}.", "answer": f"G{i} is a tumor suppressor that controls the cell cycle.",
     "kind": "profile", "key": f"G{i}"}
    for i in range(12)
]


@pytest.fixture
def tiny_data():
    return TrainingData(splits={"train": RECORDS[:8], "validation": RECORDS[8:], "test": []},
                        genes={"train": [], "validation": [], "test": []}, provenance={"source": "test"})


def test_labels_cover_the_answer_only(tiny_llm):
    (example,) = tokenize_records(tiny_llm.tokenizer, RECORDS[:1], max_length=512)
    answer = [t for t in example["labels"] if t != -100]
    assert answer[-1] == tiny_llm.tokenizer.eos_token_id
    assert tiny_llm.tokenizer.decode(answer[:-1]) == RECORDS[0]["answer"]
    assert example["input_ids"][-len(answer):] == answer


@pytest.mark.parametrize("loss", ["bft", "sft"])
def test_finetune_trains_lora_only_and_reloads(tiny_llm_dir, tiny_data, tmp_path, loss):
    from transformers import AutoModelForCausalLM

    out = finetune(str(tiny_llm_dir), tiny_data, loss, output_dir=str(tmp_path / loss), max_steps=6,
                   batch_size=2, gradient_accumulation_steps=2, learning_rate=5e-3, save_steps=3,
                   logging_steps=2, group_size=4)
    prov = json.loads((out / "bftbio_provenance.json").read_text())
    assert prov["loss"] == loss and prov["steps"] == 6 and prov["base_model"] == str(tiny_llm_dir)
    assert prov["validation_ce_after"] < prov["validation_ce_before"]
    history = json.loads((out / "log_history.json").read_text())
    logged = [h for h in history if "loss" in h]
    assert logged and {"mean_sample_weight", "mean_confidence", "ce"} <= set(logged[0])
    assert not list(out.glob("checkpoint-*"))

    llm = load(out, device="cpu")
    base = AutoModelForCausalLM.from_pretrained(tiny_llm_dir)
    tuned = {n.replace("base_model.model.", "").replace(".base_layer", ""): p
             for n, p in llm.model.named_parameters() if "lora_" not in n}
    for name, p in base.named_parameters():
        torch.testing.assert_close(tuned[name], p)  # base weights untouched
    lora_b = [p for n, p in llm.model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # LoRA B starts at zero; training moved it
    assert isinstance(generate_texts(llm, ["Tell me about gene G1."], max_new_tokens=4, progress=False)[0], str)
    merged = load(out, merge=True, device="cpu")
    assert not any("lora_" in n for n, _ in merged.model.named_parameters())


def test_finished_run_is_not_overwritten(tiny_llm_dir, tiny_data, tmp_path):
    kwargs = dict(output_dir=str(tmp_path / "run"), max_steps=1, batch_size=2, gradient_accumulation_steps=1)
    finetune(str(tiny_llm_dir), tiny_data, "sft", **kwargs)
    with pytest.raises(FileExistsError, match="finished run"):
        finetune(str(tiny_llm_dir), tiny_data, "sft", **kwargs)
    finetune(str(tiny_llm_dir), tiny_data, "sft", overwrite=True, **kwargs)


@pytest.mark.parametrize("loss", ["sft", "dft", "bft", "bft-local"])
def test_accumulation_scaling_matches_one_big_batch(loss):
    torch.manual_seed(0)
    logits = torch.randn(4, 7, 11, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 11, (4, 7))
    labels[0, :5] = -100  # unequal token counts per sample
    labels[3, 2:] = -100

    def n_items(lab):
        return int((torch.nn.functional.pad(lab, (0, 1), value=-100)[:, 1:] != -100).sum())

    config = TrainConfig(loss=loss, group_size=3)
    big = BalancedLoss(config, accumulation_steps=1)({"logits": logits}, labels, num_items_in_batch=n_items(labels))
    (g_big,) = torch.autograd.grad(big, logits)
    small = BalancedLoss(config, accumulation_steps=2)
    total = sum(small({"logits": logits[i : i + 2]}, labels[i : i + 2], num_items_in_batch=n_items(labels))
                for i in (0, 2))
    (g_acc,) = torch.autograd.grad(total, logits)
    torch.testing.assert_close(g_acc, g_big)
    assert small.averages()["ce"] > 0


@pytest.mark.fault
def test_export_writes_a_slim_adapter_that_loads_alike(tiny_llm_dir, tiny_data, tmp_path):
    from bftbio.models import continuation_logprobs, load_llm
    from bftbio.train import export_adapter

    tiny_data.to_jsonl(tmp_path / "records")
    run = finetune(str(tiny_llm_dir), str(tmp_path / "records"), "sft", output_dir=str(tmp_path / "run"), max_steps=2,
                   batch_size=2, learning_rate=5e-3)  # a folder of records trains as the TrainingData it holds
    assert json.loads((run / "bftbio_provenance.json").read_text())["n_train_examples"] == 8
    out = export_adapter(run, tmp_path / "shipped", scores={"validation_rougeL": 0.5}, command="bftbio train ...")
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors",
                                                     "bftbio_provenance.json"]
    assert (out / "adapter_model.safetensors").stat().st_size < (run / "adapter_model.safetensors").stat().st_size
    mask = os.umask(0)
    os.umask(mask)
    assert {p.name: p.stat().st_mode & 0o777 for p in (out, *out.iterdir())} == {  # as the umask says, not 0600
        out.name: 0o777 & ~mask, **{p.name: 0o666 & ~mask for p in out.iterdir()}}
    export = json.loads((out / "bftbio_provenance.json").read_text())["export"]
    assert export["dtype"] == "float16" and export["scores"] == {"validation_rougeL": 0.5}
    prompts, answers = ["Tell me about gene G1."], ["G1 is a tumor suppressor."]
    full = continuation_logprobs(load_llm(str(tiny_llm_dir), adapter=run, device="cpu"), prompts, answers)
    half = continuation_logprobs(load_llm(str(tiny_llm_dir), adapter=out, device="cpu", merge=True), prompts, answers)
    assert half == pytest.approx(full, abs=1e-2)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_adapter(run, out)
    with pytest.raises(FileNotFoundError, match="not a finished"):
        export_adapter(tmp_path / "records", tmp_path / "x")


def test_config_task_chooses_the_data():
    with pytest.raises(ValueError, match="task must be"):
        TrainConfig(task="profiles")
    assert TrainConfig(task="naming", n_terms="7").n_terms == 7  # a command-line string


@pytest.mark.fault
def test_a_killed_training_resumes_from_its_last_checkpoint_and_ends_as_if_never_killed(tiny_llm_dir, tiny_data,
                                                                                        tmp_path):
    """SIGKILL right after the checkpoint of step 4 (a known point): the rerun loses no step and ends
    with the weights and losses of a run that was never killed."""
    import signal
    import subprocess
    import sys
    import textwrap

    from safetensors.torch import load_file

    records = tmp_path / "records"
    tiny_data.to_jsonl(records)
    options = dict(max_steps=6, batch_size=2, learning_rate=5e-3, save_steps=2, logging_steps=1, seed=0)
    killed = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import os, signal
        from transformers import Trainer
        from bftbio.train import finetune

        real_save = Trainer._save_checkpoint

        def save_then_die(self, *args, **kwargs):
            real_save(self, *args, **kwargs)
            if self.state.global_step == 4:
                os.kill(os.getpid(), signal.SIGKILL)

        Trainer._save_checkpoint = save_then_die
        finetune({str(tiny_llm_dir)!r}, {str(records)!r}, "bft", output_dir={str(killed)!r}, **{options!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert sorted(p.name for p in killed.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert not (killed / "bftbio_provenance.json").exists()  # not taken for a finished run

    finetune(str(tiny_llm_dir), str(records), "bft", output_dir=str(killed), **options)
    whole = finetune(str(tiny_llm_dir), str(records), "bft", output_dir=str(tmp_path / "whole"), **options)
    history = {p: [h for h in json.loads((p / "log_history.json").read_text()) if "loss" in h] for p in (killed, whole)}
    assert [h["step"] for h in history[killed]] == [1, 2, 3, 4, 5, 6]  # none lost, none repeated
    assert [h["loss"] for h in history[killed]] == pytest.approx([h["loss"] for h in history[whole]], rel=1e-4)
    a, b = load_file(killed / "adapter_model.safetensors"), load_file(whole / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    prov = {p: json.loads((p / "bftbio_provenance.json").read_text()) for p in (killed, whole)}
    assert prov[killed]["steps"] == prov[whole]["steps"] == 6
    # The rerun trained steps 5 and 6 only: a third of the whole run's samples.
    assert prov[killed]["train_tokens_seen"] == pytest.approx(prov[whole]["train_tokens_seen"] / 3, rel=0.01)
