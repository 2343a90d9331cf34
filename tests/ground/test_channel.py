"""hermetic.channel: one parse of a channel; the lock URL and the redacted form."""

from __future__ import annotations

from pathlib import Path

from hermetic.channel import Channel, channel_name


def test_bare_name_resolves_against_the_alias():
    c = Channel.parse("conda-forge", alias="https://conda.anaconda.org/")
    assert c.base_url == c.lock_url == "https://conda.anaconda.org/conda-forge/"
    assert c.name == "conda-forge" and c.rattler_source() == c.base_url
    m = Channel.parse("conda-forge", alias="https://mirror.example/conda")
    assert m.base_url == "https://mirror.example/conda/conda-forge/" and m.name == "conda-forge"


def test_alias_from_the_environment(monkeypatch):
    monkeypatch.setenv("HERMETIC_CHANNEL_ALIAS", "http://127.0.0.1:1/x/")
    assert Channel.parse("bioconda").base_url == "http://127.0.0.1:1/x/bioconda/"
    assert channel_name("http://127.0.0.1:1/x/bioconda/") == "bioconda"
    monkeypatch.delenv("HERMETIC_CHANNEL_ALIAS")
    assert Channel.parse("bioconda").base_url == "https://conda.anaconda.org/bioconda/"


def test_urls_and_local_folders(tmp_path: Path):
    u = Channel.parse("https://prefix.dev/my-channel")
    assert (
        u.base_url == "https://prefix.dev/my-channel/" and u.name == "https://prefix.dev/my-channel"
    )
    assert channel_name("https://repo.anaconda.com/pkgs/main/") == "main"
    d = tmp_path / "conda-forge"
    d.mkdir()
    local = Channel.parse(str(d))
    assert local.is_local and local.base_url == d.as_uri() + "/"
    assert local.rattler_source() == str(d) and local.name == "conda-forge"
    f = Channel.parse(d.as_uri())
    assert f.is_local and f.base_url == d.as_uri() + "/" and f.name == "conda-forge"


def test_credentials_never_in_lock_url_or_redacted_form():
    c = Channel.parse("https://alice:s3cret@artifactory.example/conda/forge")
    assert c.base_url == "https://alice:s3cret@artifactory.example/conda/forge/"
    assert c.lock_url == "https://artifactory.example/conda/forge/"
    assert c.redacted() == "https://********:********@artifactory.example/conda/forge/"
    assert "s3cret" not in str(c) and "alice" not in str(c)
    assert c.name == "https://artifactory.example/conda/forge"
    t = Channel.parse("https://conda.anaconda.org/t/tk-123-abc/my-org")
    assert t.lock_url == "https://conda.anaconda.org/my-org/"
    assert t.redacted() == "https://conda.anaconda.org/t/********/my-org/"
    assert t.name == "my-org"
    token_only = Channel.parse("https://tok3n@host.example/c")
    assert token_only.redacted() == "https://********@host.example/c/"
    assert token_only.lock_url == "https://host.example/c/"
