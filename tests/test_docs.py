"""The project cites its own docs, never files outside the repository.

- No tracked file outside ``docs/`` mentions the external contract files (the metric
  contract and the architecture note kept beside the repository): a reader of the project
  could not follow such a reference.
- Every citation written ``docs/metrics.md, "Heading"`` or ``docs/architecture.md, "Heading"``
  (also ``"A" to "B"``, ``"A" and "B"``) names a heading that exists in that doc.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("metrics.md", "architecture.md")
# Spelled in two halves so that this file does not mention them itself.
EXTERNAL = tuple(name + ".md" for name in ("METRICS", "ARCHITECTURE"))

CITATION = re.compile(
    r"docs/(?P<doc>metrics|architecture)\.md,\s+"
    r'(?P<chain>"[^"]+"(?:(?:\s*,\s*|\s+(?:and|to|through)\s+)"[^"]+")*)'
)
QUOTED = re.compile(r'"([^"]+)"')
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def headings(doc: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            found.add(match.group(1))
    return found


def cited(text: str) -> list[tuple[str, str]]:
    """(doc, heading) for every citation in ``text``; a heading wrapped across lines (even
    in a ``#`` comment) is read as one line."""
    result = []
    for match in CITATION.finditer(text):
        for heading in QUOTED.findall(match.group("chain")):
            heading = re.sub(r"\s*\n\s*(?:#\s*)?", " ", heading).strip()
            result.append((f"{match.group('doc')}.md", heading))
    return result


def test_the_docs_exist_and_have_unique_headings() -> None:
    for name in DOCS:
        doc = ROOT / "docs" / name
        assert doc.is_file(), f"docs/{name} is missing"
        lines = doc.read_text(encoding="utf-8").splitlines()
        names = [m.group(1) for line in lines if (m := HEADING.match(line))]
        duplicates = {h for h in names if names.count(h) > 1}
        assert not duplicates, f"docs/{name}: headings used twice: {sorted(duplicates)}"


def test_no_tracked_file_outside_docs_cites_the_external_contract_files() -> None:
    offenders = []
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("docs/"):
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(name in line for name in EXTERNAL):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "cite docs/metrics.md or docs/architecture.md instead:\n" + "\n".join(
        offenders
    )


def test_every_citation_names_an_existing_heading() -> None:
    known = {name: headings(ROOT / "docs" / name) for name in DOCS}
    citations = 0
    broken = []
    for path in tracked_files():
        text = None if path == Path(__file__).resolve() else text_of(path)
        if text is None:  # binary, deleted, or this file (its examples are not citations)
            continue
        for doc, heading in cited(text):
            citations += 1
            if heading not in known[doc]:
                broken.append(f"{path.relative_to(ROOT).as_posix()}: docs/{doc}, {heading!r}")
    assert not broken, "citations of headings that do not exist:\n" + "\n".join(broken)
    # The code does cite the docs; a citation regex that matched nothing would prove nothing.
    assert citations >= 20


def test_citations_are_read_with_chains_and_wrapped_lines() -> None:
    text = (
        'see docs/metrics.md, "The ticket record" to "The metrics"; docs/architecture.md,\n'
        '    "How the pieces\n    # meet" and docs/metrics.md §4'
    )
    assert cited(text) == [
        ("metrics.md", "The ticket record"),
        ("metrics.md", "The metrics"),
        ("architecture.md", "How the pieces meet"),
    ]


def test_the_readme_links_both_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in DOCS:
        assert f"(docs/{name})" in readme, f"README.md does not link docs/{name}"
