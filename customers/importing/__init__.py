"""Streaming, all-or-nothing import of accounts, customers, interactions and rx (data.md).

``readers`` turns a CSV or XLSX file into rows of strings, ``fields`` holds the
one implementation of every cell rule (also used by the interactions API),
``kinds`` says which columns each kind of file has, and ``engine`` stages the
validated rows in a temporary table and upserts them set-based in SQL.
The service entry point is ``customers.services.import_file``.
"""
