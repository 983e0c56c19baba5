"""Permissions declared by the commerce module.

Managers run the shop (catalog, prices, stock, orders, settings); editors keep the
catalog (products, categories, prices). Shoppers need no permission: carts are
reached by id (guests) or by their owner, and ``myOrders`` shows one's own orders.
``admin`` holds every tenant permission.
"""

from rustok_core.permissions import Permission, Scope

SHOP: dict[str, Scope] = {"manager": "all"}
CATALOG: dict[str, Scope] = {"manager": "all", "editor": "all"}

PRODUCTS_READ = "commerce_products:read"
PRODUCTS_CREATE = "commerce_products:create"
PRODUCTS_UPDATE = "commerce_products:update"
PRODUCTS_PUBLISH = "commerce_products:publish"
PRODUCTS_DELETE = "commerce_products:delete"
CATEGORIES_MANAGE = "commerce_categories:manage"
PRICES_MANAGE = "commerce_prices:manage"
INVENTORY_READ = "commerce_inventory:read"
INVENTORY_MANAGE = "commerce_inventory:manage"
CARTS_READ = "commerce_carts:read"
ORDERS_READ = "commerce_orders:read"
ORDERS_UPDATE = "commerce_orders:update"
ORDERS_REFUND = "commerce_orders:refund"
SETTINGS_MANAGE = "commerce_settings:manage"

PERMISSIONS = (
    Permission("commerce_products", "read", "See products in any status (drafts, archived)", grants=CATALOG),
    Permission("commerce_products", "create", "Create products with options and variants", grants=CATALOG),
    Permission("commerce_products", "update", "Change products, variants, options and images", grants=CATALOG),
    Permission("commerce_products", "publish", "Publish and archive products", grants=CATALOG),
    Permission("commerce_products", "delete", "Delete products with their variants", grants=CATALOG),
    Permission("commerce_categories", "manage", "Create, change and delete product categories", grants=CATALOG),
    Permission("commerce_prices", "manage", "Set prices and manage price lists", grants=CATALOG),
    Permission("commerce_inventory", "read", "See stock levels, reservations and adjustments", grants=SHOP),
    Permission("commerce_inventory", "manage", "Adjust stock and manage stock locations", grants=SHOP),
    Permission("commerce_carts", "read", "See every shopper's carts", grants=SHOP),
    Permission("commerce_orders", "read", "See every order", grants=SHOP),
    Permission("commerce_orders", "update", "Move orders through their statuses, capture payments", grants=SHOP),
    Permission("commerce_orders", "refund", "Refund orders", grants=SHOP),
    Permission("commerce_settings", "manage", "Manage shipping options, tax rates and store settings", grants=SHOP),
)
