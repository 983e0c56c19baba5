"""Boot compares installed modules with the manifest generated from modules.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustok_core.module import ModuleKind
from rustok_core.registry import ModuleRegistry
from rustok_server.boot import boot
from rustok_server.manifest import ManifestEntry, ManifestMismatch, check_manifest, expected_modules
from rustok_tenant.module import module as tenant_module
from rustok_testing.plugin import settings_for_tests
from rustok_testing.samples import SampleModule, make_alpha, make_beta

TENANT = ManifestEntry("tenant", "rustok-tenant", required=True)
ALPHA = ManifestEntry("alpha", "rustok-alpha", required=False)
BETA = ManifestEntry("beta", "rustok-beta", required=False, depends_on=("alpha",))


def registry(*extra: object) -> ModuleRegistry:
    return ModuleRegistry.from_plugins([tenant_module, *extra])


def test_matching_modules_pass():
    check_manifest(registry(make_alpha(), make_beta()), [TENANT, ALPHA, BETA])


def test_a_listed_module_that_is_not_installed_is_named_with_the_command_to_run():
    with pytest.raises(ManifestMismatch) as excinfo:
        check_manifest(registry(make_alpha()), [TENANT, ALPHA, BETA])
    message = str(excinfo.value)
    assert "module 'beta' (package rustok-beta) is listed in modules.toml but not installed" in message
    assert "uv run xtask rebuild" in message


def test_an_installed_module_missing_from_modules_toml_is_refused():
    with pytest.raises(ManifestMismatch, match=r"module 'alpha' .* is installed but not listed in modules\.toml"):
        check_manifest(registry(make_alpha()), [TENANT])


def test_required_must_match_the_module_kind():
    with pytest.raises(
        ManifestMismatch, match=r"module 'alpha' is an optional module but modules\.toml says required = true"
    ):
        check_manifest(registry(make_alpha()), [TENANT, ManifestEntry("alpha", "rustok-alpha", required=True)])
    core_alpha = SampleModule("alpha", kind=ModuleKind.CORE)
    with pytest.raises(ManifestMismatch, match=r"required = false"):
        check_manifest(registry(core_alpha), [TENANT, ALPHA])


def test_declared_dependencies_must_match():
    with pytest.raises(
        ManifestMismatch, match=r"module 'beta' depends on \['alpha'\] but modules.toml says depends_on = \[\]"
    ):
        check_manifest(
            registry(make_alpha(), make_beta()), [TENANT, ALPHA, ManifestEntry("beta", "rustok-beta", required=False)]
        )


def test_boot_refuses_a_mismatch_before_touching_the_database():
    unreachable = "postgresql://postgres@127.0.0.1:9/never"
    with pytest.raises(ManifestMismatch):
        boot(settings_for_tests(), registry=registry(make_alpha()), manifest=[TENANT], database_url=unreachable)


def test_an_unmet_module_dependency_refuses_the_start():
    with pytest.raises(Exception, match="'beta' needs 'alpha'"):
        registry(make_beta())


def test_the_generated_manifest_matches_modules_toml():
    root = Path(__file__).resolve().parents[3]
    text = (root / "modules.toml").read_text()
    for entry in expected_modules():
        assert f"[modules.{entry.slug}]" in text
        assert f'package = "{entry.package}"' in text
