// Tests for SequenceDatasetBuilder (onestone/data/sequence.hpp), the DataLoader's length
// bucketing and padding trimming (onestone/data/loader.hpp) and the synthetic text corpus
// (onestone/data/synthetic_text.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "onestone/data/loader.hpp"
#include "onestone/data/sequence.hpp"
#include "onestone/data/synthetic_text.hpp"
#include "onestone/data/text_readers.hpp"
#include "onestone/data/vocabulary.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_text_sequence {

namespace {

using onestone::Index;
using onestone::Tensor;
using namespace onestone::data;
using Ids = std::vector<std::vector<Index>>;
using Strings = std::vector<std::string>;

// N sequences with lengths 1 + (7 * i) % 23, token ids 2 + i (so the sample is readable back
// from any of its tokens), plus a class task and a tag task (tag = position % 3).
struct Corpus {
  Ids ids;
  std::vector<Index> classes;
  Ids tags;
  explicit Corpus(Index n) {
    for (Index i = 0; i < n; ++i) {
      const Index len = 1 + (7 * i) % 23;
      ids.emplace_back(static_cast<std::size_t>(len), 2 + i);
      classes.push_back(i % 4);
      std::vector<Index> t;
      for (Index j = 0; j < len; ++j) t.push_back(j % 3);
      tags.push_back(t);
    }
  }
  Dataset<float> dataset(std::vector<Index>* lengths = nullptr) const {
    SequenceDatasetBuilder<float> b(ids);
    b.add_class_target("cls", classes, 4).add_tag_target("tags", tags, 3);
    if (lengths) *lengths = b.lengths();
    return b.build();
  }
};

Index sample_of(const Batch<float>& b, Index row) {
  return static_cast<Index>(b.x[row * b.x.size(1)]) - 2;
}

}  // namespace

TEST_CASE("SequenceDatasetBuilder pads ids and tags", "[text][sequence]") {
  SequenceDatasetBuilder<float> b({{5, 6, 7}, {8}, {9, 10}}, SequenceOptions().max_length(4));
  b.add_class_target("topic", {2, -1, 0}, 3)
      .add_tag_target("ner", Ids{{1, 0, 2}, {}, {0, 1}}, 3)
      .add_class_target("mood", Strings{"", "happy", "sad"}, LabelSet(Strings{"sad", "happy"}))
      .add_tag_target("pos", std::vector<Strings>{{"N", "V", "N"}, {"V"}, {"N", "N"}},
                      LabelSet(Strings{"N", "V"}));
  CHECK(b.size() == 3);
  CHECK(b.max_length() == 4);
  CHECK(b.lengths() == std::vector<Index>{3, 1, 2});
  const Dataset<float> ds = b.build();
  REQUIRE(ds.inputs().shape() == onestone::Shape{3, 4});
  CHECK(std::vector<float>(ds.inputs().begin(), ds.inputs().end()) ==
        std::vector<float>{5, 6, 7, 0, 8, 0, 0, 0, 9, 10, 0, 0});

  const auto& topic = ds.target("topic");
  CHECK(topic.kind == TargetKind::Class);
  CHECK(topic.num_classes == 3);
  CHECK(std::vector<std::int64_t>(topic.labels.begin(), topic.labels.end()) ==
        std::vector<std::int64_t>{2, -100, 0});
  CHECK(topic.is_labelled(0));
  CHECK_FALSE(topic.is_labelled(1));

  const auto& ner = ds.target("ner");
  REQUIRE(ner.labels.shape() == onestone::Shape{3, 4});
  CHECK(std::vector<std::int64_t>(ner.labels.begin(), ner.labels.end()) ==
        std::vector<std::int64_t>{1, 0, 2, -100, -100, -100, -100, -100, 0, 1, -100, -100});
  CHECK(ner.is_labelled(0));
  CHECK_FALSE(ner.is_labelled(1));  // no tags given for sequence 1
  CHECK(ner.labelled_count() == 2);

  const auto& mood = ds.target("mood");
  CHECK(std::vector<std::int64_t>(mood.labels.begin(), mood.labels.end()) ==
        std::vector<std::int64_t>{-100, 1, 0});
  CHECK(mood.labelled_count() == 2);
  const auto& pos = ds.target("pos");
  CHECK(pos.weighted() == false);  // every sequence labelled: no weights
  CHECK(pos.labels[4] == 1);
}

