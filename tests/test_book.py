"""The lesson book (python -m tinynet.book): pages built from executed notebooks, and checked
in a real browser.

Three kinds of test:
- the book's parts, on notebooks made here (no kernel, milliseconds);
- a book of two tiny lessons written here (one kernel each, a few seconds);
- the book of the real lessons in --quick mode, opened in headless Chromium: no console
  errors, no broken image, no broken internal link, each page shows its headline. It builds
  lessons 01 and 02 (about 20 s); TINYNET_BOOK_LESSONS=all builds every lesson (as .ci/run
  does), or e.g. TINYNET_BOOK_LESSONS="03 04". Screenshots of the index and of one lesson
  page go to $TINYNET_TEST_ARTIFACTS (default tests/artifacts/).

The browser test is skipped, with the reason, only when Chromium, its driver or selenium
cannot be found (`.ci/run` installs Debian's chromium and chromium-driver).
"""

import base64
import html.parser
import os
import re
import shutil
import tempfile
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from tinynet import book

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("TINYNET_TEST_ARTIFACTS") or REPO / "tests" / "artifacts")
NUMBER = re.compile(r"\d")

TINY_LESSON = '''# %% [markdown]
# # Lesson {n}: a tiny lesson for the book's tests
#
# **Question.** Does the book show the question of lesson {n}?
#
# Some narration.

# %% tags=["parameters"]
QUICK = False
SEED = 0

# %%
import matplotlib.pyplot as plt

print(f"options: quick={{QUICK}} seed={{SEED}}")
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1], [0, {value}])

# %%
print("Headline: lesson {n} measured {value}")
'''


def notebook(*cells):
    """A notebook of (cell_type, source, tags) triples."""
    made = []
    for kind, source, tags in cells:
        new_cell = getattr(nbformat.v4, f"new_{kind}_cell")  # new_markdown_cell, new_code_cell
        made.append(new_cell(source, metadata={"tags": tags} if tags else {}))
    return nbformat.v4.new_notebook(cells=made)


def printed(*texts):
    """A notebook whose only code cell printed `texts` (as if executed)."""
    nb = notebook(("code", "...", None))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)
                           for text in texts]
    return nb


# ----------------------------------------------------------------------------- parts

def test_options_cell_goes_right_after_the_parameters_cell():
    nb = notebook(("markdown", "# Lesson", None), ("code", "QUICK = False\nSEED = 0",
                                                   ["parameters"]), ("code", "print(1)", None))
    result = book.set_options(nb, quick=True, seed=3, name="01_x")
    assert [cell.source for cell in nb.cells][1] == "QUICK = False\nSEED = 0"  # not modified
    injected = result.cells[2]
    assert injected.metadata["tags"] == ["injected-parameters"]
    assert "QUICK = True" in injected.source and "SEED = 3" in injected.source
    assert result.cells[3].source == "print(1)"


def test_options_cell_found_by_its_assignment_when_untagged():
    nb = notebook(("code", "import os", None), ("code", "QUICK = False", None))
    assert "QUICK = True" in book.set_options(nb, True, 0, "01_x").cells[2].source


def test_lesson_without_options_cell_is_refused_with_its_name():
    with pytest.raises(book.BookError, match="lesson 07_where.*no options cell"):
        book.set_options(notebook(("code", "x = 1", None)), True, 0, "07_where")


def test_headline_is_the_one_line_that_starts_with_headline():
    nb = printed("loss 0.3\nHeadline: BN 2.0x", " sooner\nmore\n")
    assert book.headline_of(nb, "01_x") == "BN 2.0x sooner"


@pytest.mark.parametrize("texts, count", [(("no headline\n",), 0),
                                          (("Headline: a 1\n", "Headline: b 2\n"), 2)])
def test_lesson_must_print_exactly_one_headline(texts, count):
    with pytest.raises(book.BookError, match=f"lesson 03_y printed {count} lines"):
        book.headline_of(printed(*texts), "03_y")


def test_title_and_question_come_from_the_first_text_cell():
    nb = notebook(("markdown", "# Lesson 05: rates\n\nIntro.\n\n**Question.** Is BN\nrobust?"
                               "\n\nMore.", None))
    assert book.title_and_question(nb, "05_x") == ("Lesson 05: rates", "Is BN robust?")
    plain = notebook(("markdown", "# Lesson 06: sizes\n\nHow small can a batch be?", None))
    assert book.title_and_question(plain, "06_x") == ("Lesson 06: sizes",
                                                      "How small can a batch be?")


def test_tex_math_is_noticed_in_text_cells_only():
    assert book.has_tex_math(notebook(("markdown", "the mean $\\mu_B$ of a batch", None)))
    assert not book.has_tex_math(notebook(("markdown", "x_hat = (x - mu) / sigma", None),
                                          ("code", "s = '$a$'", None)))


