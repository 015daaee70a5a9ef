"""The static mirror: the whole public site as plain files any web server or CDN can serve.

- ``documents.py``: every page, feed and API document, listed from the database;
- ``layout.py``: the file each address is written to;
- ``rendering.py`` and ``templating.py``: pages drawn by the site itself for the mirror;
- ``export.py``: one export into a new generation; ``publish.py``: the atomic swap;
- ``changes.py``, ``service.py``, ``rsync.py``: ``ninerstatus mirror``, refreshing and pushing it;
- ``commands.py``: ``ninerstatus export-static`` and ``ninerstatus mirror``.
"""