TEST_CASE("SequenceDatasetBuilder truncates or refuses long sequences", "[text][sequence]") {
  SequenceDatasetBuilder<double> b({{1, 2, 3, 4, 5}, {6}}, SequenceOptions().max_length(3));
  b.add_tag_target("t", Ids{{0, 1, 0, 1, 0}, {1}}, 2);
  CHECK(b.lengths() == std::vector<Index>{3, 1});
  const auto ds = b.build();
  CHECK(std::vector<double>(ds.inputs().begin(), ds.inputs().end()) ==
        std::vector<double>{1, 2, 3, 6, 0, 0});
  CHECK(std::vector<std::int64_t>(ds.target("t").labels.begin(), ds.target("t").labels.end()) ==
        std::vector<std::int64_t>{0, 1, 0, 1, -100, -100});
  CHECK_THROWS_AS(SequenceDatasetBuilder<double>({{1, 2, 3, 4}},
                                                 SequenceOptions().max_length(3).truncate(false)),
                  std::invalid_argument);
  // max_length 0 = the longest sequence.
  CHECK(SequenceDatasetBuilder<float>({{1, 2}, {3, 4, 5}}).max_length() == 3);
  CHECK(SequenceDatasetBuilder<float>(Ids{{}, {}}).max_length() == 1);
}

TEST_CASE("SequenceDatasetBuilder validates its input", "[text][sequence]") {
  SequenceDatasetBuilder<float> b({{1, 2}, {3}});
  CHECK_THROWS_AS(b.add_class_target("c", {0}, 2), std::invalid_argument);
  CHECK_THROWS_AS(b.add_class_target("c", {0, 2}, 2), std::invalid_argument);
  CHECK_THROWS_AS(b.add_class_target("c", {0, -2}, 2), std::invalid_argument);
  CHECK_THROWS_AS(b.add_tag_target("t", Ids{{0}, {0}}, 2), std::invalid_argument);
  CHECK_THROWS_AS(b.add_tag_target("t", Ids{{0, 5}, {0}}, 2), std::invalid_argument);
  CHECK_THROWS_AS(b.add_class_target("c", Strings{"a", "zzz"}, LabelSet(Strings{"a"})),
                  std::invalid_argument);
  b.add_class_target("c", {0, 1}, 2);
  CHECK_THROWS_AS(b.add_class_target("c", {0, 1}, 2), std::invalid_argument);
  CHECK_THROWS_AS(SequenceDatasetBuilder<float>({{1, -3}}), std::invalid_argument);
  try {
    b.add_tag_target("pos", std::vector<Strings>{{"N", "X"}, {"N"}}, LabelSet(Strings{"N"}));
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("sample 0, token 1: unknown label 'X'"));
  }
}

TEST_CASE("encode_sentences maps every sentence through the vocabulary", "[text][sequence]") {
  const auto v = Vocabulary::build({{"a", "b", "a"}});
  CHECK(encode_sentences(v, {{"a", "c"}, {"b"}}) == Ids{{2, 1}, {3}});
}

