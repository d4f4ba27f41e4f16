"""Cart, checkout and order history (filled in by the cart and checkout work)."""

from chalice import Blueprint

bp = Blueprint(__name__)
