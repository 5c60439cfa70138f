"""The web front: storefront and admin pages that call the JSON API from the browser."""
