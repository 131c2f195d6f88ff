// Tests for extract_spans and the SpanF1 metric (onestone/metrics/span_f1.hpp); the expected
// chunks and counts are derived by hand from conlleval's rules.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "onestone/data/dataset.hpp"
#include "onestone/metrics/span_f1.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_text_span_f1 {

namespace {

using onestone::Index;
using onestone::Tensor;
using onestone::metrics::extract_spans;
using onestone::metrics::Span;
using onestone::metrics::SpanF1;
using Spans = std::vector<Span>;
using Strings = std::vector<std::string>;

double value_of(const onestone::metrics::Metric<float>& m, const std::string& name) {
  std::vector<onestone::metrics::MetricValue> v;
  m.values(v);
  for (const auto& x : v)
    if (x.name == name) return x.value;
  FAIL("no value " << name);
  return 0;
}

}  // namespace

TEST_CASE("extract_spans reads BIO chunks", "[text][span_f1]") {
  CHECK(extract_spans({"B-PER", "I-PER", "O", "B-LOC"}) == Spans{{"PER", 0, 2}, {"LOC", 3, 4}});
  CHECK(extract_spans({}).empty());
  CHECK(extract_spans({"O", "O"}).empty());
  // B after B of the same type starts a new chunk.
  CHECK(extract_spans({"B-ORG", "B-ORG", "I-ORG"}) == Spans{{"ORG", 0, 1}, {"ORG", 1, 3}});
  // A chunk running to the end of the sentence.
  CHECK(extract_spans({"O", "B-MISC", "I-MISC"}) == Spans{{"MISC", 1, 3}});
}

TEST_CASE("extract_spans: I without B starts a chunk, as conlleval does", "[text][span_f1]") {
  CHECK(extract_spans({"O", "I-PER", "I-PER", "O"}) == Spans{{"PER", 1, 3}});
  CHECK(extract_spans({"I-MISC"}) == Spans{{"MISC", 0, 1}});
  // I-X after O-separated X chunk: a new chunk.
  CHECK(extract_spans({"B-PER", "O", "I-PER"}) == Spans{{"PER", 0, 1}, {"PER", 2, 3}});
}

TEST_CASE("extract_spans: a type change ends the chunk", "[text][span_f1]") {
  CHECK(extract_spans({"B-PER", "I-LOC", "I-LOC"}) == Spans{{"PER", 0, 1}, {"LOC", 1, 3}});
  CHECK(extract_spans({"I-PER", "I-LOC", "B-LOC"}) ==
        Spans{{"PER", 0, 1}, {"LOC", 1, 2}, {"LOC", 2, 3}});
}

TEST_CASE("extract_spans: IOBES and prefix-less tags", "[text][span_f1]") {
  CHECK(extract_spans({"S-PER", "B-LOC", "E-LOC", "E-LOC"}) ==
        Spans{{"PER", 0, 1}, {"LOC", 1, 3}, {"LOC", 3, 4}});
  CHECK(extract_spans({"S-PER", "S-PER"}) == Spans{{"PER", 0, 1}, {"PER", 1, 2}});
  CHECK(extract_spans({"PER", "PER", "O", "LOC"}) == Spans{{"PER", 0, 2}, {"LOC", 3, 4}});
  CHECK(extract_spans({"", "B-X"}) == Spans{{"X", 1, 2}});
}

