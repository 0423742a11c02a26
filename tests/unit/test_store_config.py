"""Store configuration, run ids and key safety: no server, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_core.errors import MnistError, StoreError
from mnist_core.store import (
    LocalStore,
    MinioSettings,
    MinioStore,
    check_run_id,
    get_store,
    local_data_dir,
    minio_settings,
    new_run_id,
)

SECRET = "s3cr3t-do-not-print"


def write_secrets(folder: Path, text: str) -> Path:
    path = folder / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_endpoint_means_the_local_store(store_env):
    store = get_store()
    assert isinstance(store, LocalStore)
    assert store.root == store_env
    assert store.describe() == {"backend": "local", "directory": str(store_env), "spooled_runs": 0}


def test_environment_configures_minio_without_touching_the_network(store_env, monkeypatch):
    monkeypatch.setenv("MINIO_ENDPOINT", "minio.example:9000")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "studio")
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET)
    store = get_store()
    assert isinstance(store, MinioStore)
    assert store.settings == MinioSettings("minio.example:9000", "studio", SECRET, "mnist", secure=False)
    assert store.describe() == {
        "backend": "minio",
        "endpoint": "http://minio.example:9000",
        "bucket": "mnist",
        "spooled_runs": 0,
    }
    assert store.spool_dir == store_env / "spool"


def test_secrets_never_appear_in_repr_or_description(store_env, monkeypatch):
    monkeypatch.setenv("MINIO_ENDPOINT", "minio.example:9000")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "studio")
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET)
    store = get_store()
    for text in (repr(store), repr(store.settings), str(store.describe())):
        assert SECRET not in text
        assert "studio" not in text


@pytest.mark.parametrize(
    ("endpoint", "secure_setting", "expected"),
    [
        ("localhost:9000", None, ("localhost:9000", False)),
        ("http://localhost:9000", None, ("localhost:9000", False)),
        ("https://s3.example.org", None, ("s3.example.org", True)),
        ("https://s3.example.org/", None, ("s3.example.org", True)),
        ("localhost:9000", "true", ("localhost:9000", True)),
        ("https://s3.example.org", "false", ("s3.example.org", False)),
    ],
)
def test_endpoint_as_host_port_or_url(store_env, monkeypatch, endpoint, secure_setting, expected):
    monkeypatch.setenv("MINIO_ENDPOINT", endpoint)
    monkeypatch.setenv("MINIO_ACCESS_KEY", "studio")
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET)
    if secure_setting is not None:
        monkeypatch.setenv("MINIO_SECURE", secure_setting)
    settings = minio_settings()
    assert (settings.endpoint, settings.secure) == expected


def test_secrets_file_is_used_and_the_environment_wins(store_env, monkeypatch, tmp_path):
    write_secrets(
        tmp_path,
        f'[minio]\nendpoint = "files.example:9000"\naccess_key = "from-file"\nsecret_key = "{SECRET}"\n'
        'bucket = "runs-from-file"\nsecure = true\n',
    )
    settings = minio_settings()
    assert settings == MinioSettings("files.example:9000", "from-file", SECRET, "runs-from-file", secure=True)

    monkeypatch.setenv("MINIO_BUCKET", "runs-from-env")
    monkeypatch.setenv("MINIO_SECURE", "false")
    settings = minio_settings()
    assert (settings.bucket, settings.secure, settings.access_key) == ("runs-from-env", False, "from-file")


def test_project_secrets_override_the_users(store_env, tmp_path):
    write_secrets(tmp_path / "home", '[minio]\nendpoint = "user:9000"\naccess_key = "a"\nsecret_key = "b"\n')
    assert minio_settings().endpoint == "user:9000"
    write_secrets(tmp_path, '[minio]\nendpoint = "project:9000"\n')
    assert minio_settings() == MinioSettings("project:9000", "a", "b")


def test_unreadable_secrets_file_names_the_file_but_not_its_content(store_env, tmp_path):
    path = write_secrets(tmp_path, f'[minio]\nsecret_key = "{SECRET}\n')
    with pytest.raises(StoreError, match="cannot read") as caught:
        minio_settings()
    assert str(path) in str(caught.value)
    assert SECRET not in str(caught.value)


GOOD = {"MINIO_ENDPOINT": "localhost:9000", "MINIO_ACCESS_KEY": "studio", "MINIO_SECRET_KEY": SECRET}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"MINIO_ENDPOINT": "localhost:9000", "MINIO_ACCESS_KEY": "studio"}, "MINIO_SECRET_KEY is missing"),
        ({**GOOD, "MINIO_ENDPOINT": f"http://studio:{SECRET}@localhost:9000"}, "must not contain credentials"),
        ({**GOOD, "MINIO_ENDPOINT": "ftp://localhost:9000"}, "must be host:port"),
        ({**GOOD, "MINIO_ENDPOINT": "localhost:9000/bucket"}, "must be host:port"),
        ({**GOOD, "MINIO_ENDPOINT": "localhost:port"}, "invalid MINIO_ENDPOINT"),
        ({**GOOD, "MINIO_SECURE": "maybe"}, "MINIO_SECURE must be true or false"),
        ({**GOOD, "MINIO_BUCKET": "Bad_Bucket"}, "invalid MINIO_BUCKET"),
    ],
)
def test_bad_settings_give_one_clear_error(store_env, monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StoreError, match=message) as caught:
        get_store()
    assert isinstance(caught.value, MnistError)
    assert SECRET not in str(caught.value)


def test_local_data_dir_follows_xdg(store_env, monkeypatch, tmp_path):
    assert local_data_dir() == store_env
    monkeypatch.delenv("MNIST_STORE_DIR")
    assert local_data_dir() == tmp_path / "home" / ".local" / "share" / "mnist-studio"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert local_data_dir() == tmp_path / "xdg" / "mnist-studio"


def test_run_ids_are_well_formed_unique_and_sort_by_time():
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(check_run_id(run_id) == run_id for run_id in ids)
    assert check_run_id("20261124T063012Z-3f9a1c2b") < check_run_id("20261124T063013Z-00000000")


@pytest.mark.parametrize(
    "run_id",
    [
        "../x",
        "..",
        "/etc/passwd",
        "20261124T063012Z-3f9a1c2b/../../x",
        "20261124T063012Z-3f9a1c2b/",
        "20261124T063012Z-3f9a1c2b\n",
        "20261124T063012Z-3F9A1C2B",
        "",
        None,
        42,
    ],
)
def test_crafted_run_ids_are_refused(run_id):
    with pytest.raises(StoreError, match="invalid run id"):
        check_run_id(run_id)


@pytest.mark.parametrize("key", ["../outside", "runs/../../outside", "/etc/passwd", "runs//x", "runs/./x"])
def test_local_store_refuses_keys_outside_its_directory(tmp_path, key):
    store = LocalStore(tmp_path / "store")
    with pytest.raises(StoreError, match="invalid store key"):
        store._write(key, b"x")
    assert not (tmp_path / "outside").exists()
