"""With the network cut, every default path works, and nothing even tries to connect."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.fault  # the fault suite (docs/promises.md)

# Run in a fresh interpreter whose sockets refuse to connect (and whose proxies point at an
# unroutable address), without HF_HUB_OFFLINE: what works here works on an offline laptop.
CODE = textwrap.dedent("""
    import socket, sys
    attempts = []
    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network cut by the test")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    import bftbio
    from bftbio import datasets, embed, tasks
    from bftbio.models import load_llm

    store = sys.argv[1]
    vectors = bftbio.embed_genes(["TP53", "MDM2"], store=store, progress=False)
    assert vectors.shape == (2, 384) and not vectors.isna().any().any()
    profiles = embed.gene_profiles(["TP53"], source="profile", max_new_tokens=8, store=store, progress=False)
    assert len(profiles["profile"].iloc[0]) > 5
    sets = datasets.geneagent_gene_sets("NeST").head(1)
    names = tasks.name_gene_sets(sets, max_new_tokens=16, store=store, progress=False)
    assert len(names) == 1
    assert len(datasets.gene2vec_interactions("test")) > 0
    try:
        load_llm("nobody/no-such-model-bftbio")
    except OSError as err:
        assert "not on this machine" in str(err), err
    else:
        raise AssertionError("an unknown model id loaded")
    assert attempts == [], attempts
    print("OFFLINE OK")
""")


@pytest.mark.slow
def test_every_default_path_works_with_the_network_cut(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "BFTBIO_DATA", "BFTBIO_ALLOW_DOWNLOAD")}
    unroutable = "http://10.255.255.1:9"
    env.update({"HTTP_PROXY": unroutable, "HTTPS_PROXY": unroutable, "http_proxy": unroutable,
                "https_proxy": unroutable, "HF_ENDPOINT": unroutable, "NO_PROXY": "", "no_proxy": ""})
    done = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "store.sqlite")], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0 and "OFFLINE OK" in done.stdout, done.stderr[-3000:]
