"""The lesson book: every lesson executed and rendered as a static web site that opens offline.

    python -m tinynet.book --quick         # small runs, under 2 minutes: a first look
    python -m tinynet.book                 # the full lessons, a few minutes
    python -m tinynet.book --out /tmp/book --only 01 02 --seed 3

then open book/index.html in a browser (no server needed; nothing is loaded from the internet).

For each lesson (lessons/NN_name.ipynb, or NN_name.py read by jupytext while the notebook is
missing) the book
1. sets the lesson's options: a cell `QUICK = ...; SEED = ...` is inserted right after the
   lesson's own options cell (the cell tagged "parameters", papermill's convention), so the
   page shows exactly what a reader who edited that cell would see;
2. executes it top to bottom with nbclient, in a fresh kernel started in an empty folder (a
   lesson must not depend on the working directory), with figures drawn inline;
3. reads its question (the "**Question.**" paragraph of its first text cell), its one
   "Headline: ..." line (tinynet.classroom.headline) and its thumbnail (the figure of the cell
   tagged "thumbnail", else its first figure);
4. renders it with nbconvert's HTML exporter and JupyterLab's template, which puts its CSS in
   the page; the figures are PNG data URIs inside the page. BOOK_PAGE extends that template
   with links between the pages, and removes the scripts it would fetch from the internet
   (require.js, MathJax, mermaid): the lessons write their formulas in plain text, so the
   book needs no math renderer.
The index page (BOOK_INDEX, a jinja template) shows each lesson's question, thumbnail and
measured headline. Every file is written to a temporary name and then renamed.

Needs the `book` extra (nbclient, nbconvert, jupytext): pip install -e ".[book]".
"""

import argparse
import asyncio
import base64
import copy
import html
import html.parser
import io
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tinynet.files import write_atomically

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LESSON_FILE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+\.(ipynb|py)$")
HEADLINE_PREFIX = "Headline: "
# The index shows each thumbnail in a 300 x 190 box, filled from the figure's top left corner
# (a wide figure of several panels shows its first panel whole, instead of all of them tiny).
# Stored at twice the box's height, so that it stays sharp on high-density screens.
THUMBNAIL_HEIGHT = 380
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # figures as PNG cell outputs


class BookError(RuntimeError):
    """A lesson could not be made into a page (it failed, or broke the book's conventions)."""


@dataclass
class Lesson:
    """One lesson on its way into the book: found, executed, then rendered."""

    number: str              # "01"
    name: str                # "01_article_model": the file name without its extension
    source: Path             # the .ipynb (or the .py when no notebook exists yet)
    notebook: object = None  # its notebook (nbformat.NotebookNode), executed in place
    title: str = ""
    question: str = ""       # markdown
    headline: str = ""       # the text after "Headline: "
    thumbnail: str = ""      # path relative to the book folder ("" when it drew no figure)
    seconds: float = 0.0     # how long it took to execute

    @property
    def page(self):
        return self.name + ".html"


# ----------------------------------------------------------------------------- finding lessons

