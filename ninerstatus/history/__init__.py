"""Check history in little space: raw results for days, rollups for months and years.

- ``recorder``: the runner writes each result here (raw row plus three rollup tiers);
- ``retention``: expired rows go in small batches;
- ``uptime``: uptime per check and server over 24 h, 7 d, 30 d, 90 d, and daily bars;
- ``sparkline`` and ``display``: response-time lines and what the public pages show;
- ``rollup`` and ``histogram``: the mergeable arithmetic behind it all;
- ``models``, ``tiers`` and ``sqlfunctions``: the tables, their tiers and retention,
  and the SQL function that merges histograms.
"""
