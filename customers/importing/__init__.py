"""Streaming, all-or-nothing import of accounts, customers, interactions and rx (docs/imports.md).

``readers`` turns a CSV or XLSX file into rows of strings, ``fields`` holds the
one implementation of every cell rule (also used by the interactions API),
``kinds`` says which columns each kind of file has, and ``engine``
(``run_import``) stages the validated rows in a temporary table and upserts
them set-based in SQL. ``engine`` is the entry point of a small pipeline:
``rows`` checks the header and cells, ``staging`` holds the dialect and the
temporary tables (``COPY`` or ``executemany``), ``run`` the SQL checks over
staged rows, and ``writers`` the one upsert skeleton every kind follows.
The service entry point is ``customers.services.import_file``.

Choices, as documented for users in docs/imports.md:

- Booleans accept true/false, 1/0, yes/no, y/n, t/f (any case); blank is false.
- A natural key repeated within one file is an error on the later row
  ("duplicates row M"), not "last wins".
- Rows whose cells are all blank are skipped (not counted, numbering kept).
- ``attr.*`` columns are accepted for customers only; attribute names are
  lower-cased like every header and may be 1-100 characters.
- XLSX: the first sheet is read; numbers, booleans and dates become the text a
  CSV would hold, so an Excel date-time cell is naive and refused for
  ``occurred_at`` (write it as text with an offset).
- Extra non-blank cells beyond the header are an error; missing trailing
  cells count as blank.
"""
