// Tests for the CoNLL and TSV readers (onestone/data/text_readers.hpp).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../io/io_test_util.hpp"
#include "onestone/data/text_readers.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_text_readers {

namespace {

namespace fs = std::filesystem;
using onestone::data::ConllOptions;
using onestone::data::parse_conll;
using onestone::data::parse_tsv;
using onestone::data::read_conll;
using onestone::data::read_tsv;
using onestone::data::TsvOptions;
using Strings = std::vector<std::string>;

using io_test::TempDir;  // a fresh temporary folder, removed at scope exit

// Writes `text` to the file `name` of `dir` and returns its path.
std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

const char* kConll2003 =
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "EU NNP B-NP B-ORG\n"
    "rejects VBZ B-VP O\n"
    "German JJ B-NP B-MISC\n"
    "call NN I-NP O\n"
    ". . O O\n"
    "\n"
    "\n"
    "Peter NNP B-NP B-PER\n"
    "Blackburn NNP I-NP I-PER\n";

}  // namespace

TEST_CASE("parse_conll reads CoNLL-2003 style files", "[text][readers]") {
  const auto s = parse_conll(kConll2003, "mem");
  REQUIRE(s.size() == 2);
  CHECK(s[0].tokens == Strings{"EU", "rejects", "German", "call", "."});
  CHECK(s[0].tags == Strings{"B-ORG", "O", "B-MISC", "O", "O"});
  CHECK(s[0].line == 3);
  CHECK(s[1].tokens == Strings{"Peter", "Blackburn"});
  CHECK(s[1].tags == Strings{"B-PER", "I-PER"});
  CHECK(s[1].line == 10);
  // Another tag column (chunk tags), and tokens only.
  const auto chunks = parse_conll(kConll2003, "mem", ConllOptions().tag_column(2));
  CHECK(chunks[0].tags == Strings{"B-NP", "B-VP", "B-NP", "I-NP", "O"});
  const auto pos = parse_conll(kConll2003, "mem", ConllOptions().tag_column(-3));
  CHECK(pos[1].tags == Strings{"NNP", "NNP"});
  const auto words = parse_conll(kConll2003, "mem", ConllOptions().tags(false));
  CHECK(words[0].tokens.size() == 5);
  CHECK(words[0].tags.empty());
}

TEST_CASE("parse_conll: tabs, CRLF, BOM, comments, blank lines with spaces", "[text][readers]") {
  const std::string text =
      "\xEF\xBB\xBF# sent_id = 1\r\n"
      "# text = New York\r\n"
      "New\tB-LOC\r\n"
      "York\tI-LOC\r\n"
      "  \t \r\n"
      "# a comment between sentences\n"
      "#\tO\n"  // a comment line too (between sentences)
      "\n"
      "It\tO\n"
      "#\tO\n"  // inside a sentence: the token "#"
      "-DOCSTART-\tO\n"
      "ok\tO";
  const auto s = parse_conll(text, "mem");
  REQUIRE(s.size() == 3);
  CHECK(s[0].tokens == Strings{"New", "York"});
  CHECK(s[0].tags == Strings{"B-LOC", "I-LOC"});
  CHECK(s[1].tokens == Strings{"It", "#"});
  CHECK(s[2].tokens == Strings{"ok"});
  CHECK(s[2].line == 12);
  // With comments off, '#' lines are token lines.
  const auto all = parse_conll("# x\na b\n", "mem", ConllOptions().skip_comments(false));
  REQUIRE(all.size() == 1);
  CHECK(all[0].tokens == Strings{"#", "a"});
  // Tab-separated columns may hold spaces.
  const auto tab = parse_conll("New York\tB-LOC\n", "mem", ConllOptions().tab_separated(true));
  CHECK(tab[0].tokens == Strings{"New York"});
  CHECK(parse_conll("", "mem").empty());
  CHECK(parse_conll("\n\n-DOCSTART- O\n\n", "mem").empty());
}

