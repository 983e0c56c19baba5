"""Settings: defaults < config/<env>.yaml < well-known env vars < RUSTOK__* vars."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from rustok_core.errors import BootError
from rustok_core.settings import Settings, SettingsError, load_settings

REPO_ROOT = Path(__file__).resolve().parents[3]


def write_config(directory: Path, text: str, env: str = "development") -> Path:
    path = directory / f"{env}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, yaml_text: str = "", env: str | None = None, **environ: str) -> Settings:
    write_config(tmp_path, yaml_text, env or environ.get("RUSTOK_ENV", "development"))
    return load_settings(env=env, config_dir=tmp_path, environ=environ)


# --- defaults and files ---------------------------------------------------------------


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings == Settings()
    assert settings.env == "development"
    assert settings.log_level == "info"
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 5150
    assert settings.database.url is None
    assert settings.database.embedded_dir == "var/pg"
    assert settings.rustok.tenant.resolution == "header"
    assert settings.rustok.tenant.header_name == "X-Tenant-ID"
    assert settings.rustok.events.transport == "outbox"


def test_yaml_file_values_are_loaded(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
server:
  port: 6000
  cors_origins: [https://shop.example]
database:
  url: postgresql://db.example/shop
rustok:
  tenant:
    resolution: host
  events:
    transport: memory
""",
    )
    assert settings.server.port == 6000
    assert settings.server.cors_origins == ["https://shop.example"]
    assert settings.database.url == "postgresql://db.example/shop"
    assert settings.rustok.tenant.resolution == "host"
    assert settings.rustok.events.transport == "memory"
    # untouched keys of a section keep their defaults
    assert settings.server.host == "127.0.0.1"
    assert settings.rustok.tenant.header_name == "X-Tenant-ID"


def test_the_file_is_chosen_by_environment_name(tmp_path: Path) -> None:
    write_config(tmp_path, "server: {port: 1111}", "development")
    write_config(tmp_path, "server: {port: 2222}", "production")
    assert load_settings(config_dir=tmp_path, environ={}).server.port == 1111
    production = load_settings(config_dir=tmp_path, environ={"RUSTOK_ENV": "production"})
    assert production.env == "production"
    assert production.server.port == 2222
    assert load_settings(env="production", config_dir=tmp_path, environ={}).server.port == 2222


def test_config_dir_can_come_from_the_environment(tmp_path: Path) -> None:
    write_config(tmp_path, "server: {port: 3333}")
    assert load_settings(environ={"RUSTOK_CONFIG_DIR": str(tmp_path)}).server.port == 3333


def test_missing_file_in_an_explicit_config_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"development\.yaml does not exist"):
        load_settings(config_dir=tmp_path, environ={})
    with pytest.raises(SettingsError, match=r"staging\.yaml does not exist"):
        load_settings(env="staging", config_dir=tmp_path, environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(environ={"RUSTOK_CONFIG_DIR": str(tmp_path / "nowhere")})


def test_missing_default_config_dir_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config here
    assert load_settings(environ={}) == Settings()


def test_malformed_yaml_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server: [unclosed\n")
    with pytest.raises(SettingsError, match="cannot parse") as caught:
        load_settings(config_dir=tmp_path, environ={})
    assert str(path) in str(caught.value)


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, "- server\n- database\n")
    with pytest.raises(SettingsError, match="mapping at the top level"):
        load_settings(config_dir=tmp_path, environ={})


def test_unknown_keys_in_yaml_are_refused_naming_the_key_and_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server:\n  prot: 8080\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_dir=tmp_path, environ={})
    message = str(caught.value)
    assert "server.prot: unknown setting" in message
    assert str(path) in message


