"""Synthetic demo data for a cardiometabolic US brand (``manage.py seed_demo``).

- ``catalog``: static places, territories, names, products, content codes.
- ``generate``: pure numpy/pandas generation, chunk by chunk, deterministic per plan.
- ``writer``: loads frames (binary COPY on PostgreSQL, executemany on SQLite).
- ``users``: the demo users of every role and their demo-only passwords.
- ``context``: what the steps share (plan, writer, counts).
- ``governed``: assets, segments and mappings, through the same services as the API.
- ``seed``: the service that runs the steps in one transaction.
"""
