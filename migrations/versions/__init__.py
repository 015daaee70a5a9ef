"""Migration scripts, one revision a file, applied in order by `ninerstatus db upgrade`."""
