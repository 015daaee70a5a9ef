"""The staff fixtures (``staff``, ``auth``) for the Import page tests."""
from ..admin.conftest import auth, staff  # noqa: F401  (fixtures, used by name)
