"""Small web helpers shared by every blueprint: context, rendering, forms, cookies, URLs, CSRF."""
