"""One Chalice blueprint per area of the shop; app.py registers them all."""
