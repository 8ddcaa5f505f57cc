"""lessons/README.md indexes every lesson, and every picture it shows is in the repository."""

import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = os.path.join(ROOT, "lessons")
sys.path.insert(0, LESSONS)
from make_thumbnails import THUMBNAIL_SOURCES  # noqa: E402


def lesson_files():
    return sorted(name for name in os.listdir(LESSONS) if re.match(r"\d\d_\w+\.py$", name))


def readme():
    with open(os.path.join(LESSONS, "README.md"), encoding="utf-8") as file:
        return file.read()


def test_lessons_are_numbered_once_each_from_01():
    numbers = [int(name[:2]) for name in lesson_files()]
    assert numbers[:9] == list(range(1, 10))
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("name", lesson_files())
def test_every_lesson_is_in_the_readme_with_a_thumbnail(name):
    text = readme()
    assert f"python lessons/{name}" in text
    number = name[:2]
    assert f"thumbnails/{number}.png" in text
    assert os.path.exists(os.path.join(LESSONS, "thumbnails", f"{number}.png"))


def test_no_link_points_into_the_git_ignored_figures_folder():
    """lessons/figures/ is made by running the lessons: a fresh clone has none of it."""
    assert re.findall(r"\]\((?:\./)?figures/", readme()) == []


def test_every_local_link_of_the_readme_exists():
    for target in re.findall(r"\]\(([^)#:]+)\)", readme()):
        assert os.path.exists(os.path.join(LESSONS, target)), target


def test_every_picture_the_readme_shows_exists():
    for path in re.findall(r'(?:\]\(|src=")(thumbnails/[^)"]+)', readme()):
        assert os.path.exists(os.path.join(LESSONS, path)), path


@pytest.mark.parametrize("number", sorted(THUMBNAIL_SOURCES))
def test_each_thumbnail_comes_from_a_figure_its_lesson_saves(number):
    """The figure name must appear in the lesson's source, so a renamed figure is noticed."""
    (name,) = [n for n in lesson_files() if n.startswith(number)]
    with open(os.path.join(LESSONS, name), encoding="utf-8") as file:
        source = file.read()
    stem = THUMBNAIL_SOURCES[number].removesuffix(".png")
    assert stem in source, f"{name} never saves a figure named {stem!r}"
