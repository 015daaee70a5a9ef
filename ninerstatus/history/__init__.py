"""Check history in little space: raw results for days, rollups for months and years.

- ``recorder``: the runner writes each result here (raw result plus three rollup tiers);
- ``packing``, ``blocks`` and ``leb128``: raw results and 5-minute and hourly tallies
  packed many to a row, so history takes little space on PostgreSQL too;
- ``raw``: reading raw results back (every reader goes through it);
- ``located``: each probe location's own raw results and daily tallies, written and read;
- ``retention``: expired rows go in small batches;
- ``uptime``: uptime per check and server over 24 h, 7 d, 30 d, 90 d, and daily bars;
- ``sparkline`` and ``display``: response-time lines and what the public pages show;
- ``rollup`` and ``histogram``: the mergeable arithmetic behind it all;
- ``models``, ``tiers`` and ``sqlfunctions``: the tables, their tiers and retention,
  and the SQL function that merges the histograms of daily rows.
"""
