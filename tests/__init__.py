"""The ninerstatus test suite (run it with `make test`)."""
