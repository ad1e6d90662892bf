"""Text from users, links and imported files, made safe to place in Streamlit Markdown.

st.markdown, st.caption, st.info/warning/error, st.subheader, widget labels and help all
render Markdown, so a name such as ``[Sign in again](//evil)`` or ``![x](//evil/t.png)``
would become a link or an image loaded from any host. Everything that did not come from
our own code (URL parameters, display names, office and area names, sample names, notes,
file names, CRNs) goes through plain() before it is put into such a string.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character CommonMark lets a backslash escape, so none of them
# can open a link, image, emphasis, code span, heading, list, table, HTML tag, autolink,
# Streamlit colour/icon directive (:red[...], :material/x:) or LaTeX ($...$).
_SPECIAL = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def plain(value: object, max_chars: int | None = None) -> str:
    """value as text that Markdown shows literally: punctuation backslash-escaped, line
    breaks folded to spaces (so no heading, list or quote block can start), and cut to
    max_chars characters before escaping when given."""
    text = "" if value is None else str(value)
    if max_chars is not None:
        text = text[:max_chars]
    text = _LINE_BREAKS.sub(" ", text).replace("\x00", "\ufffd")
    return _SPECIAL.sub(r"\\\1", text)


def quoted(value: object, max_chars: int = 40) -> str:
    """plain(value) in typographic quotes, for "Unknown list '...'" style messages."""
    return f"“{plain(value, max_chars)}”"
