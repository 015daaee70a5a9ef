"""Probe results as text: a Nagios plugin line with perfdata, and a readable report."""
from __future__ import annotations

import re

from .probing import ProbeResult, Status, TlsPolicy

_UNSAFE_LABEL = re.compile(r"['=]")


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def perfdata(result: ProbeResult, policy: TlsPolicy) -> str:
    """Perfdata in the Nagios plugin format: ``'label'=value[UOM];warn;crit;min;max``."""
    items = []
    for name, seconds in result.timings.items():
        label = "time" if name == "total" else f"time_{name}"
        items.append(f"'{label}'={_number(seconds)}s;;;0;")
    for name, value in sorted(result.metrics.items()):
        label = _UNSAFE_LABEL.sub("_", name)
        if name == "cert_days_left":
            # Nagios ranges: a bare number N means "alert outside 0..N"; "N:" means "alert below N".
            items.append(f"'{label}'={_number(value)};{policy.warn_days}:;{policy.crit_days}:;;")
        else:
            items.append(f"'{label}'={_number(value)};;;;")
    return " ".join(items)


def nagios_line(label: str, result: ProbeResult, policy: TlsPolicy) -> str:
    """One Nagios plugin output line: ``SMTP OK - summary | perfdata``."""
    summary = " ".join(result.summary.replace("|", "/").split())
    if result.error_kind is not None and result.status is not Status.OK:
        summary = f"{summary} ({result.error_kind.value})"
    data = perfdata(result, policy)
    return f"{label.upper()} {result.status.name} - {summary}" + (f" | {data}" if data else "")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def readable_report(title: str, result: ProbeResult) -> str:
    """A few lines a person reads after ``ninerstatus check``."""
    lines = [f"{title}: {result.status.name} ({result.status.label})", f"  {result.summary}"]
    if result.error_kind is not None:
        lines.append(f"  error: {result.error_kind.value}")
    phases = [f"{name} {_ms(value)}" for name, value in result.timings.items()]
    if phases:
        lines.append("  timings: " + ", ".join(phases))
    if result.tls is not None:
        tls = result.tls
        verdict = "verified" if tls.verified else f"not verified ({tls.verify_error or 'verification off'})"
        lines.append(f"  tls: {tls.version or '?'} {tls.cipher or ''}, {verdict}".replace(" ,", ","))
        if tls.subject:
            lines.append(f"  certificate: {tls.subject}, issued by {tls.issuer}")
        if tls.not_after is not None:
            lines.append(f"  expires: {tls.not_after:%Y-%m-%d %H:%M} UTC ({tls.days_left} days left)")
    for name, value in result.details.items():
        lines.append(f"  {name}: {value}")
    for sub in result.subchecks:
        lines.append(f"  [{sub.status.name}] {sub.name}: {sub.summary}")
    if result.transcript:
        lines.append("  transcript:")
        lines.extend(f"    {line}" for line in result.transcript)
    return "\n".join(lines)
