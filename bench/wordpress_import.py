"""WordPress import benchmark: a 20,000-post export imported by ``ninerstatus import wordpress``; time and peak memory.

Run by hand (not by the tests)::

    .venv/bin/python bench/wordpress_import.py                 # 2,000 then 20,000 posts, SQLite
    .venv/bin/python bench/wordpress_import.py --posts 5000    # a quicker look
    .venv/bin/python bench/wordpress_import.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_bench

(an empty PostgreSQL database for each run: only the large export goes into it).

The export is written to a temporary folder as WordPress writes one: authors,
nested categories and tags first, then posts in every state (mostly
published), with classic bodies (bare line breaks, ``<pre>``, ``[caption]``,
``[gallery]``), block bodies, comments, titles naming servers, plus pages and
attachments to skip. Each post body is about 2 KB, so the file is some 60 MB.

The import runs as its own process, the real command on a fresh site; its
peak memory is the process's maximum resident set (``getrusage`` of the
waited child). Goal: under 200 MB at 20,000 posts. The same file is then
imported again (every post unchanged). A smaller export first shows that the
peak does not grow with the number of posts (ratio near 1.0 is flat).
"""
from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Site, load_average, ninerstatus_command

MEMORY_GOAL_MB = 200
SERVERS = [f"NC{n:03d}" for n in range(20, 45)]
WORDS = ("mail queue delayed server restarted upgrade network data centre customers relay IMAP "
         "POP SMTP certificate renewed backup disk replaced kernel patched monitoring resolved "
         "investigating identified latency packet loss upstream provider maintenance window").split()

HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Bench Status</title><link>https://status.bench.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://status.bench.example</wp:base_site_url>
<wp:base_blog_url>https://status.bench.example</wp:base_blog_url>
"""


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _classic_body(rng: random.Random) -> str:
    paragraphs = ["\n".join(_sentence(rng, 14) for _ in range(3)) for _ in range(6)]
    paragraphs.insert(2, "<pre>postqueue -p | tail -n 1\n\n-- 1843 Kbytes in 412 Requests.</pre>")
    paragraphs.insert(4, '[caption id="attachment_1" width="300"]<img src="https://status.bench.example/'
                         'wp-content/uploads/2018/06/graph.png" alt="Graph" /> Queue length[/caption]')
    paragraphs.append('[gallery ids="1,2,3"]')
    return "\n\n".join(paragraphs)


def _block_body(rng: random.Random) -> str:
    blocks = [f"<!-- wp:paragraph -->\n<p>{_sentence(rng, 40)}</p>\n<!-- /wp:paragraph -->" for _ in range(5)]
    blocks.append("<!-- wp:list -->\n<ul><li>" + "</li><li>".join(_sentence(rng, 6) for _ in range(4))
                  + "</li></ul>\n<!-- /wp:list -->")
    return "\n\n".join(blocks)


def _item(rng: random.Random, n: int) -> str:
    kind = rng.random()
    post_type = "page" if kind < 0.01 else "attachment" if kind < 0.03 else "post"
    status = rng.choices(["publish", "draft", "private", "future", "trash", "pending"],
                         [90, 3, 2, 2, 2, 1])[0]
    server = rng.choice(SERVERS)
    title = f"{server}: {_sentence(rng, 5)}" if rng.random() < 0.7 else _sentence(rng, 6)
    year, month, day = 2008 + n % 17, 1 + n % 12, 1 + n % 28
    body = _block_body(rng) if rng.random() < 0.5 else _classic_body(rng)
    terms = (f'<category domain="category" nicename="cat-{n % 40}"><![CDATA[Category {n % 40}]]></category>'
             f'<category domain="post_tag" nicename="tag-{n % 300}"><![CDATA[Tag {n % 300}]]></category>')
    comments = "".join(f"<wp:comment><wp:comment_id>{n * 10 + c}</wp:comment_id><wp:comment_content>"
                       f"<![CDATA[{_sentence(rng, 8)}]]></wp:comment_content></wp:comment>"
                       for c in range(rng.randrange(3)))
    return f"""<item>
