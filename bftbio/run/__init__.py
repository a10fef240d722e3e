"""The main job: every task, end to end, into one run directory.

``bftbio run`` (or :func:`run_main_job`) runs these steps, one module each, on the
embedded defaults:

1. the knowledge base (NCBI Gene + GO snapshot): counts, sources, symbol resolution
   (``_knowledge.py``);
2. with ``--train`` only: LoRA fine-tuning with each loss on one small budget, with the
   GeneAgent benchmark's sets and the interaction benchmark's validation and test genes
   kept out of the training data; adapters are cached by configuration (``_training.py``);
3. what each model writes about a few genes, beside the knowledge profile (``_profiles.py``);
4. gene–gene interactions on a seeded sample of the Gene2vec splits: model choice on
   validation, AUROC on test with its interval, random, prior and annotation baselines
   (``_interactions.py``);
5. perturbation response on SIMULATED Perturb-seq data, with the no-model baselines
   (``_perturbation.py``);
6. gene-set naming on GeneAgent's sets with the naming adapter that ships with bftbio,
   beside the top term of the same evidence and GeneAgent's published answers
   (``_naming.py``).

Each step returns a ``Section``: its figures as a tidy frame
(all of them land in ``results.csv``), the fields of its markdown template in
``templates/`` (``report.md`` is those templates filled in) and its line of the terminal
summary. Figures are drawn by :mod:`bftbio.pl`. Profiles, vectors and answers are cached
in the store (:mod:`bftbio.store`), so a second run does no model work it has done before.
"""

from ._config import RunConfig
from ._job import run_main_job

__all__ = ["RunConfig", "run_main_job"]
