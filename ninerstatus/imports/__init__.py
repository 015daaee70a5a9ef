"""Moving in from elsewhere: the WordPress importer (``ninerstatus import wordpress``, the admin Import page).

- ``wxr.py`` reads a WordPress export (WXR) as a stream, safely;
- ``bodies.py``, ``autop.py``, ``shortcodes.py`` and ``images.py`` (with
  ``attributes.py``) turn a stored WordPress body into the site's sanitised HTML;
- ``authors.py`` maps WordPress authors to staff accounts;
- ``wordpress.py`` runs an import in one transaction and ``summary.py`` tells what it did;
- ``models.py`` remembers what was imported, for re-imports and old addresses;
- ``commands.py`` is ``ninerstatus import wordpress``; the admin page is admin/imports.py.
"""
