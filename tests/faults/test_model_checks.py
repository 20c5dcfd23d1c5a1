"""A missing or corrupt model stops start-up with a clear message, before Rasa is spawned; a model Rasa
still rejects stops it with Rasa's own reason instead of a wait that times out."""

from __future__ import annotations

import gzip
import io
import json
import secrets
import tarfile
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port
from visafaq.launcher import Assistant, Ports, Settings, StartupError, check_model
from visafaq.settings import PROJECT_ROOT

REAL_MODEL = PROJECT_ROOT / "models" / "visafaq.tar.gz"


def archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def start_fails(model: Path, tmp_path: Path) -> str:
    """What `visafaq run` says for this model; nothing may have been started."""
    assistant = Assistant(Settings(model=model, var=tmp_path / "var"))
    with pytest.raises(StartupError) as raised:
        assistant.start(timeout=5)
    assert assistant.processes == []
    return str(raised.value)


def test_a_missing_model_is_named_with_the_command_that_makes_one(tmp_path: Path) -> None:
    message = start_fails(tmp_path / "nothing.tar.gz", tmp_path)
    assert "no trained model" in message and "nothing.tar.gz" in message and "make train" in message


def test_a_file_that_is_not_gzip_is_not_a_model(tmp_path: Path) -> None:
    model = tmp_path / "visafaq.tar.gz"
    model.write_text("<html>404 Not Found</html>")
    message = start_fails(model, tmp_path)
    assert "is not a Rasa model" in message and "gzip" in message


def test_a_truncated_model_is_not_a_model(tmp_path: Path) -> None:
    whole = archive(tmp_path / "whole.tar.gz", {"metadata.json": b"{}" * 5000, "components/x": b"y" * 50_000})
    model = tmp_path / "visafaq.tar.gz"
    model.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "is not a Rasa model" in start_fails(model, tmp_path)


def test_a_gzip_file_that_is_not_a_tar_is_not_a_model(tmp_path: Path) -> None:
    model = tmp_path / "visafaq.tar.gz"
    model.write_bytes(gzip.compress(b"just some text, not an archive" * 100))
    assert "is not a Rasa model" in start_fails(model, tmp_path)


def test_a_tar_without_rasa_metadata_is_not_a_model(tmp_path: Path) -> None:
    model = archive(tmp_path / "visafaq.tar.gz", {"components/domain_provider/domain.yml": b"version: '3.1'\n"})
    message = start_fails(model, tmp_path)
    assert "no metadata.json" in message


@pytest.mark.parametrize("metadata", [b"not json", b"[]", b'{"model_id": "x"}'])
def test_metadata_that_is_not_rasa_s_is_refused(tmp_path: Path, metadata: bytes) -> None:
    model = archive(tmp_path / "visafaq.tar.gz", {"metadata.json": metadata})
    assert "is not a Rasa model" in start_fails(model, tmp_path)


def test_the_trained_model_passes_the_checks() -> None:
    if not REAL_MODEL.exists():
        pytest.fail(f"no trained model at {REAL_MODEL}: `make test` trains it first (make train)")
    check_model(REAL_MODEL)


def test_a_model_rasa_rejects_stops_start_up_with_rasa_s_reason(tmp_path: Path) -> None:
    """Our checks pass (a gzip tar with Rasa's metadata), Rasa refuses it (too old): its reason is shown."""
    if not REAL_MODEL.exists():
        pytest.fail(f"no trained model at {REAL_MODEL}: `make test` trains it first (make train)")
    with tarfile.open(REAL_MODEL, "r:gz") as tar:
        member = tar.extractfile("metadata.json")
        assert member is not None
        metadata = json.load(member)
    metadata["rasa_open_source_version"] = "2.8.0"
    model = archive(tmp_path / "old.tar.gz", {"metadata.json": json.dumps(metadata).encode()})
    settings = Settings(
        ports=Ports(rasa=free_port(), actions=free_port(), web=free_port()),
        token=secrets.token_urlsafe(16),
        model=model,
        var=tmp_path / "var",
    )
    assistant = Assistant(settings)
    try:
        with pytest.raises(StartupError) as raised:
            assistant.start(timeout=180)
    finally:
        assistant.stop()
    message = str(raised.value)
    assert "Could not load model" in message and "2.8.0" in message, message
    assert "not ready after" not in message
    assert assistant.processes == []
