"""Browser tests: the real site on 127.0.0.1 driven in Debian's headless Chromium."""
