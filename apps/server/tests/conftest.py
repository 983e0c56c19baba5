"""Fixtures of the server tests: the sample modules from rustok_testing.samples."""

from __future__ import annotations

import pytest

from rustok_tenant.module import module as tenant_module
from rustok_testing.samples import SampleModule, make_alpha, make_beta


@pytest.fixture
def sample_modules() -> tuple[SampleModule, SampleModule]:
    return make_alpha(), make_beta()


@pytest.fixture
def sample_plugins(sample_modules: tuple[SampleModule, SampleModule]) -> list[object]:
    return [tenant_module, *sample_modules]