TEST_CASE("bucket_by_length: every sample once, similar lengths, deterministic", "[text][loader]") {
  const Corpus c(203);
  std::vector<Index> lengths;
  const auto ds = c.dataset(&lengths);
  const auto opts = LoaderOptions().batch_size(8).seed(3).bucket_by_length(lengths, 4);
  DataLoader<float> a(ds, opts), b(ds, opts);
  Batch<float> ba, bb;
  std::vector<Index> first_epoch;
  double spread_sum = 0;
  Index batches = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    a.start_epoch();
    b.start_epoch();
    std::vector<Index> seen;
    Index small = 0;
    while (a.next(ba)) {
      REQUIRE(b.next(bb));
      CHECK(std::equal(ba.x.begin(), ba.x.end(), bb.x.begin(), bb.x.end()));
      Index lo = 1000, hi = 0;
      for (Index r = 0; r < ba.size(); ++r) {
        const Index s = sample_of(ba, r);
        seen.push_back(s);
        lo = std::min(lo, lengths[static_cast<std::size_t>(s)]);
        hi = std::max(hi, lengths[static_cast<std::size_t>(s)]);
      }
      small += ba.size() < 8 ? 1 : 0;
      spread_sum += static_cast<double>(hi - lo);
      ++batches;
    }
    CHECK_FALSE(b.next(bb));
    CHECK(small == 1);  // 203 = 25 * 8 + 3
    std::vector<Index> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    std::vector<Index> all(203);
    for (Index i = 0; i < 203; ++i) all[static_cast<std::size_t>(i)] = i;
    CHECK(sorted == all);
    if (epoch == 0) first_epoch = seen;
    if (epoch == 1) CHECK(seen != first_epoch);  // a new order each epoch
  }
  // Lengths spread over 1..23; sorted windows of 32 samples make batches far tighter than a
  // random batch (expected range about 17).
  CHECK(spread_sum / static_cast<double>(batches) < 8.0);

  // The same seed gives the same batches; another seed another order.
  DataLoader<float> other(ds, LoaderOptions().batch_size(8).seed(4).bucket_by_length(lengths, 4));
  other.start_epoch();
  DataLoader<float> same(ds, opts);
  same.start_epoch();
  CHECK(other.permutation() != same.permutation());
}

TEST_CASE("bucket_by_length: state() / set_state() resume exactly", "[text][loader]") {
  const Corpus c(77);
  std::vector<Index> lengths;
  const auto ds = c.dataset(&lengths);
  for (bool drop_last : {false, true}) {
    const auto opts =
        LoaderOptions().batch_size(5).seed(11).drop_last(drop_last).bucket_by_length(lengths, 3);
    DataLoader<float> ref(ds, opts);
    CHECK(ref.num_batches() == (drop_last ? 15 : 16));
    Batch<float> batch;
    std::vector<std::vector<float>> ref_batches;
    ref.start_epoch();
    ref.next(batch);
    ref.next(batch);
    ref.next(batch);
    const auto st = ref.state();
    while (ref.next(batch)) ref_batches.emplace_back(batch.x.begin(), batch.x.end());
    CHECK(static_cast<Index>(ref_batches.size()) == ref.num_batches() - 3);
    ref.start_epoch();
    while (ref.next(batch)) ref_batches.emplace_back(batch.x.begin(), batch.x.end());

    DataLoader<float> resumed(ds, opts);
    resumed.set_state(st);
    std::vector<std::vector<float>> got;
    while (resumed.next(batch)) got.emplace_back(batch.x.begin(), batch.x.end());
    resumed.start_epoch();
    while (resumed.next(batch)) got.emplace_back(batch.x.begin(), batch.x.end());
    CHECK(got == ref_batches);

    // A cursor that is not at a batch boundary is refused, and the loader keeps its position.
    auto bad = st;
    bad.cursor += 1;
    DataLoader<float> c2(ds, opts);
    c2.start_epoch();
    c2.next(batch);
    const auto before = c2.state();
    const auto perm = c2.permutation();
    CHECK_THROWS_AS(c2.set_state(bad), std::invalid_argument);
    CHECK(c2.permutation() == perm);
    CHECK(c2.state().cursor == before.cursor);
  }
}