def test_unknown_sections_are_refused_naming_where_they_came_from(tmp_path: Path) -> None:
    path = write_config(tmp_path, "databse:\n  url: x\nrustok:\n  evnts:\n    transport: memory\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_dir=tmp_path, environ={"RUSTOK__CACHE__REDIS__URL": "redis://x"})
    message = str(caught.value)
    assert f"databse: unknown setting (from {path})" in message
    assert f"rustok.evnts: unknown setting (from {path})" in message
    assert "cache.redis: unknown setting (from environment variable RUSTOK__CACHE__REDIS__URL)" in message


def test_settings_error_is_a_boot_error(tmp_path: Path) -> None:
    write_config(tmp_path, "server: {port: 0}")
    with pytest.raises(BootError):
        load_settings(config_dir=tmp_path, environ={})


def test_invalid_yaml_value_names_key_file_and_value(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server:\n  port: 70000\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_dir=tmp_path, environ={})
    message = str(caught.value)
    assert "server.port = 70000" in message
    assert f"(from {path})" in message


def test_every_bad_key_is_reported_at_once(tmp_path: Path) -> None:
    write_config(tmp_path, "server: {port: 0}\nlog_level: loud\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_dir=tmp_path, environ={})
    assert "server.port" in str(caught.value)
    assert "log_level" in str(caught.value)


# --- environment variables -----------------------------------------------------------------


def test_env_aliases_set_their_settings(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        DATABASE_URL="postgresql://env.example/db",
        REDIS_URL="redis://cache:6379/0",
        RUSTOK_EVENT_TRANSPORT="stream",
        RUSTOK_LOG_LEVEL="debug",
    )
    assert settings.database.url == "postgresql://env.example/db"
    assert settings.cache.redis_url == "redis://cache:6379/0"
    assert settings.rustok.events.transport == "stream"
    assert settings.log_level == "debug"


def test_generic_variables_are_parsed_as_yaml_scalars(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        RUSTOK__SERVER__PORT="8080",
        RUSTOK__DATABASE__ECHO="true",
        RUSTOK__GRAPHQL__MAX_COST="2500",
        RUSTOK__SERVER__GRACEFUL_TIMEOUT="2.5",
        RUSTOK__SERVER__CORS_ORIGINS="[https://a.example, https://b.example]",
    )
    assert settings.server.port == 8080
    assert settings.database.echo is True
    assert settings.graphql.max_cost == 2500
    assert settings.server.graceful_timeout == 2.5
    assert settings.server.cors_origins == ["https://a.example", "https://b.example"]


def test_generic_variables_reach_nested_sections(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        RUSTOK__RUSTOK__TENANT__RESOLUTION="host",
        RUSTOK__RUSTOK__TENANT__DEFAULT_ID="main",
        RUSTOK__RUSTOK__RATE_LIMIT__BURST="7",
    )
    assert settings.rustok.tenant.resolution == "host"
    assert settings.rustok.tenant.default_id == "main"
    assert settings.rustok.rate_limit.burst == 7


def test_generic_variable_with_text_that_is_not_yaml_stays_text(tmp_path: Path) -> None:
    settings = load(tmp_path, RUSTOK__DATABASE__URL="postgresql://u:p@h:5432/db?sslmode=require")
    assert settings.database.url == "postgresql://u:p@h:5432/db?sslmode=require"


def test_secrets_are_not_revealed(tmp_path: Path) -> None:
    settings = load(tmp_path, RUSTOK__RUSTOK__SEARCH__API_KEY="s3cret")
    assert isinstance(settings.rustok.search.api_key, SecretStr)
    assert settings.rustok.search.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_unrelated_environment_variables_are_ignored(tmp_path: Path) -> None:
    assert load(tmp_path, PATH="/usr/bin", RUSTOK_SOMETHING="x", PORT="1") == Settings()


def test_later_sources_win(tmp_path: Path) -> None:
    yaml_text = "database:\n  url: postgresql://file/db\nrustok:\n  events:\n    transport: memory\n"
    assert load(tmp_path, yaml_text).database.url == "postgresql://file/db"

    alias_over_file = load(tmp_path, yaml_text, DATABASE_URL="postgresql://alias/db", RUSTOK_EVENT_TRANSPORT="stream")
    assert alias_over_file.database.url == "postgresql://alias/db"
    assert alias_over_file.rustok.events.transport == "stream"

    generic_over_alias = load(
        tmp_path,
        yaml_text,
        DATABASE_URL="postgresql://alias/db",
        RUSTOK__DATABASE__URL="postgresql://generic/db",
        RUSTOK_EVENT_TRANSPORT="stream",
        RUSTOK__RUSTOK__EVENTS__TRANSPORT="outbox",
    )
    assert generic_over_alias.database.url == "postgresql://generic/db"
    assert generic_over_alias.rustok.events.transport == "outbox"


def test_invalid_alias_value_names_key_source_and_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, RUSTOK_EVENT_TRANSPORT="kafka")
    message = str(caught.value)
    assert "rustok.events.transport" in message
    assert "'kafka'" in message
    assert "environment variable RUSTOK_EVENT_TRANSPORT" in message
    for allowed in ("memory", "outbox", "stream"):
        assert allowed in message


def test_invalid_generic_value_names_key_and_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, RUSTOK__SERVER__PORT="0")
    message = str(caught.value)
    assert "server.port = 0" in message
    assert "environment variable RUSTOK__SERVER__PORT" in message


