"""The probing engine that check plugins build on.

A plugin's ``probe(target, settings, ctx)`` opens a session from ``ctx``,
talks to the server through a deadline-bound ``Conversation`` and returns a
``ProbeResult``; failures are raised as ``ProbeFailure``. The core runs
probes through ``run_probe``. This package needs only the standard library
and ``cryptography``; it knows nothing about Flask.

Modules: ``result`` (the result model), ``failure`` (``ProbeFailure``),
``targets`` (what to probe), ``deadline`` (time budget and sockets), ``tls``
(contexts, handshakes, certificates), ``transcript``, ``conversation`` (line
protocols), ``session`` (``ProbeContext`` and ``ProbeSession``), ``execute``
(``run_probe``).
"""
from .conversation import Conversation, Reply
from .deadline import Deadline, DeadlineExceeded
from .execute import ProbeFunction, run_probe
from .failure import ProbeFailure
from .result import ErrorKind, ProbeResult, Status, SubCheck, Timings, TlsInfo, cap_text
from .session import ProbeContext, ProbeSession
from .targets import Family, InvalidTarget, Target, TlsMode, validate_host, validate_port
from .tls import TlsPolicy

__all__ = [
    "Conversation", "Deadline", "DeadlineExceeded", "ErrorKind", "Family", "InvalidTarget",
    "ProbeContext", "ProbeFailure", "ProbeFunction", "ProbeResult", "ProbeSession", "Reply",
    "Status", "SubCheck", "Target", "Timings", "TlsInfo", "TlsMode", "TlsPolicy", "cap_text",
    "run_probe", "validate_host", "validate_port",
]