TEST_CASE("bucket_by_length with drop_last drops only the smaller batch", "[text][loader]") {
  const Corpus c(43);
  std::vector<Index> lengths;
  const auto ds = c.dataset(&lengths);
  DataLoader<float> l(ds, LoaderOptions().batch_size(10).drop_last(true).bucket_by_length(lengths));
  Batch<float> b;
  Index n = 0, count = 0;
  while (l.next(b)) {
    CHECK(b.size() == 10);
    n += b.size();
    ++count;
  }
  CHECK(count == 4);
  CHECK(n == 40);
  // Without shuffling the order is the sorted one.
  DataLoader<float> s(ds, LoaderOptions().batch_size(10).shuffle(false).bucket_by_length(lengths));
  s.start_epoch();
  const auto& p = s.permutation();
  for (std::size_t i = 1; i < p.size(); ++i)
    CHECK(lengths[static_cast<std::size_t>(p[i - 1])] <= lengths[static_cast<std::size_t>(p[i])]);
}

TEST_CASE("bucket_by_length / trim_padding option checks", "[text][loader]") {
  const Corpus c(10);
  std::vector<Index> lengths;
  const auto ds = c.dataset(&lengths);
  CHECK_THROWS_AS(DataLoader<float>(ds, LoaderOptions().bucket_by_length({1, 2})),
                  std::invalid_argument);
  CHECK_THROWS_AS(DataLoader<float>(ds, LoaderOptions().bucket_by_length(lengths, 0)),
                  std::invalid_argument);
  auto neg = lengths;
  neg[3] = -1;
  CHECK_THROWS_AS(DataLoader<float>(ds, LoaderOptions().bucket_by_length(neg)),
                  std::invalid_argument);
  Dataset<float> images(Tensor<float>({4, 1, 2, 2}));
  CHECK_THROWS_AS(DataLoader<float>(images, LoaderOptions().trim_padding(0)),
                  std::invalid_argument);
  CHECK(LoaderOptions().bucketing() == false);
  CHECK(LoaderOptions().trims_padding() == false);
}

TEST_CASE("trim_padding cuts x and [N, L] targets to the batch's longest sequence",
          "[text][loader]") {
  SequenceDatasetBuilder<float> builder({{3, 4}, {5, 0, 6}, {7}, {8, 9, 10, 11, 12}},
                                        SequenceOptions().max_length(6));
  builder.add_tag_target("tags", Ids{{1, 1}, {0, 1, 0}, {1}, {0, 0, 0, 0, 1}}, 2)
      .add_class_target("cls", {0, 1, 0, 1}, 2);
  const auto ds = builder.build();
  DataLoader<float> l(ds, LoaderOptions().batch_size(2).shuffle(false).trim_padding(0));
  Batch<float> b;
  REQUIRE(l.next(b));  // samples 0, 1: longest 3 (the inner pad id 0 of sample 1 is kept)
  REQUIRE(b.x.shape() == onestone::Shape{2, 3});
  CHECK(std::vector<float>(b.x.begin(), b.x.end()) == std::vector<float>{3, 4, 0, 5, 0, 6});
  const auto& tags = b.target("tags").labels;
  REQUIRE(tags.shape() == onestone::Shape{2, 3});
  CHECK(std::vector<std::int64_t>(tags.begin(), tags.end()) ==
        std::vector<std::int64_t>{1, 1, -100, 0, 1, 0});
  CHECK(b.target("cls").labels.shape() == onestone::Shape{2});
  REQUIRE(l.next(b));  // samples 2, 3: longest 5
  REQUIRE(b.x.shape() == onestone::Shape{2, 5});
  CHECK(std::vector<float>(b.x.begin(), b.x.end()) ==
        std::vector<float>{7, 0, 0, 0, 0, 8, 9, 10, 11, 12});
  CHECK(b.target("tags").labels.shape() == onestone::Shape{2, 5});
  CHECK(b.target("tags").labels[9] == 1);
  CHECK_FALSE(l.next(b));
}