def test_invalid_value_from_a_custom_validator_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, RUSTOK__RUSTOK__TENANT__HEADER_NAME="X Tenant")
    message = str(caught.value)
    assert "rustok.tenant.header_name" in message
    assert "HTTP header name" in message


def test_unknown_key_from_a_generic_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, RUSTOK__SERVER__PROT="8080")
    message = str(caught.value)
    assert "server.prot: unknown setting" in message
    assert "environment variable RUSTOK__SERVER__PROT" in message


def test_invalid_environment_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, RUSTOK_ENV="staging")
    message = str(caught.value)
    assert "env = 'staging'" in message
    assert "RUSTOK_ENV" in message
    assert "production" in message


# --- derived values and overrides ----------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [("development", True), ("test", True), ("production", False)])
def test_auto_migrate_defaults_by_environment(env: str, expected: bool) -> None:
    assert Settings(env=env).auto_migrate is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("env", ["development", "test", "production"])
@pytest.mark.parametrize("explicit", [True, False])
def test_explicit_auto_migrate_wins(env: str, explicit: bool) -> None:
    settings = Settings(env=env).with_overrides({"database.auto_migrate": explicit})  # type: ignore[arg-type]
    assert settings.auto_migrate is explicit


def test_auto_migrate_from_the_environment(tmp_path: Path) -> None:
    assert load(tmp_path, env="production", RUSTOK__DATABASE__AUTO_MIGRATE="true").auto_migrate is True
    assert load(tmp_path, RUSTOK__DATABASE__AUTO_MIGRATE="false").auto_migrate is False


def test_with_overrides_applies_dotted_keys_and_keeps_the_original() -> None:
    original = Settings(env="test")
    changed = original.with_overrides({"server.port": 9000, "rustok.tenant.resolution": "subdomain"})
    assert changed.server.port == 9000
    assert changed.rustok.tenant.resolution == "subdomain"
    assert changed.env == "test"
    assert original.server.port == 5150
    assert original.rustok.tenant.resolution == "header"


def test_with_overrides_validates_again() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings().with_overrides({"rustok.events.transport": "kafka"})
    message = str(caught.value)
    assert "rustok.events.transport" in message
    assert "(from override)" in message
    assert "memory" in message


def test_with_overrides_refuses_unknown_keys() -> None:
    with pytest.raises(SettingsError, match=r"server\.prot: unknown setting \(from override\)"):
        Settings().with_overrides({"server.prot": 1})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_shipped_config_files_are_valid(env: str) -> None:
    settings = load_settings(env=env, config_dir=REPO_ROOT / "config", environ={})
    assert settings.env == env