TEST_CASE("parse_conll keeps invalid BIO tags as free strings", "[text][readers]") {
  const auto s = parse_conll("a I-PER\nb B-\nc whatever\n", "mem");
  CHECK(s[0].tags == Strings{"I-PER", "B-", "whatever"});
}

TEST_CASE("parse_conll errors name the file and line", "[text][readers]") {
  CHECK(message_of([] {
          parse_conll("EU NNP B-NP B-ORG\nrejects O\n", "data/train.conll",
                      ConllOptions().tag_column(3));
        }) == "parse_conll: data/train.conll:2: expected at least 4 columns, found 2");
  CHECK(message_of([] { parse_conll("a O\n\nlonely\n", "f.conll"); }) ==
        "parse_conll: f.conll:3: expected at least 2 columns, found 1");
  CHECK(message_of([] { parse_conll("a X O\nb O\n", "f.conll"); }) ==
        "parse_conll: f.conll:2: found 2 columns, but line 1 has 3");
  CHECK(message_of([] { parse_conll("a X O\n\nb Y Z O\n", "f.conll"); }) ==
        "parse_conll: f.conll:3: found 4 columns, but line 1 has 3");
  CHECK(message_of([] {
          parse_conll("a\t\tO\n", "f.conll", ConllOptions().tab_separated(true));
        }) == "parse_conll: f.conll:1: column 2 is empty");
  CHECK(message_of([] {
          parse_conll("a\tO\nb\rc\tO\n", "f.conll", ConllOptions().tab_separated(true));
        }) == "parse_conll: f.conll:2: carriage return inside the line (byte 2)");
  // Line numbers count the comment, DOCSTART and blank lines, CRLF or not.
  CHECK(message_of([] { parse_conll("# c\r\n-DOCSTART- O\r\n\r\na O\r\nb\r\n", "f.conll"); }) ==
        "parse_conll: f.conll:5: expected at least 2 columns, found 1");
  CHECK_THROWS_AS(parse_conll("a O\n", "f", ConllOptions().token_column(-1)),
                  std::invalid_argument);
  CHECK_THROWS_AS(parse_conll("a O\n", "f", ConllOptions().tag_column(0)), std::invalid_argument);

  TempDir dir;
  const std::string path = write_file(dir, "bad.conll", "a O\nb O\n\nc\n");
  CHECK(message_of([&] { read_conll(path); }) ==
        "parse_conll: " + path + ":4: expected at least 2 columns, found 1");
  const std::string good = write_file(dir, "good.conll", kConll2003);
  CHECK(read_conll(good).size() == 2);
  const std::string missing = (dir.path / "missing.conll").string();
  CHECK_THROWS_AS(read_conll(missing), std::runtime_error);
  CHECK_THAT(message_of([&] { read_conll(missing); }), Catch::Contains(missing));
}

TEST_CASE("parse_tsv reads a header, text and several label columns", "[text][readers]") {
  const std::string text =
      "id\ttext\ttopic\tsentiment\n"
      "1\tGreat match today\tsports\tpositive\n"
      "\n"
      "2\tNew chip launched\ttechnology\t\n"
      "3\tVote delayed\t\tnegative\n";
  const auto t = parse_tsv(text, "mem",
                           TsvOptions().text_column("text").label_columns({"topic", "sentiment"}));
  CHECK(t.text_name == "text");
  CHECK(t.label_names == Strings{"topic", "sentiment"});
  CHECK(t.texts == Strings{"Great match today", "New chip launched", "Vote delayed"});
  REQUIRE(t.labels.size() == 2);
  CHECK(t.labels[0] == Strings{"sports", "technology", ""});  // "" = missing label
  CHECK(t.labels[1] == Strings{"positive", "", "negative"});
  CHECK(t.lines == std::vector<std::size_t>{2, 4, 5});
  CHECK(t.size() == 3);
  CHECK(t.label_index("sentiment") == 1);
  CHECK_THROWS_AS(t.label_index("x"), std::invalid_argument);

  // By index, and the default label columns (every column but the text one).
  const auto d = parse_tsv(text, "mem", TsvOptions().text_column(1));
  CHECK(d.label_names == Strings{"id", "topic", "sentiment"});
  const auto i = parse_tsv(text, "mem", TsvOptions().text_column(1).label_columns({3}));
  CHECK(i.label_names == Strings{"sentiment"});
}