def find_lessons(folder, only=None):
    """The lessons in `folder`, in order of their number: NN_name.ipynb, or NN_name.py when
    the notebook does not exist. `only`: lesson numbers to keep (e.g. ["01", "03"])."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BookError(f"no lessons folder at {folder}: run the book from a clone of tinynet "
                        f"or pass --lessons DIR")
    sources = {}
    for path in sorted(folder.iterdir()):
        match = LESSON_FILE.match(path.name)
        if match and (path.suffix == ".ipynb" or path.stem not in sources):
            sources[path.stem] = (match.group(1), path)
    lessons = [Lesson(number, stem, path) for stem, (number, path) in sorted(sources.items())]
    if only:
        if not all(str(number).isdigit() for number in only):
            raise BookError(f"--only takes lesson numbers such as 01 or 3, got {only}")
        wanted = {f"{int(number):02d}" for number in only}
        unknown = wanted - {lesson.number for lesson in lessons}
        if unknown:
            raise BookError(f"--only: no lesson numbered {', '.join(sorted(unknown))} in "
                            f"{folder}")
        lessons = [lesson for lesson in lessons if lesson.number in wanted]
    if not lessons:
        raise BookError(f"no lessons (NN_name.ipynb or NN_name.py) in {folder}")
    return lessons


def read_notebook(path):
    """The notebook at `path`: an .ipynb as it is, a .py (percent format) through jupytext."""
    path = Path(path)
    if path.suffix == ".ipynb":
        import nbformat

        return nbformat.read(path, as_version=4)
    import jupytext

    return jupytext.read(path)


# ----------------------------------------------------------------------------- running lessons

def set_options(notebook, quick, seed, name):
    """Insert a cell setting QUICK and SEED right after the lesson's options cell (tagged
    "parameters"; else the first code cell that sets QUICK). Returns the new notebook."""
    import nbformat

    notebook = copy.deepcopy(notebook)
    cells = notebook.cells
    tagged = [i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])]
    assigns = [i for i, cell in enumerate(cells)
               if cell.cell_type == "code" and re.search(r"^QUICK\s*=", cell.source, re.M)]
    where = (tagged or assigns or [None])[0]
    if where is None:
        raise BookError(f"lesson {name}: no options cell (a cell tagged 'parameters' that sets "
                        f"QUICK = ... and SEED = ...), so the book cannot choose quick or full")
    source = (f"# Set by the lesson book (python -m tinynet.book{' --quick' if quick else ''}):\n"
              f"QUICK = {quick!r}\nSEED = {seed!r}")
    options = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cells.insert(where + 1, options)
    return notebook


def kernel_environment():
    """The environment of the lesson's kernel: figures drawn inline (even when the caller
    uses MPLBACKEND=Agg, as the tests do), one BLAS thread (tiny matrices: faster)."""
    env = dict(os.environ, MPLBACKEND=INLINE_BACKEND, PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


async def execute(lesson, timeout):
    """Run the lesson's notebook (with its options set) top to bottom, in place, in a fresh
    kernel started in an empty folder (where the lesson's figure files go, then deleted)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"tinynet-book-{lesson.number}-") as workdir:
        # talk to the kernel through local socket files in workdir, not over TCP ports
        sockets = Config({"KernelManager": {"transport": "ipc",
                                            "ip": os.path.join(workdir, "kernel")}})
        client = NotebookClient(lesson.notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": workdir}}, config=sockets)
        try:
            await client.async_execute(env=kernel_environment())
        except CellExecutionError as error:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # without terminal colours
            raise BookError(f"lesson {lesson.name} failed while the book ran it:\n{plain}") \
                from None
    lesson.seconds = time.perf_counter() - started


def execute_all(lessons, quick, seed, timeout, jobs, log):
    """Execute the lessons, `jobs` at a time: each runs in its own kernel (its own process),
    so two lessons use two cores. Seeded lessons print the same numbers either way.
    After a failure no new lesson starts; those running finish (and stop their kernels)."""
    failures = []

    async def run(lesson, slots):
        async with slots:
            if failures:
                return
            log(f"running {lesson.source.name} ({'quick' if quick else 'full'}, seed {seed})")
            try:
                await execute(lesson, timeout)
            except BookError as error:
                failures.append(error)
                return
            log(f"  {lesson.source.name} done in {lesson.seconds:.1f} s")

    async def run_all():
        slots = asyncio.Semaphore(jobs)
        await asyncio.gather(*(run(lesson, slots) for lesson in lessons))

    asyncio.run(run_all())
    if failures:
        raise failures[0]


# ----------------------------------------------------------------------------- reading results

def stdout_lines(notebook):
    """Every line the notebook printed to standard output, in order."""
    lines = []
    for cell in notebook.cells:
        text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                       if output.output_type == "stream" and output.name == "stdout")
        lines.extend(text.splitlines())
    return lines


def headline_of(notebook, name):
    """The text of the lesson's one 'Headline: ...' line."""
    found = [line[len(HEADLINE_PREFIX):].strip() for line in stdout_lines(notebook)
             if line.startswith(HEADLINE_PREFIX)]
    if len(found) != 1:
        raise BookError(f"lesson {name} printed {len(found)} lines starting {HEADLINE_PREFIX!r}; "
                        f"a lesson prints exactly one, with tinynet.classroom.headline(text)")
    return found[0]


def title_and_question(notebook, name):
    """The first '# ' heading of the first text cell, and its '**Question.**' paragraph
    (markdown; the first paragraph after the heading when there is no such label)."""
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    if not markdown:
        raise BookError(f"lesson {name} has no text cell to take its title and question from")
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", markdown[0]) if part.strip()]
    title = next((p[2:].strip() for p in paragraphs if p.startswith("# ")), name)
    labelled = [p for p in paragraphs if re.match(r"\*\*(The )?[Qq]uestion\.?\*\*", p)]
    unlabelled = [p for p in paragraphs if not p.startswith("#")]
    question = (labelled or unlabelled or [""])[0]
    question = re.sub(r"^\*\*(The )?[Qq]uestion\.?\*\*\s*", "", question)
    return title, " ".join(question.split())


def has_tex_math(notebook):
    """True when a text cell writes math as TeX ($...$), which the book (no math renderer,
    so as to work offline) would show as typed."""
    return any(re.search(r"\$[^$\n]+\$", cell.source) for cell in notebook.cells
               if cell.cell_type == "markdown")


def figure_of(notebook):
    """The PNG bytes of the figure of the first cell tagged "thumbnail", else of the first
    figure the notebook drew; None when it drew none."""
    tagged = [cell for cell in notebook.cells if "thumbnail" in cell.metadata.get("tags", [])]
    untagged = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in tagged + untagged:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return base64.b64decode(png)
    return None


# ----------------------------------------------------------------------------- writing files


def write_thumbnail(png, path):
    """Scale the figure down to THUMBNAIL_HEIGHT pixels high (same shape) and save it."""
    from PIL import Image  # Pillow comes with matplotlib

    with Image.open(io.BytesIO(png)) as image:
        height = min(THUMBNAIL_HEIGHT, image.height)  # never enlarged
        width = max(1, round(image.width * height / image.height))
        small = image.convert("RGB").resize((width, height), Image.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    write_atomically(path, buffer.getvalue(), "book")


def external_resources(page):
    """The http(s) addresses a page would load (scripts, styles, images, fonts, frames):
    the book must have none. Plain links to other sites (<a href>) are fine: not loaded."""
    finder = _ResourceFinder()
    finder.feed(page)
    return finder.found


class _ResourceFinder(html.parser.HTMLParser):
    LOADED = {"script": "src", "img": "src", "iframe": "src", "embed": "src", "source": "src",
              "audio": "src", "video": "src", "link": "href", "object": "data"}
    REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
    CSS_REMOTE = re.compile(r"(url\(\s*['\"]?\s*(https?:)?//|@import\s+['\"](https?:)?//)", re.I)

    def __init__(self):
        super().__init__()
        self.found = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        wanted = self.LOADED.get(tag)
        if wanted and self.REMOTE.match(attrs.get(wanted) or ""):
            self.found.append(f"<{tag} {wanted}={attrs[wanted]}>")
        if self.CSS_REMOTE.search(attrs.get("style") or ""):
            self.found.append(f"<{tag} style=...> loads {attrs['style'][:80]}")
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.found.extend(match.group(0) for match in self.CSS_REMOTE.finditer(data))


# ----------------------------------------------------------------------------- the pages

# Shared by the index and the lesson pages. System fonts only: the book loads no web font.
BOOK_CSS = """
:root { --book-accent: #0072B2; --book-muted: #555; --book-tint: #eef5fb;
        --book-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
                     "DejaVu Sans", Arial, sans-serif; }
body { font-family: var(--book-font); color: #1a1a1a; }
.book-nav { display: flex; justify-content: space-between; align-items: baseline; gap: 1em;
            max-width: 1100px; margin: 0 auto; padding: 0.7em 1.2em; font-size: 16px;
            font-family: var(--book-font); }
.book-nav a { color: var(--book-accent); text-decoration: none; }
.book-nav a:hover { text-decoration: underline; }
.book-nav > :first-child, .book-nav > :last-child { flex: 1; }
.book-nav > :last-child { text-align: right; }
.book-nav .book-home { font-weight: 600; white-space: nowrap; }
.book-narrow { display: none; }
@media (max-width: 640px) { .book-wide { display: none; } .book-narrow { display: inline; } }
.book-headline { background: var(--book-tint); border-left: 6px solid var(--book-accent);
                 padding: 0.6em 1em; margin: 0.8em 0; font-size: 18px; line-height: 1.5;
                 font-family: var(--book-font); }
.book-label { font-weight: 700; }
.book-mode { color: var(--book-muted); font-size: 15px; }
"""

# Lesson pages: JupyterLab's look (its CSS variables), larger type for reading and projecting,
# one readable column, figures never wider than the column.
PAGE_CSS = """
:root { --jp-content-font-size1: 17px; --jp-content-line-height: 1.6;
        --jp-code-font-size: 14.5px; --jp-code-line-height: 1.45;
        --jp-content-font-family: var(--book-font); --jp-ui-font-family: var(--book-font); }
body.jp-Notebook { padding: 0; }
body.jp-Notebook main { max-width: 1100px; margin: 0 auto; padding: 0 1.2em 2em; }
.book-top { border-bottom: 1px solid #ddd; }
.book-bottom { border-top: 1px solid #ddd; margin-top: 2em; }
.jp-RenderedImage img, .jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-RenderedMarkdown h1 { font-size: 2em; }
"""

BOOK_PAGE = r"""
{%- extends 'index.html.j2' -%}
{#- The stock template loads require.js, MathJax and mermaid from a CDN: the book works
    offline, and its lessons need none of them. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">{{ resources.book.css }}</style>
{%- endblock html_head_css -%}

{%- block body_header -%}
{{ super() }}
<nav class="book-nav book-top" aria-label="lessons">{% block book_links %}
  {%- set book = resources.book -%}
  {%- if book.previous -%}
  <a rel="prev" href="{{ book.previous.page }}">&larr; <span class="book-wide">
    {{- book.previous.title | e }}</span><span class="book-narrow">previous</span></a>
  {%- else -%}<span></span>{%- endif %}
  <a class="book-home" href="index.html">All lessons</a>
  {% if book.next -%}
  <a rel="next" href="{{ book.next.page }}"><span class="book-wide">{{ book.next.title | e }}
    </span><span class="book-narrow">next</span> &rarr;</a>
  {%- else -%}<span></span>{%- endif -%}
{% endblock book_links %}</nav>
<p class="book-headline"><span class="book-label">Measured in this run:</span>
  {{ resources.book.lesson.headline | e }}
  <br><span class="book-mode">{{ resources.book.mode | e }}</span></p>
{%- endblock body_header -%}

{%- block body_footer -%}
<nav class="book-nav book-bottom" aria-label="lessons">{{ self.book_links() }}</nav>
{{ super() }}
{%- endblock body_footer -%}
"""

BOOK_INDEX = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>tinynet: batch normalization, measured</title>
<style type="text/css">
{{ css | safe }}
body { margin: 0; font-size: 17px; line-height: 1.55; }
main { max-width: 1100px; margin: 0 auto; padding: 1em 1.2em 3em; }
h1 { font-size: 2.1em; margin: 0.4em 0 0.2em; }
.book-lessons { list-style: none; padding: 0; margin: 1.5em 0; }
.book-card { display: flex; gap: 1.4em; align-items: flex-start; padding: 1.1em 0;
             border-top: 1px solid #ddd; }
.book-thumb { flex: 0 0 300px; }
.book-thumb img { display: block; width: 300px; height: 190px; object-fit: cover;
                  object-position: left top; border: 1px solid #ccc; background: #fff; }
.book-card h2 { font-size: 1.25em; margin: 0 0 0.3em; }
.book-card h2 a { color: var(--book-accent); text-decoration: none; }
.book-card h2 a:hover { text-decoration: underline; }
.book-question p { margin: 0.2em 0; }
.book-card .book-headline { font-size: 16px; margin: 0.6em 0 0; }
.book-nofigure { display: block; width: 300px; line-height: 190px; text-align: center;
                 color: var(--book-muted); border: 1px dashed #ccc; }
@media (max-width: 640px) { .book-card { flex-direction: column; } }
</style>
</head>
<body>
<main>
<h1>Batch normalization, measured</h1>
<p>The lessons of <strong>tinynet</strong>, a neural-network framework written from scratch in
NumPy to teach batch normalization. Each lesson asks one question, trains small networks
with and without batch normalization to answer it, and prints what it measured: the
highlighted line under each question is that measurement, from this build.</p>
<p class="book-mode">{{ mode }}</p>
<ol class="book-lessons">
{%- for lesson in lessons %}
<li class="book-card" id="lesson-{{ lesson.number }}">
  <a class="book-thumb" href="{{ lesson.page }}">
  {%- if lesson.thumbnail -%}
    <img src="{{ lesson.thumbnail }}" alt="a figure of lesson {{ lesson.number }}">
  {%- else -%}
    <span class="book-nofigure">(no figure)</span>
  {%- endif -%}
  </a>
  <div>
    <h2><a href="{{ lesson.page }}">{{ lesson.title }}</a></h2>
    <div class="book-question">{{ lesson.question_html | safe }}</div>
    <p class="book-headline"><span class="book-label">Measured:</span> {{ lesson.headline }}</p>
  </div>
</li>
{%- endfor %}
</ol>
<p class="book-mode">Built by <code>python -m tinynet.book{{ " --quick" if quick }}</code>.
To run a lesson yourself: <code>python lessons/NN_name.py</code>, or open
<code>lessons/NN_name.ipynb</code> in Jupyter.</p>
</main>
</body>
</html>
"""


def mode_sentence(quick, seed):
    if quick:
        return (f"Built in quick mode (--quick) with seed {seed}: small runs that take seconds, "
                f"so the numbers are noisier than a full run's.")
    return f"Built from the full lessons with seed {seed}."


def render_page(lesson, previous, following, quick, seed):
    """The lesson's page: its executed notebook through nbconvert's HTML exporter and
    BOOK_PAGE (JupyterLab's template, with links and without remote scripts)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", template_file="tinynet_book.html.j2",
                            extra_loaders=[DictLoader({"tinynet_book.html.j2": BOOK_PAGE})],
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    book = {"lesson": lesson, "previous": previous, "next": following,
            "mode": mode_sentence(quick, seed), "css": BOOK_CSS + PAGE_CSS}
    resources = {"metadata": {"name": lesson.title}, "book": book}
    page, _ = exporter.from_notebook_node(lesson.notebook, resources=resources)
    return describe_figures(page, figure_descriptions(lesson.notebook, lesson.number))


# What nbconvert writes for an image without alternative text (nbconvert 7's HTMLExporter).
NO_DESCRIPTION = 'alt="No description has been provided for this image"'


def figure_descriptions(notebook, number):
    """Alternative text for each figure the lesson drew, in order, for screen readers: the
    name it saved the figure under (the cell's 'figure written: .../01_curves.png' lines), in
    words, 'Lesson 01: curves'; 'Lesson 01: a figure' when the cell named none."""
    texts = []
    for cell in notebook.cells:
        outputs = cell.get("outputs", [])
        printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        names = re.findall(r"figure written: \S*?([^/\\\s]+)\.png", printed)
        for i, _ in enumerate(o for o in outputs if "image/png" in o.get("data", {})):
            # '01_curves' -> 'curves', 'accuracy_vs_batch_size' -> 'accuracy vs batch size'
            words = re.sub(r"^\d+_", "", names[i]).replace("_", " ") if i < len(names) else \
                "a figure"
            texts.append(f"Lesson {number}: {words}")
    return texts


def describe_figures(page, texts):
    """The page with nbconvert's placeholder alternative text replaced, figure by figure, by
    `texts` (left as it is when the counts differ, rather than describe the wrong one)."""
    parts = page.split(NO_DESCRIPTION)
    if len(parts) - 1 != len(texts):
        return page
    described = [parts[0]]
    for text, rest in zip(texts, parts[1:], strict=True):
        described += [f'alt="{html.escape(text, quote=True)}"', rest]
    return "".join(described)


def render_index(lessons, quick, seed):
    """The index page: each lesson's question, thumbnail and measured headline."""
    from jinja2 import Environment
    from nbconvert.filters import markdown2html

    template = Environment(autoescape=True).from_string(BOOK_INDEX)
    cards = [dict(number=lesson.number, page=lesson.page, title=lesson.title,
                  thumbnail=lesson.thumbnail, headline=lesson.headline,
                  question_html=markdown2html(lesson.question)) for lesson in lessons]
    return template.render(lessons=cards, quick=quick, css=BOOK_CSS,
                           mode=mode_sentence(quick, seed))


# ----------------------------------------------------------------------------- the book

def describe(lesson, out):
    """Read the executed lesson's title, question and headline; write its thumbnail."""
    lesson.title, lesson.question = title_and_question(lesson.notebook, lesson.name)
    lesson.headline = headline_of(lesson.notebook, lesson.name)
    png = figure_of(lesson.notebook)
    if png is not None:
        lesson.thumbnail = f"thumbnails/{lesson.name}.png"
        write_thumbnail(png, Path(out) / lesson.thumbnail)


def write_page(path, page):
    """Write one page, after checking that it loads nothing from the internet."""
    remote = external_resources(page)
    if remote:
        raise BookError(f"{path.name} would load from the internet: {', '.join(remote[:5])}")
    write_atomically(path, page, "book")


def build(out, quick=False, seed=0, lessons_folder=LESSONS, only=None, jobs=1, timeout=600,
          log=print):
    """Execute the lessons and write the book into `out`: index.html, and NN_name.html and
    thumbnails/NN_name.png per lesson. Returns the lessons (with headlines and timings)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"build(jobs=...) (--jobs) must be a whole number >= 1: how many "
                         f"lessons run at the same time; got {jobs!r}")
    out = Path(out)
    lessons = find_lessons(lessons_folder, only)
    for lesson in lessons:  # before running any, so that a lesson without options fails fast
        lesson.notebook = set_options(read_notebook(lesson.source), quick, seed, lesson.name)
    (out / "thumbnails").mkdir(parents=True, exist_ok=True)
    execute_all(lessons, quick, seed, timeout, jobs, log)
    for lesson in lessons:
        describe(lesson, out)
        log(f"{lesson.name}: Headline: {lesson.headline}")
        if has_tex_math(lesson.notebook):
            log(f"  warning: {lesson.name} writes TeX math ($...$); its page shows it as typed")
    for i, lesson in enumerate(lessons):
        previous = lessons[i - 1] if i > 0 else None
        following = lessons[i + 1] if i + 1 < len(lessons) else None
        write_page(out / lesson.page, render_page(lesson, previous, following, quick, seed))
    write_page(out / "index.html", render_index(lessons, quick, seed))
    return lessons


def missing_tools():
    """The names of the book's tools (the `book` extra) that are not installed."""
    import importlib.util

    return [name for name in ("nbclient", "nbconvert", "jupytext", "ipykernel")
            if importlib.util.find_spec(name) is None]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tinynet.book",
        description="Run every lesson notebook and build the lesson book: a static web site "
                    "(index.html and one page per lesson) that opens offline in a browser.")
    parser.add_argument("--quick", action="store_true",
                        help="run the lessons' small versions (seconds each) instead of the full")
    parser.add_argument("--out", default="book", help="folder for the book (default: ./book)")
    parser.add_argument("--seed", type=int, default=0, help="every lesson's seed (default 0)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="build only these lessons")
    parser.add_argument("--lessons", default=str(LESSONS),
                        help="the folder of the lessons (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="lessons run at the same time, one core each (default %(default)s)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds a single cell may run before the build fails (default 600)")
    args = parser.parse_args(argv)
    if missing_tools():
        print(f"tinynet.book needs {', '.join(missing_tools())}: pip install -e \".[book]\" "
              f"(or pip install \"tinynet[book]\")", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        build(args.out, args.quick, args.seed, args.lessons, args.only, args.jobs, args.timeout)
    except (BookError, ValueError) as error:
        print(f"tinynet.book: {error}", file=sys.stderr)
        return 1
    index = Path(args.out).resolve() / "index.html"
    print(f"book written in {time.perf_counter() - started:.0f} s; open {index.as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
