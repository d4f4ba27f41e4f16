"""Business rules as plain functions: no Chalice imports, callable from routes, scripts and tests."""
