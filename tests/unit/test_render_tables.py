"""render.tables: the one table writer of `stats` and `diff`, on literal cells."""

from __future__ import annotations

from iomonitor.render import tables


def test_text_table_cuts_the_widest_name_in_front_to_fit_the_width() -> None:
    cells: tables.Cells = [
        ("file", ["/a/very/long/directory/name/holding/the/file.txt", "/b"], False),
        ("bytes", ["1.0 KiB", "2 B"], True),
    ]
    # 49 + 2 + 7 characters do not fit in 30: the name column gives up 28, from the front.
    assert tables.text_table(cells, width=30) == (
        "file                     bytes\n"
        "...lding/the/file.txt  1.0 KiB\n"
        "/b                         2 B\n"
    )


def test_markdown_escapes_bars_and_backslashes_in_names() -> None:
    cells: tables.Cells = [("file", ["a|b\\c"], False), ("n", ["1"], True)]
    assert tables.markdown(cells) == "| file | n |\n|:---|---:|\n| a\\|b\\\\c | 1 |\n"