def test_external_resources_are_found_but_plain_links_are_not():
    page = """<html><head><script src="https://cdn.example/x.js"></script>
    <link rel="stylesheet" href="//fonts.example/f.css"><style>@font-face { src:
    url('https://fonts.example/a.woff2'); }</style></head><body>
    <a href="https://keras.io">Keras</a><img src="data:image/png;base64,AAAA">
    <img src="thumbnails/01.png"></body></html>"""
    found = book.external_resources(page)
    assert len(found) == 3, found
    assert not book.external_resources('<a href="http://x">x</a><script>var a=1;</script>')


def test_figures_get_alternative_text_from_the_names_they_were_saved_under():
    png = {"image/png": "iVBORw0KGgo="}
    cell = nbformat.v4.new_code_cell("draw()")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="  figure written: figures/01/01_curves.png\n"
                                                "  figure written: figures/01/01_seeds.png\n"),
                    nbformat.v4.new_output("display_data", data=png),
                    nbformat.v4.new_output("display_data", data=png)]
    unnamed = nbformat.v4.new_code_cell("plt.show()")
    unnamed.outputs = [nbformat.v4.new_output("display_data", data=png)]
    notebook = nbformat.v4.new_notebook(cells=[cell, unnamed])
    texts = book.figure_descriptions(notebook, "01")
    assert texts == ["Lesson 01: curves", "Lesson 01: seeds", "Lesson 01: a figure"]
    page = "".join(f"<img {name} {book.NO_DESCRIPTION}>" for name in "abc")
    described = book.describe_figures(page, texts)
    assert 'alt="Lesson 01: seeds"' in described and book.NO_DESCRIPTION not in described
    assert book.describe_figures(page, texts[:2]) == page  # counts differ: left as it is


def test_find_lessons_prefers_the_notebook_and_honours_only(tmp_path):
    for name in ["01_a.py", "01_a.ipynb", "02_b.py", "lesson_tools.py", "make_x.py"]:
        (tmp_path / name).write_text("")
    found = book.find_lessons(tmp_path)
    assert [lesson.source.name for lesson in found] == ["01_a.ipynb", "02_b.py"]
    assert [lesson.name for lesson in book.find_lessons(tmp_path, only=["2"])] == ["02_b"]
    with pytest.raises(book.BookError, match="no lesson numbered 09"):
        book.find_lessons(tmp_path, only=["09"])
    with pytest.raises(book.BookError, match="--only takes lesson numbers"):
        book.find_lessons(tmp_path, only=["first"])


def test_jobs_must_be_a_positive_whole_number(tmp_path):
    with pytest.raises(ValueError, match=r"\(--jobs\) must be a whole number >= 1"):
        book.build(tmp_path / "book", jobs=0)


def test_command_line_says_what_is_wrong_without_a_traceback(tmp_path, capsys):
    assert book.main(["--lessons", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    assert "tinynet.book: no lessons folder at" in capsys.readouterr().err


# ----------------------------------------------------------------------------- tiny lessons

@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    """A book of two tiny lessons, built in quick mode with seed 4."""
    lessons = tmp_path_factory.mktemp("tiny_lessons")
    (lessons / "01_first.py").write_text(TINY_LESSON.format(n="01", value="0.125"))
    (lessons / "02_second.py").write_text(TINY_LESSON.format(n="02", value="7.5"))
    out = tmp_path_factory.mktemp("tiny_book")
    built = book.build(out, quick=True, seed=4, lessons_folder=lessons, jobs=2, log=lambda _: 0)
    return out, built


def test_book_has_an_index_a_page_and_a_thumbnail_per_lesson(tiny_book):
    out, built = tiny_book
    assert [lesson.headline for lesson in built] == ["lesson 01 measured 0.125",
                                                     "lesson 02 measured 7.5"]
    for name in ["index.html", "01_first.html", "02_second.html", "thumbnails/01_first.png",
                 "thumbnails/02_second.png"]:
        assert (out / name).stat().st_size > 0, name
    assert (out / "thumbnails/01_first.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pages_ran_with_the_books_options_and_show_the_headline(tiny_book):
    out, _ = tiny_book
    page = (out / "01_first.html").read_text()
    assert "options: quick=True seed=4" in page
    assert page.count("lesson 01 measured 0.125") >= 2  # the banner and the printed line
    assert 'src="data:image/png;base64,' in page  # the figure is inside the page


def test_index_shows_each_question_headline_and_link(tiny_book):
    out, _ = tiny_book
    index = (out / "index.html").read_text()
    for n, value in [("01", "0.125"), ("02", "7.5")]:
        assert f"Does the book show the question of lesson {n}?" in index
        assert f"lesson {n} measured {value}" in index
    assert 'href="01_first.html"' in index and 'src="thumbnails/02_second.png"' in index
    assert "quick mode" in index


class LinkFinder(html.parser.HTMLParser):
    """The (rel, href) of every <a> of a page."""

    def __init__(self, page):
        super().__init__()
        self.links = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append((attrs.get("rel"), attrs["href"]))


def test_lesson_pages_link_to_their_neighbours_and_the_index(tiny_book):
    out, _ = tiny_book
    first = LinkFinder((out / "01_first.html").read_text()).links
    second = LinkFinder((out / "02_second.html").read_text()).links
    assert ("next", "02_second.html") in first and "prev" not in dict(first)
    assert ("prev", "01_first.html") in second and "next" not in dict(second)
    assert (None, "index.html") in first and (None, "index.html") in second


def test_book_loads_nothing_from_the_internet(tiny_book):
    out, _ = tiny_book
    for page in out.glob("*.html"):
        text = page.read_text()
        # checked here without the book's own checker: no remote script, style or image
        assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=[\"'](https?:)?//",
                             text), page.name
        assert not re.search(r"url\(\s*[\"']?(https?:)?//", text), page.name
        assert "mathjax" not in text.lower() and "require.min.js" not in text


def test_a_failing_lesson_stops_the_book_and_names_itself(tmp_path):
    (tmp_path / "03_broken.py").write_text(
        TINY_LESSON.format(n="03", value="1") + "\n# %%\nraise RuntimeError('oops')\n")
    with pytest.raises(book.BookError, match=r"lesson 03_broken failed(.|\n)*oops"):
        book.build(tmp_path / "book", quick=True, lessons_folder=tmp_path, log=lambda _: 0)


# ----------------------------------------------------------------------------- the real book

def chosen_lessons():
    wanted = os.environ.get("TINYNET_BOOK_LESSONS", "01 02").strip()
    return None if wanted == "all" else wanted.split()


@pytest.fixture(scope="module")
def real_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    built = book.build(out, quick=True, only=chosen_lessons(), jobs=2, log=lambda _: 0)
    return out, built


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by selenium, or a skip that says what is missing."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    chromium = next(filter(None, map(shutil.which, ["chromium", "chromium-browser",
                                                    "google-chrome"])), None)
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no headless Chromium: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="tinynet-chromium-")
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=1280,1600"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to read the console
    # the driver is given by path, so selenium never tries to download one
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as error:  # a browser that cannot start is no browser to be had
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"headless Chromium ({chromium}) did not start: "
                    f"{str(error).strip().splitlines()[0]}")
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


