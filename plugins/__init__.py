"""The bundled check plugins, installed as the ``ninerstatus_plugins`` package.

Each module is one plugin, registered through the ``ninerstatus`` entry-point
group in setup.cfg exactly as a third-party plugin would be.
"""
