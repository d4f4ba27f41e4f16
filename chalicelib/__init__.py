"""The shoe store's code: everything Lambda needs lives under this package."""
