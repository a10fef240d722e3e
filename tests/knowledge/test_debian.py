"""Finding the SQLite files in .deb files and extracted trees."""

import io
import shutil
import tarfile

import pytest

from bftbio.knowledge import _debian, build_snapshot
from bftbio.knowledge._debian import download_packages, locate_sources


def _tar(files: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n"
        out += header.encode() + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def make_deb(path, package, version, files):
    control = f"Package: {package}\nVersion: {version}\nArchitecture: all\n".encode()
    path.write_bytes(_ar({
        "debian-binary": b"2.0\n",
        "control.tar.gz": _tar({"./control": control}, "w:gz"),
        "data.tar.xz": _tar(files, "w:xz"),
    }))


@pytest.fixture
def deb_dir(tmp_path, tiny_source):
    org = next(tiny_source.rglob("org.Hs.eg.sqlite")).read_bytes()
    go = next(tiny_source.rglob("GO.sqlite")).read_bytes()
    debs = tmp_path / "debs"
    debs.mkdir()
    site = "./usr/lib/R/site-library"
    make_deb(debs / "r-bioc-org.hs.eg.db_3.16.0-1_all.deb", "r-bioc-org.hs.eg.db", "3.16.0-1",
             {f"{site}/org.Hs.eg.db/extdata/org.Hs.eg.sqlite": org})
    make_deb(debs / "r-bioc-go.db_3.16.0-1_all.deb", "r-bioc-go.db", "3.16.0-1",
             {f"{site}/GO.db/extdata/GO.sqlite": go})
    return debs


def test_debs_are_read_without_dpkg(deb_dir, tmp_path):
    found = locate_sources(deb_dir, tmp_path / "work")
    assert found["org.Hs.eg.db"].debian_version == "3.16.0-1"
    assert found["GO.db"].r_version == "3.16.0"
    assert found["GO.db"].origin == "r-bioc-go.db_3.16.0-1_all.deb"
    assert found["GO.db"].sqlite.read_bytes()[:15] == b"SQLite format 3"


def test_snapshot_from_debs_equals_snapshot_from_tree(deb_dir, tiny_snapshot, tmp_path):
    out = build_snapshot(deb_dir, tmp_path / "kb")
    for name in ("genes", "aliases", "go_annotations", "go_terms", "go_parents"):
        assert (out / f"{name}.tsv.gz").read_bytes() == (tiny_snapshot / f"{name}.tsv.gz").read_bytes()


def test_extracted_tree_gives_versions(tiny_source, tmp_path):
    found = locate_sources(tiny_source, tmp_path)
    assert found["org.Hs.eg.db"].origin == "extracted tree"
    assert found["org.Hs.eg.db"].debian_version == "3.16.0-1"


def test_two_copies_are_refused(tiny_source, tmp_path):
    copy = tmp_path / "second" / "GO.sqlite"
    copy.parent.mkdir()
    copy.write_bytes(next(tiny_source.rglob("GO.sqlite")).read_bytes())
    shutil.copytree(tiny_source, tmp_path / "first")
    with pytest.raises(ValueError, match="several GO.sqlite"):
        locate_sources(tmp_path, tmp_path / "work")


def test_not_a_deb(tmp_path):
    (tmp_path / "r-bioc-org.hs.eg.db_1_all.deb").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a Debian package"):
        locate_sources(tmp_path, tmp_path / "work")


def test_failed_download_says_what_to_fetch(tmp_path, monkeypatch):
    def no_apt(*args, **kwargs):
        raise FileNotFoundError("apt-get")

    monkeypatch.setattr(_debian.subprocess, "run", no_apt)
    with pytest.raises(RuntimeError, match=r"r-bioc-org\.hs\.eg\.db_\*\.deb and r-bioc-go\.db_\*\.deb.*--source DIR"):
        download_packages(tmp_path)


def test_build_without_source_downloads(tmp_path, monkeypatch, tiny_source):
    # source=None goes through download_packages; here it "downloads" the tiny tree.
    calls = []

    def fake_download(directory):
        calls.append(directory)
        shutil.copytree(tiny_source, directory / "tree")

    monkeypatch.setattr("bftbio.knowledge._build.download_packages", fake_download)
    out = build_snapshot(None, tmp_path / "kb")
    assert len(calls) == 1 and (out / "sources.json").is_file()
