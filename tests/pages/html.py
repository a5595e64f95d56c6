"""A small HTML reader for page tests: the tree of a response, searched by tag and attributes
(Django's test client gives the HTML as text; the pages' hooks are data-testid attributes)."""

from __future__ import annotations

from html.parser import HTMLParser


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag, self.attrs = tag, attrs
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def select(self, tag: str | None = None, **attrs: str | None) -> list[Node]:
        """Descendants with the tag and attributes (data_testid → data-testid; a value of
        None only asks that the attribute be there)."""
        wanted = {key.replace("_", "-"): value for key, value in attrs.items()}
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and all(
                key in node.attrs and (value is None or node.attrs[key] == value)
                for key, value in wanted.items()
            )
        ]

    def first(self, tag: str | None = None, **attrs: str | None) -> Node | None:
        found = self.select(tag, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, **attrs: str | None) -> Node:
        found = self.select(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [Node("root", {})]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    reader = Reader()
    reader.feed(text)
    return reader.stack[0]


def parse(response) -> Node:
    """A Django test client's response as a tree."""
    return parse_html(response.content.decode())