TEST_CASE("parse_tsv without header, CRLF, BOM, other delimiter", "[text][readers]") {
  const auto t = parse_tsv("\xEF\xBB\xBFhello there\tgreeting\r\nbye\tfarewell\r\n", "mem",
                           TsvOptions().header(false));
  CHECK(t.text_name == "column0");
  CHECK(t.label_names == Strings{"column1"});
  CHECK(t.texts == Strings{"hello there", "bye"});
  CHECK(t.labels[0] == Strings{"greeting", "farewell"});
  const auto c =
      parse_tsv("label,text\nx,abc\n", "mem", TsvOptions().delimiter(',').text_column("text"));
  CHECK(c.texts == Strings{"abc"});
  CHECK(c.labels[0] == Strings{"x"});
  CHECK(parse_tsv("", "mem", TsvOptions().header(false)).size() == 0);
  CHECK(parse_tsv("text\tlabel\n", "mem").size() == 0);
}

TEST_CASE("parse_tsv errors name the file and line", "[text][readers]") {
  const std::string head = "text\ttopic\tsentiment\n";
  CHECK(message_of([&] { parse_tsv(head + "a\tb\tc\n\nd\te\n", "data/train.tsv"); }) ==
        "parse_tsv: data/train.tsv:4: expected 3 fields, found 2 (header on line 1)");
  CHECK(message_of([&] { parse_tsv(head + "a\tb\tc\td\n", "t.tsv"); }) ==
        "parse_tsv: t.tsv:2: expected 3 fields, found 4 (header on line 1)");
  CHECK(message_of([] { parse_tsv("a\tb\nc\n", "t.tsv", TsvOptions().header(false)); }) ==
        "parse_tsv: t.tsv:2: expected 2 fields, found 1");
  CHECK(message_of([&] { parse_tsv(head, "t.tsv", TsvOptions().text_column("body")); }) ==
        "parse_tsv: t.tsv:1: no column named 'body' (columns: text, topic, sentiment)");
  CHECK(message_of([&] { parse_tsv(head, "t.tsv", TsvOptions().label_columns({5})); }) ==
        "parse_tsv: t.tsv:1: column 5 out of range (3 columns)");
  CHECK(message_of([&] { parse_tsv(head, "t.tsv", TsvOptions().label_columns({"text"})); }) ==
        "parse_tsv: t.tsv:1: label column 'text' is the text column");
  CHECK(message_of([] {
          parse_tsv("a\tb\n", "t.tsv", TsvOptions().header(false).text_column("a"));
        }) == "parse_tsv: t.tsv:1: column 'a' is given by name, but the table has no header");
  CHECK_THAT(message_of([] { parse_tsv("x\tx\n", "t.tsv", TsvOptions().text_column("x")); }),
             Catch::Contains("t.tsv:1: column name 'x' is ambiguous"));
  CHECK(message_of([] { parse_tsv("text\tlabel\nab\rc\tx\n", "t.tsv"); }) ==
        "parse_tsv: t.tsv:2: carriage return inside the line (byte 3)");
  CHECK(message_of([] { parse_tsv("\n\n", "t.tsv"); }) ==
        "parse_tsv: t.tsv:1: empty table, expected a header line");

  TempDir dir;
  const std::string path = write_file(dir, "bad.tsv", head + "a\tb\tc\r\nd\te\r\n");
  CHECK(message_of([&] { read_tsv(path); }) ==
        "parse_tsv: " + path + ":3: expected 3 fields, found 2 (header on line 1)");
  const std::string missing = (dir.path / "missing.tsv").string();
  CHECK_THROWS_AS(read_tsv(missing), std::runtime_error);
  CHECK_THAT(message_of([&] { read_tsv(missing); }), Catch::Contains(missing));
}

}  // namespace test_text_readers