UNDESCRIBED_IMAGES = """return Array.from(document.images)
    .filter(img => !img.alt || img.alt.startsWith('No description'))
    .map(img => img.src.slice(0, 80));"""
BROKEN_IMAGES = """return Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.src.slice(0, 80));"""
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
HAS_ID = "return document.getElementById(arguments[0]) !== null;"
FETCHED_FROM_ELSEWHERE = """return performance.getEntriesByType('resource').map(e => e.name)
    .filter(name => !name.startsWith('file:') && !name.startsWith('data:'));"""


def broken_links(driver, out, page):
    """The internal links of the open page that lead nowhere: a missing file, or an anchor
    (#name) that its page does not have. As in a browser, the anchor matches an id either as
    written or percent-decoded (a heading with '%' gets an id with '%25' in it)."""
    broken = []
    for href in driver.execute_script(LINKS):
        url = urllib.parse.urlparse(href)
        if url.scheme != "file":
            continue  # links to other sites are not the book's to check
        target = Path(urllib.parse.unquote(url.path))
        anchors = {url.fragment, urllib.parse.unquote(url.fragment)} - {""}
        if not target.is_file() or out.resolve() not in target.resolve().parents:
            broken.append(href)
        elif anchors and target.name == page:
            if not any(driver.execute_script(HAS_ID, anchor) for anchor in anchors):
                broken.append(href)
        elif anchors and not any(f'id="{anchor}"' in target.read_text() for anchor in anchors):
            broken.append(href)
    return broken


def open_and_check(driver, out, page):
    """Open out/page; return its visible text, after asserting no console error, no broken
    image, nothing fetched but the book's own files, and no broken internal link."""
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get((out / page).resolve().as_uri())
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors {errors}"
    assert not driver.execute_script(BROKEN_IMAGES), f"{page}: broken images"
    undescribed = driver.execute_script(UNDESCRIBED_IMAGES)
    assert not undescribed, f"{page}: images without a description: {undescribed}"
    assert not driver.execute_script(FETCHED_FROM_ELSEWHERE), f"{page}: loads from the web"
    assert not broken_links(driver, out, page), f"{page}: broken links"
    return driver.find_element("tag name", "body").text


def screenshot(driver, name, height):
    """Save a picture of the open page's top `height` pixels (at most the whole page), taken
    with Chromium's own full-page capture."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width, page_height = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];")
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, page_height), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})
    book.write_atomically(ARTIFACTS / name, base64.b64decode(shot["data"]))


def test_every_page_of_the_real_book_works_in_a_browser(real_book, browser):
    out, built = real_book
    index_text = open_and_check(browser, out, "index.html")
    screenshot(browser, "book_index.png", 4000)
    for lesson in built:
        assert NUMBER.search(lesson.headline), f"{lesson.name}: no number in its headline"
        assert lesson.headline in index_text, f"index.html lacks {lesson.name}'s headline"
        text = open_and_check(browser, out, lesson.page)
        assert f"Headline: {lesson.headline}" in text, f"{lesson.page}: no headline shown"
        if lesson is built[0]:
            screenshot(browser, f"book_{lesson.name}.png", 3000)
    assert (ARTIFACTS / "book_index.png").stat().st_size > 0
