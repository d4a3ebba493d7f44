from __future__ import annotations

import logging
import socket

import pytest

from openmodule import config
from openmodule.config import _functions


@pytest.fixture
def outside_docker(monkeypatch):
    monkeypatch.setattr(_functions, "_inside_docker", lambda: False)


@pytest.fixture
def inside_docker(monkeypatch):
    monkeypatch.setattr(_functions, "_inside_docker", lambda: True)


def test_version_from_env_file_or_unknown(monkeypatch, tmp_path):
    assert config.version() == "unknown"
    (tmp_path / "VERSION").write_text("1.2.3\n")
    assert config.version() == "1.2.3"
    monkeypatch.setenv("VERSION", " '2.0.0' ")
    assert config.version() == "2.0.0"


def test_testing(monkeypatch):
    assert config.testing() is False
    monkeypatch.setenv("TESTING", "true")
    assert config.testing() is True


def test_debug_rules(monkeypatch, outside_docker):
    assert config.debug() is True  # unknown version, not in docker
    monkeypatch.setenv("VERSION", "1.0")
    assert config.debug() is False
    monkeypatch.delenv("VERSION")
    monkeypatch.setenv("TESTING", "1")
    assert config.debug() is False
    monkeypatch.setenv("DEBUG", "yes")
    assert config.debug() is True


def test_debug_false_inside_docker(inside_docker):
    assert config.debug() is False


def test_resource(monkeypatch, outside_docker):
    assert config.resource() == socket.gethostname()
    monkeypatch.setenv("AUTH_RESOURCE", "res-1")
    assert config.resource() == "res-1"


def test_resource_empty_in_docker(inside_docker):
    assert config.resource() == ""


def test_dev_device(monkeypatch, inside_docker):
    monkeypatch.setenv("VERSION", "1.0")
    assert config.dev_device() is False
    monkeypatch.setenv("TESTING", "1")
    assert config.dev_device() is True
    monkeypatch.setenv("DEVICE_HOST", "https://device.example.com")
    assert config.dev_device() is False
    monkeypatch.setenv("DEVICE_HOST", "https://test.device.example.com")
    assert config.dev_device() is True


def test_compute_id_and_bridged(monkeypatch):
    config.settings.configure(object())
    assert config.compute_id() == 1
    assert config.is_bridged_master() and not config.is_bridged_slave()
    with config.override_context(COMPUTE_ID=2):
        assert config.is_bridged_slave() and not config.is_bridged_master()
    assert config.is_bridged_master()
    monkeypatch.setenv("COMPUTE_ID", "3")
    assert config.compute_id() == 3


def test_config_yaml_path(monkeypatch, inside_docker):
    monkeypatch.setenv("VERSION", "1.0")
    assert config.config_yaml_path() == "/data/config.yml"
    monkeypatch.setenv("TESTING", "1")
    assert config.config_yaml_path() == "../settings/default-testing.yml"
    monkeypatch.setenv("DEBUG", "1")
    assert config.config_yaml_path() == "../settings/default-debug.yml"
    monkeypatch.setenv("CONFIG_YAML", "/etc/x.yml")
    assert config.config_yaml_path() == "/etc/x.yml"


def test_dist_and_database_folder(monkeypatch, inside_docker):
    monkeypatch.setenv("VERSION", "1.0")
    assert config.dist_folder() == "/opt/openmodule/dist2"
    assert config.database_folder() == "/data/sqlite/"
    monkeypatch.setenv("DEBUG", "1")
    assert config.dist_folder() == "../dist2"
    assert config.database_folder() == "../sqlite/debug/"
    monkeypatch.setenv("TESTING", "1")
    assert config.dist_folder() == "../tests/dist2"
    assert config.database_folder() == "../sqlite/test/"
    # 18.x behaviour: the variable wins in every environment
    monkeypatch.setenv("DATABASE_FOLDER", "/db/")
    monkeypatch.setenv("DIST_FOLDER", "/dist/")
    assert config.database_folder() == "/db/"
    assert config.dist_folder() == "/dist/"


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("info", logging.INFO),
        ("Debug", logging.DEBUG),
        ("verbose", logging.DEBUG),
        ("warn", logging.WARNING),
        ("WARNING", logging.WARNING),
        ("err", logging.ERROR),
        ("crit", logging.CRITICAL),
        ("fatal", logging.FATAL),
    ],
)
def test_log_level(monkeypatch, raw, level):
    monkeypatch.setenv("LOG_LEVEL", raw)
    assert config.log_level() == level


def test_log_level_default_depends_on_debug(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "nonsense")
    monkeypatch.setenv("DEBUG", "0")
    assert config.log_level() == logging.INFO
    monkeypatch.setenv("DEBUG", "1")
    assert config.log_level() == logging.DEBUG


def test_broker_endpoints(monkeypatch):
    assert config.broker_pub() == "tcp://127.0.0.1:10200"
    assert config.broker_sub() == "tcp://127.0.0.1:10100"
    monkeypatch.setenv("BROKER_HOST", "broker")
    assert config.broker_pub() == "tcp://broker:10200"
    monkeypatch.setenv("BROKER_SUB_PORT", "1234")
    assert config.broker_sub() == "tcp://broker:1234"
    monkeypatch.setenv("BROKER_PUB", "ipc:///tmp/pub")
    assert config.broker_pub() == "ipc:///tmp/pub"


def test_locale_dir(monkeypatch, tmp_path, inside_docker):
    monkeypatch.setenv("VERSION", "1.0")
    assert config.locale_dir() == "/translation/locale"
    monkeypatch.setenv("TESTING", "1")
    assert config.locale_dir() == "../docker/translation/locale"
    work = tmp_path / "src"
    work.mkdir()
    (tmp_path / "svc" / "translation" / "locale").mkdir(parents=True)
    monkeypatch.chdir(work)
    assert config.locale_dir() == "../svc/translation/locale"
    monkeypatch.setenv("LOCALE_DIR", "/loc")
    monkeypatch.setenv("DEBUG", "1")
    assert config.locale_dir() == "/loc"  # the reference returned DEBUG's value here


def test_settings_module_name(monkeypatch, tmp_path):
    assert config.settings_module() == "config"
    monkeypatch.setenv("TESTING", "1")
    assert config.settings_module() == "config"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "config.py").write_text("")
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    assert config.settings_module() == "tests.config"
    monkeypatch.setenv("SETTINGS_MODULE", "my.settings")
    assert config.settings_module() == "my.settings"


def test_run_checks(monkeypatch, inside_docker):
    monkeypatch.setenv("VERSION", "1")
    assert config.run_checks() is False
    monkeypatch.setenv("TESTING", "1")
    assert config.run_checks() is True
