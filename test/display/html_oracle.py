"""Independent reading of the display HTML for the tests: Python's own HTML and XML parsers.

Reads HTML on stdin and prints JSON: the count of each element, the text content, and for each
<svg> (parsed as strict XML, so it must be well-formed) its element counts and <title> texts.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

SVG_NS = "{http://www.w3.org/2000/svg}"


class Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.attrs = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs.extend(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


def svg_summary(source):
    root = ET.fromstring(source)
    counts = {}
    for el in root.iter():
        tag = el.tag.replace(SVG_NS, "")
        counts[tag] = counts.get(tag, 0) + 1
    titles = [el.text or "" for el in root.iter(SVG_NS + "title")]
    fills = [el.get("fill") for el in root.iter(SVG_NS + "rect")]
    return {"counts": counts, "titles": titles, "rectFills": fills}


def main():
    html = sys.stdin.read()
    reader = Reader()
    reader.feed(html)
    reader.close()
    svgs = [svg_summary(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]
    json.dump({"tags": reader.tags, "attrs": sorted(set(reader.attrs)), "text": "".join(reader.text), "svgs": svgs}, sys.stdout)


main()
