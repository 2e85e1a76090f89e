"""``report/runbook.html``: the runbook rendered into the run folder, so the report's runbook links resolve offline.

The runbook is Markdown (``docs/runbook.md``); this renders the subset it uses (headings, paragraphs, nested
bullet and numbered lists, tables, bold, italics, inline code, links) into one self-contained page. Headings get
the GitHub-style ids of `catalogue.checks.heading_anchor`, so ``runbook.html#22-staging-gate-t-12h`` lands where
``docs/runbook.md#22-staging-gate-t-12h`` would. Relative links to files outside the bundle are shown as text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import heading_anchor

PAGE = "runbook.html"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d+[.)])\s+(?P<text>.*)$")
TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
INLINE = re.compile(r"(`[^`]+`)|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;max-width:60rem;margin:2rem auto;
padding:0 1.5rem}h1{font-size:1.7rem}h2{font-size:1.35rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;
margin-top:2rem}h3{font-size:1.1rem}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;font-size:90%}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
th{background:#f6f8fa}:target{background:#fff8c5}.source{color:#59636e;font-size:.85rem}
"""


def render(markdown: str, *, title: str = "Runbook", source: str = "") -> str:
    """The whole HTML page of a Markdown runbook."""
    body = render_body(markdown)
    origin = f'<p class="source">Rendered from {html.escape(source)} for this run.</p>' if source else ""
    return (
        '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f'<body><p><a href="index.html">&larr; release decision</a></p>{origin}\n{body}</body></html>\n'
    )


def write(markdown_file: Path, report_dir: Path) -> Path:
    """Render `markdown_file` into ``<report_dir>/runbook.html``."""
    text = markdown_file.read_text(encoding="utf-8")
    first = next((m.group(2) for line in text.splitlines() if (m := HEADING.match(line))), "Runbook")
    report_dir.mkdir(parents=True, exist_ok=True)
    target = report_dir / PAGE
    target.write_text(render(text, title=first, source=markdown_file.name), encoding="utf-8")
    return target


def render_body(markdown: str) -> str:
    """Block structure: headings, tables, lists, paragraphs."""
    lines = markdown.splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        heading = HEADING.match(line)
        if not line.strip():
            flush()
            index += 1
        elif heading:
            flush()
            level, text = len(heading.group(1)), heading.group(2)
            out.append(f'<h{level} id="{html.escape(heading_anchor(text))}">{inline(text)}</h{level}>')
            index += 1
        elif line.lstrip().startswith("|") and index + 1 < len(lines) and TABLE_RULE.match(lines[index + 1]):
            flush()
            index = _table(lines, index, out)
        elif ITEM.match(line):
            flush()
            index = _list(lines, index, out)
        else:
            paragraph.append(line.strip())
            index += 1
    flush()
    return "\n".join(out)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str], index: int, out: list[str]) -> int:
    head = "".join(f"<th>{inline(cell)}</th>" for cell in _cells(lines[index]))
    rows = []
    index += 2
    while index < len(lines) and lines[index].lstrip().startswith("|"):
        rows.append("<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in _cells(lines[index])) + "</tr>")
        index += 1
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return index


def _list(lines: list[str], index: int, out: list[str]) -> int:
    """A (nested) list starting at `index`; nesting follows indentation, the marker decides ul or ol."""
    stack: list[tuple[int, str]] = []  # (indent, tag)
    while index < len(lines):
        item = ITEM.match(lines[index])
        if item is None:
            if lines[index].strip() and stack and lines[index].startswith(" "):
                out[-1] = out[-1] + " " + inline(lines[index].strip())  # a wrapped item continues
                index += 1
                continue
            break
        indent = len(item["indent"].expandtabs(4))
        tag = "ol" if item["marker"][0].isdigit() else "ul"
        while stack and indent < stack[-1][0]:
            out.append(f"</li></{stack.pop()[1]}>")
        if not stack or indent > stack[-1][0]:
            out.append(f"<{tag}>")
            stack.append((indent, tag))
        else:
            out.append("</li>")
        out.append(f"<li>{inline(item['text'])}")
        index += 1
    while stack:
        out.append(f"</li></{stack.pop()[1]}>")
    return index


def inline(text: str) -> str:
    """Bold, italics, code and links; everything else escaped."""
    parts: list[str] = []
    last = 0
    for match in INLINE.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        code, bold, label, url, emphasis = match.groups()
        if code:
            parts.append(f"<code>{html.escape(code[1:-1])}</code>")
        elif bold:
            parts.append(f"<strong>{inline(bold)}</strong>")
        elif label:
            parts.append(_link(label, url))
        else:
            parts.append(f"<em>{inline(emphasis)}</em>")
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _link(label: str, url: str) -> str:
    if url.startswith(("http://", "https://", "mailto:", "#")):
        return f'<a href="{html.escape(url)}">{inline(label)}</a>'
    return f"{inline(label)} (<code>{html.escape(url)}</code>)"
