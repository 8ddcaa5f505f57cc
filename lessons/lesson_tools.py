"""Old name of the lesson helpers, kept so that a script written against it still runs.

The helpers now live in the package, `tinynet.classroom`, so that a lesson runs from any
working directory and in a notebook with nothing but tinynet installed. New lessons import:

    from tinynet.classroom import headline, lesson_options, save_figure, show_figures
"""

from tinynet.classroom import headline, lesson_options, save_figure, show_figures


def parse_args(number, description, argv=None):
    """The lesson's standard options (--out, --quick, --seed); see lesson_options."""
    return lesson_options(number, description, argv=argv)


__all__ = ["headline", "lesson_options", "parse_args", "save_figure", "show_figures"]
