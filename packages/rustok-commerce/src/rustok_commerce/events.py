"""Domain events of the commerce module (``commerce.*``).

Every write of the commerce services publishes one of these in the writing
transaction. Payloads carry ids and what a consumer needs to decide whether to care;
the index asks the module for full documents through ``rustok_index_documents``.
Money is always integer minor units beside an ISO-4217 code.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from rustok_core.errors import Validation
from rustok_core.events import DomainEvent

# -- catalog -----------------------------------------------------------------------------------


class ProductEvent(DomainEvent):
    product_id: uuid.UUID


class ProductCreated(ProductEvent):
    event_type = "commerce.product.created"
    status: str
    locales: list[str]
    handles: dict[str, str] = Field(description="Handle per locale.")


class ProductUpdated(ProductEvent):
    event_type = "commerce.product.updated"
    version: int
    changed: list[str] = Field(
        description="What changed: field names, 'translation:<locale>', 'options', 'categories', 'images'."
    )


class ProductPublished(ProductEvent):
    event_type = "commerce.product.published"
    published_at: datetime
    locales: list[str]


class ProductArchived(ProductEvent):
    event_type = "commerce.product.archived"
    status: str = Field(description="The status it moved to: archived or draft.")


class ProductDeleted(ProductEvent):
    event_type = "commerce.product.deleted"
    variant_ids: list[uuid.UUID] = Field(default_factory=list)


class VariantEvent(DomainEvent):
    variant_id: uuid.UUID
    product_id: uuid.UUID
    sku: str | None = None


class VariantCreated(VariantEvent):
    event_type = "commerce.variant.created"


class VariantUpdated(VariantEvent):
    event_type = "commerce.variant.updated"
    version: int
    changed: list[str]


class VariantDeleted(VariantEvent):
    event_type = "commerce.variant.deleted"


class CategoryEvent(DomainEvent):
    category_id: uuid.UUID
    handle: str


class CategoryCreated(CategoryEvent):
    event_type = "commerce.category.created"


class CategoryUpdated(CategoryEvent):
    event_type = "commerce.category.updated"
    product_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="Products in the category or below it (their documents show it, or it as an ancestor).",
    )


class CategoryDeleted(CategoryEvent):
    event_type = "commerce.category.deleted"
    product_ids: list[uuid.UUID] = Field(default_factory=list)


# -- prices ------------------------------------------------------------------------------------


class PriceUpdated(DomainEvent):
    """A variant's price was set, changed or removed (``amount`` ``None``)."""

    event_type = "commerce.price.updated"
    variant_id: uuid.UUID
    product_id: uuid.UUID
    currency_code: str
    amount: int | None
    min_quantity: int = 1
    price_list_id: uuid.UUID | None = None

    def validate(self) -> None:  # type: ignore[override]
        if self.amount is not None and self.amount < 0:
            raise Validation("a price amount cannot be negative", field="amount")
        if len(self.currency_code) != 3 or not self.currency_code.isupper():
            raise Validation("currency_code must be an ISO-4217 code", field="currency_code")


class PriceListChanged(DomainEvent):
    """A price list was created, changed or deleted, or its window opened or closed: its prices may now apply or not."""

    event_type = "commerce.price_list.changed"
    price_list_id: uuid.UUID
    action: str = Field(description="created, updated, deleted, or window (the clock passed a start or end)")
    product_ids: list[uuid.UUID] = Field(default_factory=list)


# -- inventory ---------------------------------------------------------------------------------


class InventoryUpdated(DomainEvent):
    """Stock of an item at a location changed (adjustment, reservation, release, fulfilment), or the
    item was linked to one more variant (reason "linked"), whose product now sells its units."""

    event_type = "commerce.inventory.updated"
    inventory_item_id: uuid.UUID
    location_id: uuid.UUID
    variant_ids: list[uuid.UUID]
    product_ids: list[uuid.UUID] = Field(default_factory=list)
    stocked: int
    reserved: int
    available: int
    reason: str = Field(description="An adjustment reason, or reserved, released, fulfilled, linked.")


class InventoryLow(DomainEvent):
    """Available stock of an item (all locations) fell to or below the tenant's threshold."""

    event_type = "commerce.inventory.low"
    inventory_item_id: uuid.UUID
    sku: str | None = None
    variant_ids: list[uuid.UUID]
    available: int
    threshold: int


# -- orders ------------------------------------------------------------------------------------


class OrderEvent(DomainEvent):
    order_id: uuid.UUID
    display_id: int


class OrderPlaced(OrderEvent):
    event_type = "commerce.order.placed"
    cart_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    currency_code: str
    total: int
    item_count: int
    variant_ids: list[uuid.UUID] = Field(default_factory=list)


class OrderStatusChanged(OrderEvent):
    event_type = "commerce.order.status_changed"
    from_status: str
    to_status: str
    note: str | None = None


class OrderCompleted(OrderEvent):
    event_type = "commerce.order.completed"


class OrderCancelled(OrderEvent):
    event_type = "commerce.order.cancelled"
    released: int = Field(0, description="Units of stock returned by releasing the order's reservations.")
    reason: str | None = None


class PaymentEvent(OrderEvent):
    payment_id: uuid.UUID
    provider: str
    currency_code: str
    amount: int


class PaymentAuthorized(PaymentEvent):
    event_type = "commerce.payment.authorized"


class PaymentCaptured(PaymentEvent):
    event_type = "commerce.payment.captured"


class OrderRefunded(PaymentEvent):
    event_type = "commerce.order.refunded"
    refunded_total: int = Field(description="Everything refunded on the order so far.")


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    ProductCreated,
    ProductUpdated,
    ProductPublished,
    ProductArchived,
    ProductDeleted,
    VariantCreated,
    VariantUpdated,
    VariantDeleted,
    CategoryCreated,
    CategoryUpdated,
    CategoryDeleted,
    PriceUpdated,
    PriceListChanged,
    InventoryUpdated,
    InventoryLow,
    OrderPlaced,
    OrderStatusChanged,
    OrderCompleted,
    OrderCancelled,
    PaymentAuthorized,
    PaymentCaptured,
    OrderRefunded,
)
