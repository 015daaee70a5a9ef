"""The site's servers, checks, probe locations and notifier settings as one YAML file (``ninerstatus config``).

``yamlfile`` reads the file keeping where each value was (so every error
names its line), ``document`` checks it against what the site accepts (the
admin's own forms) into a ``Document``, ``export`` writes the site as such a
file, ``diff`` works out what applying it would change and says so, and
``apply`` makes the change in one transaction. ``commands`` holds the
``config`` command group.
"""
