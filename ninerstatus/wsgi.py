"""WSGI entry point for production servers: ``granian --interface wsgi ninerstatus.wsgi:app``."""
from . import create_app
from .serving import end_with_serve

# Before the site is built: a serve killed meanwhile takes this worker with it.
end_with_serve()
app = create_app()
