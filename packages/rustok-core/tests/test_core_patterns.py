"""The core's identifier patterns match whole strings: no trailing newline slips through.

``re.match`` with a pattern ending in ``$`` accepts ``"value\\n"`` (``$`` also matches
before a final newline); a newline in a slug, event type or storage key would reach
URLs, logs and subjects. Each pattern is tried with a value it accepts, then with that
value plus a newline.
"""

from __future__ import annotations

import re

import pytest

from rustok_core.events.base import EVENT_TYPE_RE
from rustok_core.migrations import REVISION_ID_RE
from rustok_core.module import MODULE_SLUG_RE
from rustok_core.net import HOST_LABEL_RE
from rustok_core.permissions import PERMISSION_RE
from rustok_core.storage import _KEY_SEGMENT

CASES = [
    (EVENT_TYPE_RE, "commerce.product.updated"),
    (REVISION_ID_RE, "commerce_001"),
    (MODULE_SLUG_RE, "commerce"),
    (HOST_LABEL_RE, "shop-1"),
    (PERMISSION_RE, "commerce.products:update"),
    (_KEY_SEGMENT, "image.png"),
]


@pytest.mark.parametrize(("pattern", "value"), CASES, ids=[value for _, value in CASES])
@pytest.mark.parametrize("tail", ["\n", "\r\n", " \n"])
def test_a_value_with_a_trailing_newline_is_refused(pattern: re.Pattern[str], value: str, tail: str) -> None:
    assert pattern.match(value)
    assert not pattern.match(value + tail)
