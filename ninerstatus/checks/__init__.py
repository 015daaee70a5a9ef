"""Live checks of each server: what to probe, the latest result, and how it is shown."""
