"""Developer and operator tools (manage.py): local AWS, demo data, dev server. Not shipped to Lambda."""
