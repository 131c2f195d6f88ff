// Tests for tokenize, Vocabulary and LabelSet (onestone/data/vocabulary.hpp).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../io/io_test_util.hpp"
#include "onestone/data/vocabulary.hpp"
#include "onestone/io/vocabulary_file.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_text_vocabulary {

namespace {

namespace fs = std::filesystem;
using onestone::Index;
using onestone::data::LabelOrder;
using onestone::data::LabelSet;
using onestone::data::tokenize;
using onestone::data::TokenizerOptions;
using onestone::data::Vocabulary;
using onestone::data::VocabularyOptions;
using Strings = std::vector<std::string>;

using io_test::TempDir;  // a fresh temporary folder, removed at scope exit

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("tokenize splits whitespace and punctuation and lower-cases ASCII", "[text][vocab]") {
  CHECK(tokenize("Hello, World!  It's\tfine.\n") ==
        Strings{"hello", ",", "world", "!", "it", "'", "s", "fine", "."});
  CHECK(tokenize("").empty());
  CHECK(tokenize(" \t\r\n ").empty());
  CHECK(tokenize("a--b") == Strings{"a", "-", "-", "b"});
}

TEST_CASE("tokenize keeps UTF-8 bytes inside words and leaves non-ASCII case alone",
          "[text][vocab]") {
  // "Café ÉTÉ, naïve" — É (C3 89) is not lower-cased, the bytes stay inside their words.
  CHECK(tokenize("Caf\xC3\xA9 \xC3\x89T\xC3\x89, na\xC3\xAFve") ==
        Strings{"caf\xC3\xA9", "\xC3\x89t\xC3\x89", ",", "na\xC3\xAFve"});
}

TEST_CASE("tokenize options", "[text][vocab]") {
  CHECK(tokenize("Hi, There", TokenizerOptions().lower_case(false)) == Strings{"Hi", ",", "There"});
  CHECK(tokenize("Hi, there.", TokenizerOptions().split_punctuation(false)) ==
        Strings{"hi,", "there."});
}

TEST_CASE("Vocabulary::build orders by frequency, ties by text, specials first", "[text][vocab]") {
  const std::vector<Strings> corpus = {
      {"the", "cat", "sat"}, {"the", "dog", "sat"}, {"a", "cat"}, {"<unk>", "the"}};
  const Vocabulary v = Vocabulary::build(corpus);
  // the 3, cat 2, sat 2, a 1, dog 1 ("<unk>" in the corpus is not counted)
  CHECK(v.tokens() == Strings{"<pad>", "<unk>", "the", "cat", "sat", "a", "dog"});
  CHECK(v.size() == 7);
  CHECK(v.pad_id() == 0);
  CHECK(v.unk_id() == 1);
  CHECK(v.id("cat") == 3);
  CHECK(v.id("zebra") == 1);
  CHECK(v.id("<pad>") == 0);
  CHECK(v.contains("dog"));
  CHECK_FALSE(v.contains("zebra"));
  CHECK(v.token(2) == "the");
  CHECK_THROWS_AS(v.token(7), std::out_of_range);
  CHECK_THROWS_AS(v.token(-1), std::out_of_range);
  CHECK(v.encode({"the", "zebra", "dog"}) == std::vector<Index>{2, 1, 6});
  CHECK(v.decode({2, 3}) == Strings{"the", "cat"});
}

TEST_CASE("Vocabulary::build max_size and min_freq", "[text][vocab]") {
  const std::vector<Strings> corpus = {{"x", "x", "x", "y", "y", "z", "w", "w"}};
  CHECK(Vocabulary::build(corpus, VocabularyOptions().max_size(4)).tokens() ==
        Strings{"<pad>", "<unk>", "x", "w"});
  CHECK(Vocabulary::build(corpus, VocabularyOptions().min_freq(2)).tokens() ==
        Strings{"<pad>", "<unk>", "x", "w", "y"});
  CHECK(Vocabulary::build(corpus, VocabularyOptions().max_size(2)).size() == 2);
  CHECK_THROWS_AS(Vocabulary::build(corpus, VocabularyOptions().max_size(1)),
                  std::invalid_argument);
  CHECK_THROWS_AS(Vocabulary::build(corpus, VocabularyOptions().min_freq(0)),
                  std::invalid_argument);
}

TEST_CASE("Vocabulary::build refuses tokens that cannot be stored one per line", "[text][vocab]") {
  const std::string m = message_of([] { Vocabulary::build({{"ok"}, {"a", "b\nc"}}); });
  CHECK_THAT(m, Catch::Contains("sentence 1, token 1"));
  CHECK_THAT(m, Catch::Contains("line break"));
  CHECK_THROWS_AS(Vocabulary::build({{""}}), std::invalid_argument);
  CHECK_THROWS_AS(Vocabulary::build({{"a\r"}}), std::invalid_argument);
}

TEST_CASE("Vocabulary::build is deterministic", "[text][vocab]") {
  std::vector<Strings> corpus;
  for (int i = 0; i < 200; ++i)
    corpus.push_back({"w" + std::to_string(i % 17), "v" + std::to_string(i % 5), "same"});
  CHECK(Vocabulary::build(corpus) == Vocabulary::build(corpus));
  // Same counts in another order give the same ids.
  std::vector<Strings> reversed(corpus.rbegin(), corpus.rend());
  CHECK(Vocabulary::build(corpus) == Vocabulary::build(reversed));
}

TEST_CASE("Vocabulary round-trips through text, file and metadata", "[text][vocab]") {
  const Vocabulary v =
      Vocabulary::build({{"caf\xC3\xA9", "a b", "tab\there", "#hash", "<pad>x"}, {"a b"}});
  CHECK(v.to_string().substr(0, 12) == "<pad>\n<unk>\n");
  CHECK(Vocabulary::from_string(v.to_string(), "mem") == v);

  TempDir dir;
  onestone::io::save_vocabulary(v, dir.file("vocab.txt"));
  CHECK(Vocabulary::load(dir.file("vocab.txt")) == v);
  // Saving again replaces the file atomically and leaves no temporary file behind.
  onestone::io::save_vocabulary(Vocabulary::build({{"other"}}), dir.file("vocab.txt"));
  CHECK(Vocabulary::load(dir.file("vocab.txt")).tokens() == Strings{"<pad>", "<unk>", "other"});
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  std::map<std::string, std::string> meta;
  v.to_metadata(meta);
  v.to_metadata(meta, "vocab2");
  CHECK(meta.count("vocabulary") == 1);
  CHECK(Vocabulary::from_metadata(meta) == v);
  CHECK(Vocabulary::from_metadata(meta, "vocab2") == v);
  CHECK_THAT(message_of([&] { Vocabulary::from_metadata(meta, "nope"); }),
             Catch::Contains("\"nope\""));
}

TEST_CASE("Vocabulary::from_string accepts CRLF and a missing final newline", "[text][vocab]") {
  const Vocabulary v = Vocabulary::from_string("<pad>\r\n<unk>\r\nhi\r\nthere", "crlf");
  CHECK(v.tokens() == Strings{"<pad>", "<unk>", "hi", "there"});
  CHECK(Vocabulary::from_tokens({"hi", "<unk>", "there"}) == v);
  CHECK_THROWS_AS(Vocabulary::from_tokens({"hi", "hi"}), std::invalid_argument);
}

TEST_CASE("Vocabulary::from_string errors name the source and line", "[text][vocab]") {
  CHECK(message_of([] { Vocabulary::from_string("<unk>\n<pad>\n", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:1: expected '<pad>', found '<unk>'");
  CHECK(message_of([] { Vocabulary::from_string("<pad>\n", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:2: expected '<unk>', found the end of the text");
  CHECK(message_of([] { Vocabulary::from_string("", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:1: expected '<pad>', found the end of the text");
  CHECK(message_of([] { Vocabulary::from_string("<pad>\n<unk>\na\n\nb\n", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:4: empty line (one entry per line expected)");
  CHECK(message_of([] { Vocabulary::from_string("<pad>\n<unk>\na\nb\na\n", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:5: 'a' repeats line 3");
  CHECK(message_of([] { Vocabulary::from_string("<pad>\n<unk>\n<pad>\n", "v.txt"); }) ==
        "Vocabulary::from_string: v.txt:3: '<pad>' repeats line 1");
  CHECK_THAT(message_of([] { Vocabulary::from_string("<pad>\n<unk>\na\rb\n", "v.txt"); }),
             Catch::Contains("v.txt:3: carriage return"));

  TempDir dir;
  {
    std::ofstream f(dir.file("bad.txt"));
    f << "<pad>\n<unk>\nx\nx\n";
  }
  CHECK_THAT(message_of([&] { Vocabulary::load(dir.file("bad.txt")); }),
             Catch::Contains(dir.file("bad.txt") + ":4: 'x' repeats line 3"));
  const std::string missing = message_of([&] { Vocabulary::load(dir.file("missing.txt")); });
  CHECK_THAT(missing, Catch::Contains("missing.txt"));
  CHECK_THROWS_AS(Vocabulary::load(dir.file("missing.txt")), std::runtime_error);
}

TEST_CASE("LabelSet numbers labels in first-seen or sorted order", "[text][vocab]") {
  const Strings tags = {"O", "B-PER", "I-PER", "O", "", "B-LOC"};
  const LabelSet first = LabelSet::from_labels(tags);
  CHECK(first.names() == Strings{"O", "B-PER", "I-PER", "B-LOC"});
  const LabelSet sorted = LabelSet::from_labels(tags, LabelOrder::Sorted);
  CHECK(sorted.names() == Strings{"B-LOC", "B-PER", "I-PER", "O"});
  CHECK(LabelSet::from_labels(std::vector<Strings>{{"b", "a"}, {"c", "a"}}).names() ==
        Strings{"b", "a", "c"});
  CHECK(first.id("I-PER") == 2);
  CHECK(first.find("B-ORG") == -1);
  CHECK(first.name(3) == "B-LOC");
  CHECK_THROWS_AS(first.name(4), std::out_of_range);
  CHECK_THAT(message_of([&] { first.id("B-ORG"); }),
             Catch::Contains("unknown label 'B-ORG' (labels: O, B-PER, I-PER, B-LOC)"));
  CHECK(first.encode({"O", "B-LOC"}) == std::vector<Index>{0, 3});

  LabelSet s;
  CHECK(s.add("x") == 0);
  CHECK(s.add("y") == 1);
  CHECK(s.add("x") == 0);
  CHECK_THROWS_AS(s.add(""), std::invalid_argument);
  CHECK_THROWS_AS(s.add("a\nb"), std::invalid_argument);
  CHECK_THROWS_AS(LabelSet(Strings{"a", "a"}), std::invalid_argument);
}

TEST_CASE("LabelSet round-trips and reports errors with source and line", "[text][vocab]") {
  const LabelSet tags(Strings{"O", "B-PER", "I-PER"});
  CHECK(tags.to_string() == "O\nB-PER\nI-PER\n");
  CHECK(LabelSet::from_string(tags.to_string(), "mem") == tags);
  CHECK(LabelSet::from_string("", "mem").size() == 0);
  std::map<std::string, std::string> meta;
  tags.to_metadata(meta, "ner_tags");
  CHECK(LabelSet::from_metadata(meta, "ner_tags") == tags);
  CHECK_THROWS_AS(LabelSet::from_metadata(meta), std::invalid_argument);

  TempDir dir;
  onestone::io::save_labels(tags, dir.file("tags.txt"));
  CHECK(LabelSet::load(dir.file("tags.txt")) == tags);

  CHECK(message_of([] { LabelSet::from_string("O\nB-PER\nO\n", "tags.txt"); }) ==
        "LabelSet::from_string: tags.txt:3: 'O' repeats line 1");
  CHECK(message_of([] { LabelSet::from_string("O\n\n", "tags.txt"); }) ==
        "LabelSet::from_string: tags.txt:2: empty line (one entry per line expected)");
  CHECK_THAT(message_of([&] { LabelSet::from_metadata(meta, "x"); }), Catch::Contains("\"x\""));
}

}  // namespace test_text_vocabulary