TEST_CASE("trim_padding with bucketing reuses the batch buffers", "[text][loader]") {
  const Corpus c(300);
  std::vector<Index> lengths;
  const auto ds = c.dataset(&lengths);
  DataLoader<float> l(
      ds, LoaderOptions().batch_size(16).seed(2).bucket_by_length(lengths, 5).trim_padding(0));
  Batch<float> b;
  // Warm up: one full epoch brings every buffer to its largest size.
  while (l.next(b)) {
  }
  const float* x_data = b.x.data();
  const std::int64_t* tag_data = b.target("tags").labels.data();
  double width_sum = 0;
  Index batches = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    l.start_epoch();
    while (l.next(b)) {
      CHECK(b.x.data() == x_data);  // no reallocation
      CHECK(b.target("tags").labels.data() == tag_data);
      // The width is the batch's longest length; tags match x.
      Index longest = 0;
      for (Index r = 0; r < b.size(); ++r)
        longest = std::max(longest, lengths[static_cast<std::size_t>(sample_of(b, r))]);
      CHECK(b.x.size(1) == longest);
      CHECK(b.target("tags").labels.size(1) == longest);
      width_sum += static_cast<double>(b.x.size(1));
      ++batches;
    }
  }
  CHECK(width_sum / static_cast<double>(batches) < 20.0);  // padded width is 23
}

TEST_CASE("bucketing does not change the plain loader", "[text][loader]") {
  const Corpus c(50);
  const auto ds = c.dataset();
  DataLoader<float> a(ds, LoaderOptions().batch_size(7).seed(9));
  DataLoader<float> b(ds, LoaderOptions().batch_size(7).seed(9).bucket_by_length({}));
  a.start_epoch();
  b.start_epoch();
  CHECK(a.permutation() == b.permutation());
}

