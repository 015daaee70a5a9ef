"""The probe runner: a process apart from the web that probes due checks and records what it saw."""
