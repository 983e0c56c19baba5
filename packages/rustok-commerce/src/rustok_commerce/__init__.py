"""RusToK commerce: catalog, prices, inventory, carts, checkout and orders."""