TEST_CASE("make_synthetic_text: shapes, tasks, determinism", "[text][synthetic]") {
  const auto opts = SyntheticTextOptions().samples(600).seed(5);
  const auto t = make_synthetic_text<float>(opts);
  const auto& ds = t.dataset;
  REQUIRE(ds.inputs().shape() == onestone::Shape{600, 32});
  CHECK(ds.num_tasks() == 3);
  CHECK(ds.target("topic").num_classes == 4);
  CHECK(ds.target("sentiment").num_classes == 3);
  CHECK(ds.target("ner").num_classes == 7);
  CHECK(ds.target("ner").labels.shape() == onestone::Shape{600, 32});
  CHECK(t.topic_names == Strings{"sports", "politics", "technology", "business"});
  CHECK(t.sentiment_names == Strings{"negative", "neutral", "positive"});
  CHECK(t.tag_names == Strings{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"});
  REQUIRE(t.tokens.size() == 600);
  REQUIRE(t.lengths.size() == 600);

  Index min_len = 100, max_len = 0;
  std::set<Index> distinct;
  std::map<std::string, int> entity_tags;
  for (Index i = 0; i < 600; ++i) {
    const auto& words = t.tokens[static_cast<std::size_t>(i)];
    const Index n = t.lengths[static_cast<std::size_t>(i)];
    CHECK(static_cast<Index>(words.size()) == n);
    min_len = std::min(min_len, n);
    max_len = std::max(max_len, n);
    distinct.insert(n);
    for (Index j = 0; j < 32; ++j) {
      const Index id = static_cast<Index>(ds.inputs()[i * 32 + j]);
      const std::int64_t tag = ds.target("ner").labels[i * 32 + j];
      if (j < n) {
        CHECK(t.vocabulary.token(id) == words[static_cast<std::size_t>(j)]);
        REQUIRE(tag >= 0);
        REQUIRE(tag < 7);
        ++entity_tags[t.tag_names[static_cast<std::size_t>(tag)]];
        // I-X only continues B-X or I-X.
        if (tag == 2 || tag == 4 || tag == 6) {
          REQUIRE(j > 0);
          const auto prev = ds.target("ner").labels[i * 32 + j - 1];
          CHECK((prev == tag || prev == tag - 1));
        }
      } else {
        CHECK(id == 0);
        CHECK(tag == -100);
      }
    }
  }
  CHECK(min_len >= 8);
  CHECK(max_len <= 30);
  CHECK(distinct.size() >= 10);
  for (const char* tag : {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"})
    CHECK(entity_tags[tag] > 0);
  // Every class occurs.
  for (const char* task : {"topic", "sentiment"}) {
    std::set<std::int64_t> classes(ds.target(task).labels.begin(), ds.target(task).labels.end());
    CHECK(static_cast<Index>(classes.size()) == ds.target(task).num_classes);
  }

  const auto again = make_synthetic_text<float>(opts);
  CHECK(again.tokens == t.tokens);
  CHECK(again.vocabulary == t.vocabulary);
  CHECK(std::equal(again.dataset.inputs().begin(), again.dataset.inputs().end(),
                   ds.inputs().begin()));
  const auto other = make_synthetic_text<float>(SyntheticTextOptions().samples(600).seed(6));
  CHECK(other.tokens != t.tokens);

  CHECK_THROWS_AS(make_synthetic_text<float>(SyntheticTextOptions().max_length(7)),
                  std::invalid_argument);
  CHECK_THROWS_AS(make_synthetic_text<float>(SyntheticTextOptions().samples(0)),
                  std::invalid_argument);
  CHECK_THROWS_AS(make_synthetic_text<float>(SyntheticTextOptions().label_noise(1.0)),
                  std::invalid_argument);
  const auto short_text =
      make_synthetic_text<double>(SyntheticTextOptions().samples(50).max_length(12));
  for (auto n : short_text.lengths) CHECK(n <= 12);
}

TEST_CASE("make_synthetic_text: label noise is about the requested rate", "[text][synthetic]") {
  const auto clean =
      make_synthetic_text<float>(SyntheticTextOptions().samples(3000).label_noise(0));
  const auto noisy =
      make_synthetic_text<float>(SyntheticTextOptions().samples(3000).label_noise(0.2));
  // The noise draws come after each sentence's, so the sentences differ between the two; count
  // label changes relative to the sentiment-word rule instead: a sentence ending its sentiment
  // phrase with a positive word without negation is positive in the clean corpus.
  auto agreement = [](const SyntheticText<float>& t) {
    double agree = 0, total = 0;
    for (std::size_t i = 0; i < t.tokens.size(); ++i) {
      const auto& w = t.tokens[i];
      const bool has_but = std::find(w.begin(), w.end(), "but") != w.end();
      const bool has_not = std::find(w.begin(), w.end(), "not") != w.end();
      const bool excellent = std::find(w.begin(), w.end(), "excellent") != w.end();
      if (has_but || has_not || !excellent) continue;
      total += 1;
      agree += t.dataset.target("sentiment").labels[static_cast<Index>(i)] == 2 ? 1 : 0;
    }
    return agree / total;
  };
  CHECK(agreement(clean) == 1.0);
  CHECK(agreement(noisy) == Approx(0.8).margin(0.08));
}

TEST_CASE("TSV to dataset: missing labels become weight 0", "[text][sequence]") {
  const auto table = parse_tsv(
      "text\ttopic\tsentiment\nGreat match!\tsports\tpositive\nNew chip\ttechnology\t\n"
      "Vote, delayed\t\tnegative\n",
      "mem");
  std::vector<Strings> words;
  for (const auto& t : table.texts) words.push_back(tokenize(t));
  const auto vocab = Vocabulary::build(words);
  SequenceDatasetBuilder<float> b(encode_sentences(vocab, words));
  for (std::size_t k = 0; k < table.labels.size(); ++k)
    b.add_class_target(table.label_names[k], table.labels[k],
                       LabelSet::from_labels(table.labels[k], LabelOrder::Sorted));
  const auto ds = b.build();
  CHECK(ds.inputs().shape() == onestone::Shape{3, 3});
  CHECK(vocab.token(static_cast<Index>(ds.inputs()[0])) == "great");
  const auto& topic = ds.target("topic");
  CHECK(topic.num_classes == 2);  // sports, technology
  CHECK(topic.labels[0] == 0);
  CHECK(topic.labels[1] == 1);
  CHECK_FALSE(topic.is_labelled(2));
  const auto& senti = ds.target("sentiment");
  CHECK(senti.num_classes == 2);  // negative, positive
  CHECK(senti.labels[0] == 1);
  CHECK_FALSE(senti.is_labelled(1));
  CHECK(senti.labels[2] == 0);
}

}  // namespace test_text_sequence
