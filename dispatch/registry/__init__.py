"""The regional registry: STEMI cases, the recommendations given, and the network's quality indicators.

- ``models`` and ``store``: tables, database URL, Alembic migrations (shipped in ``migrations/``).
- ``validate``, ``importer`` and ``export``: checked CSV import in one transaction, CSV and Parquet export.
- ``recorder``: live answers of the API recorded off the request's hot path.
- ``indicators`` and ``report``: medians with IQR and shares, the offline HTML report.
- ``synth``: a seeded synthetic registry for tests and demonstrations.
"""
