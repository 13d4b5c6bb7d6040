"""Spreadsheet jobs: imports and exports with progress, cancel, an owner and cleanup.

The admin, the worker and ``manage.py import_file``/``export_file`` make and run jobs through
these modules, finding each model's sheet in the registry (``registry.py``), never through the
admin:

- ``create.py``: a job for an upload (its file stored, its digest kept), an export (its filters
  stored as the export selector's arguments) or a command's run;
- ``run.py``: runs a queued job, in the request (stopped at a bound of rows and inflated bytes,
  the rest handed to the worker) or on the worker (``tasks.py``);
- ``imports.py`` / ``exports.py``: an import's check or write, an export's file;
- ``observer.py``: progress and heartbeat at most once a second, cancel, the work bound, and the
  ownership check inside the write's transaction;
- ``states.py``: the state machine (claim, finish, confirm, cancel);
- ``reports.py``: the bounded report a job keeps;
- ``files.py``: where uploads, exports and error files are kept, and for how long;
- ``sweep.py``: housekeeping — jobs whose worker died, previews never confirmed, expired files.

An import is checked (every row read, nothing written) and waits for a confirmation; the write
is one transaction that commits only if its run still owns the job. "Failed" on a page always
means nothing was written.
"""