<title><![CDATA[{title}]]></title>
<link>https://status.bench.example/{year}/{month:02d}/{day:02d}/post-{n}/</link>
<pubDate>Mon, 01 Jan 2018 00:00:00 +0000</pubDate>
<dc:creator><![CDATA[author{n % 5}]]></dc:creator>
<guid isPermaLink="false">https://status.bench.example/?p={n}</guid>
<content:encoded><![CDATA[{body}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{n}</wp:post_id>
<wp:post_date_gmt><![CDATA[{year}-{month:02d}-{day:02d} 10:{n % 60:02d}:00]]></wp:post_date_gmt>
<wp:post_name><![CDATA[post-{n}]]></wp:post_name>
<wp:status><![CDATA[{status}]]></wp:status>
<wp:post_type><![CDATA[{post_type}]]></wp:post_type>
<wp:post_password><![CDATA[]]></wp:post_password>
{terms}{comments}
</item>
"""


def write_export(path: Path, posts: int, seed: int = 12) -> None:
    """Write an export of ``posts`` items to ``path``, one item at a time."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for a in range(5):
            out.write(f"<wp:author><wp:author_login><![CDATA[author{a}]]></wp:author_login><wp:author_email>"
                      f"<![CDATA[author{a}@bench.example]]></wp:author_email><wp:author_display_name>"
                      f"<![CDATA[Author {a}]]></wp:author_display_name></wp:author>\n")
        for c in range(40):
            parent = f"cat-{c // 4}" if c >= 4 else ""
            out.write(f"<wp:category><wp:category_nicename><![CDATA[cat-{c}]]></wp:category_nicename>"
                      f"<wp:category_parent><![CDATA[{parent}]]></wp:category_parent>"
                      f"<wp:cat_name><![CDATA[Category {c}]]></wp:cat_name></wp:category>\n")
        for n in range(1, posts + 1):
            out.write(_item(rng, n))
        out.write("</channel>\n</rss>\n")


def run_import(site: Site, export: Path) -> tuple[float, float, str]:
    """Import ``export`` into ``site`` with the real command: wall seconds, peak MB of that process, its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(ninerstatus_command("import", "wordpress", str(export)), env=site.environment(),
                            capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the import failed ({result.returncode}):\n{result.stderr}")
    # The largest resident set of any child waited for so far: each run is larger than the ones before.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, result.stdout.splitlines()[0]


def measure(posts: int, database_url: str | None, folder: Path) -> float:
    export = folder / f"export-{posts}.xml"
    write_export(export, posts)
    print(f"{posts:,} items: export of {export.stat().st_size / 1e6:.1f} MB")
    site = Site(database_url)
    try:
        site.create_schema()
        seconds, peak, first_line = run_import(site, export)
        print(f"  import:    {seconds:6.1f} s ({posts / seconds:,.0f} items/s), peak {peak:.0f} MB  [{first_line}]")
        again, _, first_line = run_import(site, export)
        print(f"  re-import: {again:6.1f} s  [{first_line}]")
    finally:
        site.remove()
        export.unlink()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=20_000, help="items in the large export (default 20,000)")
    parser.add_argument("--database-url", help="an empty database to use instead of a new SQLite file")
    args = parser.parse_args()
    print(f"load average before: {load_average():.2f}")
    with tempfile.TemporaryDirectory(prefix="ninerstatus-bench-wxr-") as folder:
        # A given database holds one site, so only the large export goes into it.
        small = None if args.database_url else measure(max(args.posts // 10, 1), None, Path(folder))
        large = measure(args.posts, args.database_url, Path(folder))
    verdict = "within" if large < MEMORY_GOAL_MB else "OVER"
    growth = f"; growth from a tenth of the posts: {large / small:.2f}x" if small else ""
    print(f"peak memory at {args.posts:,}: {large:.0f} MB ({verdict} the goal of {MEMORY_GOAL_MB} MB; "
          f"ratio {large / MEMORY_GOAL_MB:.2f}){growth}")


if __name__ == "__main__":
    main()
