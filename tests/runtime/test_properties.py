"""Java .properties files read as java.util.Properties reads them (the JDK is the reference)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from connector.errors import UserError
from connector.runtime.properties import connector_document, parse_properties, read_properties

# Writes a map with Properties.store (escapes, unicode, separators in keys), appends lines in the
# forms store never writes (`key value`, `key: value`, continuations, `!` comments), then loads
# the file back and prints each entry as hex of its UTF-8 bytes: what Java read, unambiguously.
JAVA = r"""
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Props {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.toString();
    }
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "host:9092,other:9093");
        p.setProperty("sasl.jaas.config", "org.apache.kafka.common.security.plain."
            + "PlainLoginModule required username=\"k\" password=\"p=s:s#!\";");
        p.setProperty("unicode", "caf\u00e9 \u6771\u4eac \ud83d\ude00");
        p.setProperty("key with spaces=and:colons", "  leading spaces and trailing  ");
        p.setProperty("tabs", "a\tb\nc\\d");
        p.setProperty("empty", "");
        p.setProperty("#not.a.comment", "!value");
        try (OutputStream out = new FileOutputStream(args[0])) { p.store(out, "written by Java"); }
        try (Writer w = new OutputStreamWriter(new FileOutputStream(args[0], true),
                                               StandardCharsets.ISO_8859_1)) {
            w.write("spaced value here\n");
            w.write("colon: separated\n");
            w.write("  indented = yes\n");
            w.write("long = one, \\\n      two, \\\n      three\n");
            w.write("! a bang comment\n");
            w.write("escaped\\u0041 = \\u0042\n");
            w.write("spaced value here = last one wins\n");
        }
        Properties back = new Properties();
        try (InputStream in = new FileInputStream(args[0])) { back.load(in); }
        for (String k : new TreeSet<>(back.stringPropertyNames()))
            System.out.println(hex(k) + " " + hex(back.getProperty(k)));
    }
}
"""


@pytest.fixture(scope="module")
def java_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("needs a JDK (javac, java)")
    tmp = tmp_path_factory.mktemp("java")
    (tmp / "Props.java").write_text(JAVA)
    subprocess.run(["javac", "Props.java"], cwd=tmp, check=True, timeout=120)
    file = tmp / "written.properties"
    out = subprocess.run(["java", "-cp", str(tmp), "Props", str(file)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    java = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        java[bytes.fromhex(key).decode()] = bytes.fromhex(value).decode()
    return file, java


def test_properties_written_by_java_read_as_java_reads_them(
        java_file: tuple[Path, dict[str, str]]) -> None:
    """Properties.store's escapes (`\\:`, `\\=`, `\\uXXXX`, `\\ `), the `key value` form,
    continuations and comments give the very map Java's Properties.load gives."""
    file, java = java_file
    assert read_properties(file) == java
    assert java["bootstrap.servers"] == "host:9092,other:9093"  # stored as host\:9092
    assert "host\\:9092" in file.read_text(encoding="latin-1")


def test_bad_unicode_escape_names_the_file_and_line() -> None:
    """A malformed \\u escape is one error naming the file and line, not a traceback."""
    with pytest.raises(UserError) as info:
        parse_properties("a=1\nb=\\u12G4\n", "w.properties")
    assert info.value.problems[0].file == "w.properties"
    assert info.value.problems[0].line == 2


def test_connect_standalone_connector_file() -> None:
    """A connect-standalone connector .properties (flat keys, name among them) becomes the
    REST document; one without a name is refused with the key named."""
    doc = connector_document(parse_properties("name=bank\nconnector.class=DogeSource\n"
                                              "tasks.max 2\n", "c.properties"), "c.properties")
    assert doc == {"name": "bank", "config": {"connector.class": "DogeSource", "tasks.max": "2"}}
    with pytest.raises(UserError) as info:
        connector_document({"tasks.max": "1"}, "c.properties")
    assert info.value.problems[0].path == "name"
