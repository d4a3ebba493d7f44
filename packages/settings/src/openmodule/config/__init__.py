"""openmodule.config: settings of an openmodule service.

Usage::

    from openmodule import config
    from openmodule.config import settings

    HOST = config.string("HOST", "localhost")
    settings.NAME
"""

from __future__ import annotations

from openmodule.config._env import bool, float, get, int, string
from openmodule.config._functions import (
    ConfigFileError,
    broker_pub,
    broker_sub,
    compute_id,
    config_yaml_path,
    database_folder,
    debug,
    dev_device,
    dist_folder,
    locale_dir,
    log_level,
    resource,
    run_checks,
    settings_module,
    testing,
    version,
    yaml,
)
from openmodule.config._global import GlobalSettings
from openmodule.config._lazy import (
    LazySettings,
    Settings,
    SettingsModuleNotFound,
    override_context,
    override_settings,
    settings,
    validate_config_module,
)
from openmodule.config._readers import (
    is_bridged_master,
    is_bridged_slave,
    is_debug,
    is_development,
    is_testing,
)
from openmodule.config._service_config import ServiceConfig

__all__ = [
    "ConfigFileError",
    "GlobalSettings",
    "LazySettings",
    "Settings",
    "ServiceConfig",
    "SettingsModuleNotFound",
    "bool",
    "broker_pub",
    "broker_sub",
    "compute_id",
    "config_yaml_path",
    "database_folder",
    "debug",
    "dev_device",
    "dist_folder",
    "float",
    "get",
    "int",
    "is_bridged_master",
    "is_bridged_slave",
    "is_debug",
    "is_development",
    "is_testing",
    "locale_dir",
    "log_level",
    "override_context",
    "override_settings",
    "resource",
    "run_checks",
    "settings",
    "settings_module",
    "string",
    "testing",
    "validate_config_module",
    "version",
    "yaml",
]
