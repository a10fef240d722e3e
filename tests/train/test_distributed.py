"""Training under `accelerate launch`: two CPU processes (gloo) against one process with the same global batch."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from bftbio.train import TrainingData, finetune

RECORDS = [
    {"prompt": f"Tell me about gene G{i}.", "answer": f"G{i} is a {'tumor suppressor' if i % 2 else 'kinase'} "
     f"that controls {'the cell cycle' if i % 3 else 'apoptosis'}.", "kind": "profile", "key": f"G{i}"}
    for i in range(20)
]
# lora_dropout 0: dropout would draw different masks in one and in two processes.
OPTIONS = dict(max_steps=4, learning_rate=5e-3, save_steps=2, logging_steps=1, seed=0, lora_dropout=0.0)


@pytest.fixture
def records(tmp_path):
    data = TrainingData(splits={"train": RECORDS[:16], "validation": RECORDS[16:], "test": []},
                        genes={"train": [], "validation": [], "test": []}, provenance={"source": "test"})
    return data.to_jsonl(tmp_path / "records")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(args, *, timeout=600):
    """`accelerate launch --multi_gpu --num_processes 2 <args>` in a fresh interpreter (two CPU processes here)."""
    # `--multi_gpu` is accelerate's multi-process (torchrun) launcher; without a GPU the processes use gloo on CPU.
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", str(_port()), *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def _losses(path):
    return [h for h in json.loads((path / "log_history.json").read_text()) if "loss" in h]


@pytest.mark.parametrize("loss", ["bft", "sft"])
def test_two_processes_match_one_with_the_same_global_batch(tiny_llm_dir, records, tmp_path, loss):
    one = finetune(str(tiny_llm_dir), str(records), loss, output_dir=str(tmp_path / "one"), batch_size=4, **OPTIONS)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in OPTIONS.items()]
    done = _launch(["-m", "bftbio", "train", "--model", str(tiny_llm_dir), "--data-dir", str(records),
                    "--loss", loss, "--batch-size", "2", "--output-dir", str(tmp_path / "two"), *flags])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("adapter written to") == 1  # the main process reports, once
    two = tmp_path / "two"
    steps = {p: [(h["step"], h["loss"]) for h in _losses(p)] for p in (one, two)}
    assert [s for s, _ in steps[two]] == [1, 2, 3, 4]
    # Same samples per step, same normalisation: the losses agree up to float32 reduction order.
    assert [v for _, v in steps[two]] == pytest.approx([v for _, v in steps[one]], rel=1e-4)
    a, b = load_file(one / "adapter_model.safetensors"), load_file(two / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    prov = json.loads((two / "bftbio_provenance.json").read_text())
    assert prov["num_processes"] == 2 and prov["steps"] == 4
    assert sorted(p.name for p in (two / "data").iterdir()) == sorted(p.name for p in (one / "data").iterdir())


@pytest.mark.fault
def test_a_killed_two_process_run_resumes_and_ends_as_if_never_killed(tiny_llm_dir, records, tmp_path):
    """Both processes SIGKILLed after the checkpoint of step 2 (all of it written); the relaunch resumes there."""
    killed = tmp_path / "killed"
    options = {**OPTIONS, "batch_size": 2}
    script = tmp_path / "train_and_die.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        from transformers import Trainer
        from bftbio.train import finetune

        real_save = Trainer._save_checkpoint

        def save_then_die(self, *args, **kwargs):
            real_save(self, *args, **kwargs)
            self.accelerator.wait_for_everyone()  # every process has written its part
            if self.state.global_step == 2:
                os.kill(os.getpid(), signal.SIGKILL)

        Trainer._save_checkpoint = save_then_die
        finetune({str(tiny_llm_dir)!r}, {str(records)!r}, "bft", output_dir={str(killed)!r}, **{options!r})
    """))
    done = _launch([str(script)])
    assert done.returncode != 0
    assert sorted(p.name for p in killed.glob("checkpoint-*")) == ["checkpoint-2"], done.stderr[-3000:]
    checkpoint = sorted(p.name for p in (killed / "checkpoint-2").iterdir())
    assert {"adapter_model.safetensors", "optimizer.pt", "trainer_state.json", "rng_state_0.pth",
            "rng_state_1.pth"} <= set(checkpoint)  # weights once (main process), an RNG state per process
    assert not (killed / "bftbio_provenance.json").exists()

    resume = tmp_path / "resume.py"
    resume.write_text(f"from bftbio.train import finetune\n"
                      f"finetune({str(tiny_llm_dir)!r}, {str(records)!r}, 'bft', output_dir={str(killed)!r}, "
                      f"**{options!r})\n")
    done = _launch([str(resume)])
    assert done.returncode == 0, done.stderr[-3000:]
    whole = finetune(str(tiny_llm_dir), str(records), "bft", output_dir=str(tmp_path / "whole"),
                     **{**OPTIONS, "batch_size": 4})
    assert [h["step"] for h in _losses(killed)] == [1, 2, 3, 4]  # none lost, none repeated
    assert [h["loss"] for h in _losses(killed)] == pytest.approx([h["loss"] for h in _losses(whole)], rel=1e-4)
    a, b = load_file(killed / "adapter_model.safetensors"), load_file(whole / "adapter_model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert json.loads((killed / "bftbio_provenance.json").read_text())["steps"] == 4
    assert signal.SIGKILL  # (the kill is the script's own)


def test_packaged_deepspeed_configs_are_valid_and_named():
    from bftbio.train import DEEPSPEED_CONFIGS, TrainConfig, deepspeed_config

    for name in DEEPSPEED_CONFIGS:
        config = json.loads(deepspeed_config(name).read_text())
        assert config["zero_optimization"]["stage"] == int(name[-1])
        # "auto" lets the Trainer fill batch sizes, accumulation and clipping from the TrainConfig.
        assert config["train_micro_batch_size_per_gpu"] == config["gradient_accumulation_steps"] == "auto"
    with pytest.raises(FileNotFoundError, match="zero3"):
        deepspeed_config("zero4")
    assert TrainConfig(deepspeed="zero3").deepspeed == "zero3"


def test_deepspeed_config_reaches_the_trainer(tmp_path):
    pytest.importorskip("deepspeed", reason="the deepspeed extra is not installed")
    from transformers import TrainingArguments

    from bftbio.train import deepspeed_config

    args = TrainingArguments(output_dir=str(tmp_path), deepspeed=str(deepspeed_config("zero3")), report_to=[])
    assert args.hf_deepspeed_config.is_zero3()
