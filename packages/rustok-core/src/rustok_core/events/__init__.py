"""Domain events: the contracts every module uses to publish and subscribe.

Modules never call each other; they publish :class:`DomainEvent` s through the
:class:`EventPublisher` (provided by the events module, package ``rustok-outbox``) in
the transaction of the write, and subscribe :class:`EventHandler` s through the
``rustok_event_handlers`` hook. Events travel as :class:`EventEnvelope` s.
"""

from rustok_core.events.base import DomainEvent, EventEnvelope
from rustok_core.events.handlers import EventHandler
from rustok_core.events.publisher import EventPublisher
from rustok_core.events.registry import EventRegistry, UnknownEventType

__all__ = [
    "DomainEvent",
    "EventEnvelope",
    "EventHandler",
    "EventPublisher",
    "EventRegistry",
    "UnknownEventType",
]