TEST_CASE("SpanF1 counts exact chunks (update_tags)", "[text][span_f1]") {
  SpanF1<float> m({"O", "B-PER", "I-PER"});
  // gold PER[0,2) LOC[3,4); predicted PER[0,2) ORG[3,4): 1 correct of 2 / 2.
  m.update_tags({"B-PER", "I-PER", "O", "B-LOC"}, {"B-PER", "I-PER", "O", "B-ORG"});
  CHECK(value_of(m, "span_precision") == Approx(0.5));
  CHECK(value_of(m, "span_recall") == Approx(0.5));
  CHECK(value_of(m, "span_f1") == Approx(0.5));
  // gold ORG[0,2); predicted ORG[0,1): boundaries differ, not correct.
  m.update_tags({"B-ORG", "I-ORG", "O"}, {"B-ORG", "O", "O"});
  CHECK(m.counts().correct == 1);
  CHECK(m.counts().predicted == 3);
  CHECK(m.counts().gold == 3);
  CHECK(value_of(m, "span_f1") == Approx(1.0 / 3));
  // A predicted I-PER without B is a chunk too: precision 1/4, recall 1/3, F1 2/7.
  m.update_tags({"O", "O"}, {"I-PER", "O"});
  CHECK(value_of(m, "span_precision") == Approx(0.25));
  CHECK(value_of(m, "span_recall") == Approx(1.0 / 3));
  CHECK(value_of(m, "span_f1") == Approx(2.0 / 7));
  CHECK(m.per_type().at("PER").correct == 1);
  CHECK(m.per_type().at("PER").predicted == 2);
  CHECK(m.per_type().at("LOC").gold == 1);
  CHECK(m.per_type().at("LOC").predicted == 0);
  CHECK(m.per_type().at("ORG").gold == 1);
  CHECK(m.per_type().at("ORG").predicted == 2);
  CHECK_THROWS_AS(m.update_tags({"O"}, {}), std::invalid_argument);

  m.reset();
  CHECK(value_of(m, "span_f1") == 0.0);
  CHECK(m.counts().gold == 0);
  m.update_tags({"B-PER"}, {"B-PER"});
  CHECK(value_of(m, "span_f1") == 1.0);
}

TEST_CASE("SpanF1 on scores [N, C, L] skips padding and unlabelled sentences", "[text][span_f1]") {
  const Strings tags = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
  SpanF1<float> m(tags);
  CHECK(m.name() == "span_f1");
  const Index N = 3, C = 5, L = 4;
  const std::vector<std::vector<Index>> pred = {{1, 2, 0, 1}, {3, 0, 2, 2}, {0, 0, 0, 0}};
  Tensor<float> scores({N, C, L});
  for (Index n = 0; n < N; ++n)
    for (Index i = 0; i < L; ++i)
      for (Index c = 0; c < C; ++c)
        scores[n * C * L + c * L + i] =
            c == pred[static_cast<std::size_t>(n)][static_cast<std::size_t>(i)] ? 2.f : -1.f;
  onestone::data::Target<float> t;
  t.name = "ner";
  t.num_classes = C;
  t.labels = Tensor<std::int64_t>::from({1, 2, 0, 3, 3, 4, -100, -100, 1, 2, 2, 2}, {N, L});
  t.weight = Tensor<float>::from({1.f, 1.f, 0.f}, {N});
  m.update(scores, t);
  // Sentence 0: gold PER[0,2) LOC[3,4), predicted PER[0,2) PER[3,4) -> 1 correct.
  // Sentence 1: gold LOC[0,2), predicted LOC[0,1); the padded positions (predicted I-PER) are
  // skipped. Sentence 2 has weight 0.
  CHECK(m.counts().gold == 3);
  CHECK(m.counts().predicted == 3);
  CHECK(m.counts().correct == 1);
  CHECK(value_of(m, "span_f1") == Approx(1.0 / 3));

  std::vector<onestone::metrics::MetricValue> v;
  m.values(v);
  REQUIRE(v.size() == 3);
  CHECK(v[0].name == "span_f1");
  CHECK(v[0].higher_is_better);

  auto fresh = m.clone();
  CHECK(value_of(*fresh, "span_f1") == 0.0);

  // Shape and label checks.
  CHECK_THROWS_AS(m.update(Tensor<float>({N, C}), t), std::invalid_argument);
  CHECK_THROWS_AS(m.update(Tensor<float>({N, 4, L}), t), std::invalid_argument);
  auto bad = t;
  bad.labels[0] = 9;
  CHECK_THROWS_AS(m.update(scores, bad), std::invalid_argument);
  CHECK_THROWS_AS(SpanF1<float>({}), std::invalid_argument);
}

}  // namespace test_text_span_f1
