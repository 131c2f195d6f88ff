#pragma once
/// @file synthetic_text.hpp
/// A synthetic multi-task text corpus, generated in-process: templated news-like sentences
/// with three tasks — the sentence's topic, its sentiment and the named entities in it (BIO
/// tags) — for examples and tests of text models without a download.
///
/// Recipe (each sentence, drawn from one `Generator` seeded with `seed`):
/// 1. The topic (sports, politics, technology, business) and the sentiment (negative, neutral,
///    positive) are drawn uniformly.
/// 2. A template is drawn from a pool shared by every topic (so the sentence's shape says
///    nothing about its topic). Its slots are filled as follows:
///    - topic word `{T}`: from the topic's own list with probability 0.85, otherwise from
///      another topic's (a distractor);
///    - ambiguous word `{A}`: a word shared by two or three topics ("record", "deal",
///      "launch", ...) that is compatible with the topic;
///    - entities `{PER}` (first name + surname), `{ORG}` (1–3 tokens), `{LOC}` (1–3 tokens):
///      from the topic's pool with probability 0.65, otherwise from another topic's, so that
///      entities and topics are correlated but not tied; some words are both a surname and a
///      place ("jordan", "washington"), so NER needs context;
///    - sentiment `{S}`: a positive or negative word or phrase, a neutral phrase, or a
///      negation: "not" + positive word is negative, "not" + negative word is neutral; with
///      probability 0.15 a contrast "<other sentiment> but <phrase>", where the phrase after
///      "but" decides (word order matters);
///    - fillers `{F}`: 0–2 words from a list shared by all topics.
///    Up to two optional clauses (each with probability 0.5, e.g. ", while {ORG} stayed
///    quiet", "during the {T}") lengthen the sentence, with more slots of the same kinds.
/// 3. Sentences shorter than 8 tokens get filler words in front; a sentence longer than
///    min(30, max_length) tokens is drawn again, so lengths lie in [8, min(30, max_length)].
/// 4. With probability `label_noise` the topic label, and independently the sentiment label,
///    is replaced by a different class drawn uniformly (NER tags are never noisy).
/// Some templates carry a single topic word (or none), so even a perfect reader cannot always
/// tell the topic: a small Transformer reaches roughly 80–95% topic accuracy, not 100%. (For
/// reference, a bag-of-words naive Bayes trained on 6000 sentences of seed 1 scores about 83%
/// topic and 77% sentiment accuracy on 2000 more; sentiment needs word order — negation and
/// "but" — which a Transformer can use and naive Bayes cannot.)
///
/// The same options and seed always give the same corpus (the `Generator` is portable).

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/sequence.hpp"
#include "onestone/data/vocabulary.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone::data {

/// Options of `make_synthetic_text`.
///
/// Fields: `samples` (default 4000), `seed` (default 0), `max_length` (default 32: the padded
/// length L, at least 8; sentences have 8 … min(30, L) tokens), `label_noise` (default 0.05:
/// probability that a sentence's topic label, and separately its sentiment label, is replaced
/// by another class; in [0, 1)).
///
/// @code
/// auto opts = onestone::data::SyntheticTextOptions().samples(2000).seed(3);
/// @endcode
struct SyntheticTextOptions {
  SyntheticTextOptions& samples(Index v) {
    samples_ = v;
    return *this;
  }
  SyntheticTextOptions& seed(std::uint64_t v) {
    seed_ = v;
    return *this;
  }
  SyntheticTextOptions& max_length(Index v) {
    max_length_ = v;
    return *this;
  }
  SyntheticTextOptions& label_noise(double v) {
    label_noise_ = v;
    return *this;
  }
  Index samples() const { return samples_; }
  std::uint64_t seed() const { return seed_; }
  Index max_length() const { return max_length_; }
  double label_noise() const { return label_noise_; }

 private:
  Index samples_ = 4000;
  std::uint64_t seed_ = 0;
  Index max_length_ = 32;
  double label_noise_ = 0.05;
};

/// The corpus made by `make_synthetic_text`:
/// - `dataset`: inputs `[N, L]` (token ids as T, 0 = "<pad>") and the targets "topic" `[N]`
///   (4 classes), "sentiment" `[N]` (3 classes), "ner" `[N, L]` (7 tags, −100 at padding);
/// - `vocabulary`: ids of every word of the corpus;
/// - `topic_names`, `sentiment_names`, `tag_names`: class names of the three tasks, by id;
/// - `tokens`: each sentence's words; `lengths`: each sentence's length.
///
/// @code
/// auto text = onestone::data::make_synthetic_text<float>();
/// const std::string& first = text.vocabulary.token(onestone::Index(text.dataset.inputs()[0]));
/// @endcode
template <class T>
struct SyntheticText {
  Dataset<T> dataset;
  Vocabulary vocabulary;
  std::vector<std::string> topic_names;
  std::vector<std::string> sentiment_names;
  std::vector<std::string> tag_names;
  std::vector<std::vector<std::string>> tokens;
  std::vector<Index> lengths;
};

/// Names of the synthetic topics: sports, politics, technology, business.
inline const std::vector<std::string>& synthetic_topic_names() {
  static const std::vector<std::string> n = {"sports", "politics", "technology", "business"};
  return n;
}
/// Names of the synthetic sentiments: negative, neutral, positive.
inline const std::vector<std::string>& synthetic_sentiment_names() {
  static const std::vector<std::string> n = {"negative", "neutral", "positive"};
  return n;
}
/// The BIO tags of the synthetic NER task: O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC.
inline const std::vector<std::string>& synthetic_tag_names() {
  static const std::vector<std::string> n = {"O",     "B-PER", "I-PER", "B-ORG",
                                             "I-ORG", "B-LOC", "I-LOC"};
  return n;
}

namespace detail {

/// Word pools of the synthetic corpus generator (internal).
struct SyntheticTextPools {
  using Words = std::vector<std::string>;
  std::vector<Words> topic_words;                                   // [topic] single words
  std::vector<std::pair<std::string, std::vector<int>>> ambiguous;  // word, its topics
  Words fillers, first_names;
  std::vector<Words> surnames;                     // [topic]
  std::vector<std::vector<Words>> orgs;            // [topic][entity] tokens
  std::vector<std::vector<Words>> locs;            // [topic][entity] tokens
  std::vector<Words> positive, negative, neutral;  // phrases
  Words positive_words, negative_words;            // negatable single words
  std::vector<Words> templates;
  std::vector<Words> tails;  // optional clauses appended to a template

  static const SyntheticTextPools& get() {
    static const SyntheticTextPools p = make();
    return p;
  }

 private:
  static SyntheticTextPools make() {
    SyntheticTextPools p;
    p.topic_words = {{"match", "team", "goal", "season", "coach", "league", "tournament", "stadium",
                      "championship", "striker", "playoffs", "referee"},
                     {"election", "minister", "parliament", "vote", "policy", "campaign", "senate",
                      "law", "government", "debate", "coalition", "reform"},
                     {"software", "chip", "startup", "app", "device", "network", "algorithm",
                      "cloud", "robot", "smartphone", "platform", "update"},
                     {"market", "shares", "profit", "company", "investors", "revenue", "merger",
                      "stock", "earnings", "quarter", "retailer", "bank"}};
    p.ambiguous = {{"record", {0, 3}},    {"win", {0, 1}},         {"deal", {1, 3}},
                   {"launch", {2, 3}},    {"rally", {0, 1, 3}},    {"contract", {0, 3}},
                   {"leader", {0, 1, 3}}, {"strategy", {1, 2, 3}}, {"results", {0, 1, 3}},
                   {"plan", {1, 2, 3}},   {"transfer", {0, 3}},    {"security", {1, 2}}};
    p.fillers = {"the",        "a",       "on",     "at",    "yesterday",  "today", "this",
                 "week",       "after",   "before", "again", "also",       "many",  "some",
                 "reportedly", "finally", "late",   "early", "officially", "still"};
    p.first_names = {"james", "maria", "li",    "ahmed", "sofia", "david",
                     "elena", "kenji", "grace", "omar",  "lucas", "anna"};
    p.surnames = {{"silva", "moreno", "okafor", "jensen", "jordan"},
                  {"harrington", "dubois", "novak", "mensah", "washington"},
                  {"tanaka", "patel", "larsen", "kim", "nakamura"},
                  {"goldberg", "rossi", "schmidt", "chen", "morgan"}};
    p.orgs = {
        {{"red", "lions"}, {"city", "rovers"}, {"northern", "united", "fc"}, {"olympia"}},
        {{"national", "party"}, {"green", "alliance"}, {"labour", "front"}, {"unesco"}},
        {{"nova", "labs"}, {"bitwave", "systems"}, {"quantum", "cloud", "inc"}, {"zentro"}},
        {{"atlas", "capital"}, {"summit", "holdings"}, {"first", "harbor", "bank"}, {"meridian"}}};
    p.locs = {{{"madrid"}, {"manchester"}, {"rio", "de", "janeiro"}, {"jordan"}},
              {{"washington"}, {"brussels"}, {"geneva"}, {"paris"}},
              {{"san", "francisco"}, {"seoul"}, {"bangalore"}, {"tokyo"}},
              {{"new", "york"}, {"london"}, {"frankfurt"}, {"hong", "kong"}}};
    p.positive = {{"great"},      {"excellent"},           {"impressive"},
                  {"strong"},     {"a", "big", "success"}, {"good", "news"},
                  {"remarkable"}, {"very", "good"}};
    p.negative = {{"terrible"},     {"disappointing"}, {"weak"},  {"a", "disaster"},
                  {"a", "failure"}, {"bad", "news"},   {"awful"}, {"poor"}};
    p.neutral = {{"as", "expected"}, {"routine"}, {"unchanged"},
                 {"on", "schedule"}, {"mixed"},   {"ordinary"}};
    p.positive_words = {"good", "great", "impressive", "strong", "excellent"};
    p.negative_words = {"bad", "terrible", "weak", "awful", "poor"};
    auto split = [](const std::string& s) {
      Words w;
      std::string cur;
      for (char c : s) {
        if (c == ' ') {
          if (!cur.empty()) w.push_back(cur);
          cur.clear();
        } else {
          cur.push_back(c);
        }
      }
      if (!cur.empty()) w.push_back(cur);
      return w;
    };
    for (const char* t :
         {"{F} {PER} said the {T} in {LOC} was {S} {F}", "{ORG} {T} {A} {F} {S} according to {PER}",
          "in {LOC} , the {T} of {ORG} looked {S} {F}", "{F} {PER} of {ORG} called the {A} {S}",
          "the {T} and the {T} were {S} , {PER} told reporters in {LOC}",
          "{F} reports from {LOC} say the {A} was {S}",
          "{ORG} and {ORG} expect the {T} to be {S} {F}", "{PER} : \" the {T} is {S} \" {F}",
          "{F} the {A} by {ORG} in {LOC} is {S} , said {PER}",
          "fans of {ORG} think the {T} will be {S} {F}",
          "{PER} and {PER} met in {LOC} ; the {A} was {S}", "{F} critics say {ORG} {T} {T} is {S}"})
      p.templates.push_back(split(t));
    for (const char* t :
         {", while {ORG} stayed quiet", "in {LOC} {F}", ", {F} sources said",
          "after the {A} in {LOC}", "during the {T} {F}", ", and {PER} expects more {T} news {F}",
          "as the {T} continues", "; {ORG} declined to comment on the {T}"})
      p.tails.push_back(split(t));
    return p;
  }
};

// Appends `words` to the sentence with the tag `tag` (B-/I- for an entity, O otherwise).
inline void synthetic_put(std::vector<std::string>& toks, std::vector<Index>& tags,
                          const std::vector<std::string>& words, Index b_tag) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    toks.push_back(words[i]);
    tags.push_back(b_tag == 0 ? 0 : (i == 0 ? b_tag : b_tag + 1));
  }
}

template <class V>
const V& synthetic_pick(Generator& g, const std::vector<V>& v) {
  return v[static_cast<std::size_t>(g.below(v.size()))];
}

// A topic index: `topic` with probability `own`, else a different one.
inline int synthetic_topic_draw(Generator& g, int topic, double own) {
  if (g.bernoulli(own)) return topic;
  return static_cast<int>((topic + 1 + static_cast<int>(g.below(3))) % 4);
}

// Sentiment phrase for `label`: returns its words.
inline std::vector<std::string> synthetic_sentiment(Generator& g, const SyntheticTextPools& p,
                                                    int label) {
  const double u = g.uniform();
  if (label == 2) return synthetic_pick(g, p.positive);
  if (label == 0) {
    if (u < 0.35) return {"not", synthetic_pick(g, p.positive_words)};
    return synthetic_pick(g, p.negative);
  }
  if (u < 0.35) return {"not", synthetic_pick(g, p.negative_words)};
  return synthetic_pick(g, p.neutral);
}

}  // namespace detail

/// Makes the synthetic text corpus described in the file comment.
///
/// @tparam T element type of the dataset.
/// @param options `SyntheticTextOptions` (samples, seed, max_length, label_noise)
/// @throws std::invalid_argument for `samples < 1`, `max_length < 8` or `label_noise`
///         outside [0, 1)
///
/// @code
/// auto text = onestone::data::make_synthetic_text<float>(
///     onestone::data::SyntheticTextOptions().samples(4000).seed(1));
/// auto [train, valid] = text.dataset.split(0.8, 1);
/// // text.vocabulary.size() words, text.tag_names = {"O", "B-PER", ...}
/// @endcode
template <class T>
SyntheticText<T> make_synthetic_text(const SyntheticTextOptions& options = SyntheticTextOptions()) {
  if (options.samples() < 1)
    throw std::invalid_argument("make_synthetic_text: samples must be >= 1, got " +
                                std::to_string(options.samples()));
  if (options.max_length() < 8)
    throw std::invalid_argument("make_synthetic_text: max_length must be >= 8, got " +
                                std::to_string(options.max_length()));
  if (!(options.label_noise() >= 0.0 && options.label_noise() < 1.0))
    throw std::invalid_argument("make_synthetic_text: label_noise must lie in [0, 1), got " +
                                std::to_string(options.label_noise()));
  const auto& p = detail::SyntheticTextPools::get();
  const Index cap = std::min<Index>(30, options.max_length());
  const auto N = static_cast<std::size_t>(options.samples());
  Generator g(options.seed());
  std::vector<std::vector<std::string>> sentences(N);
  std::vector<std::vector<Index>> tags(N);
  std::vector<Index> topics(N), sentiments(N);
  constexpr Index kPer = 1, kOrg = 3, kLoc = 5;
  constexpr double kOwnTopicWord = 0.85, kOwnEntity = 0.65, kContrast = 0.15, kTail = 0.5;
  for (std::size_t n = 0; n < N; ++n) {
    const int topic = static_cast<int>(g.below(4));
    const int senti = static_cast<int>(g.below(3));
    auto& toks = sentences[n];
    auto& tg = tags[n];
    for (;;) {
      toks.clear();
      tg.clear();
      // The template, then up to two optional clauses.
      std::vector<std::string> tpl = detail::synthetic_pick(g, p.templates);
      for (int k = 0; k < 2; ++k)
        if (g.bernoulli(kTail)) {
          const auto& tail = detail::synthetic_pick(g, p.tails);
          tpl.insert(tpl.end(), tail.begin(), tail.end());
        }
      for (const std::string& slot : tpl) {
        if (slot == "{T}") {
          const int t = detail::synthetic_topic_draw(g, topic, kOwnTopicWord);
          detail::synthetic_put(toks, tg, {detail::synthetic_pick(g, p.topic_words[t])}, 0);
        } else if (slot == "{A}") {
          for (;;) {
            const auto& a = detail::synthetic_pick(g, p.ambiguous);
            if (std::find(a.second.begin(), a.second.end(), topic) == a.second.end()) continue;
            detail::synthetic_put(toks, tg, {a.first}, 0);
            break;
          }
        } else if (slot == "{PER}") {
          const int t = detail::synthetic_topic_draw(g, topic, kOwnEntity);
          detail::synthetic_put(
              toks, tg,
              {detail::synthetic_pick(g, p.first_names), detail::synthetic_pick(g, p.surnames[t])},
              kPer);
        } else if (slot == "{ORG}") {
          const int t = detail::synthetic_topic_draw(g, topic, kOwnEntity);
          detail::synthetic_put(toks, tg, detail::synthetic_pick(g, p.orgs[t]), kOrg);
        } else if (slot == "{LOC}") {
          const int t = detail::synthetic_topic_draw(g, topic, kOwnEntity);
          detail::synthetic_put(toks, tg, detail::synthetic_pick(g, p.locs[t]), kLoc);
        } else if (slot == "{S}") {
          if (g.bernoulli(kContrast)) {
            const int other = static_cast<int>((senti + 1 + static_cast<int>(g.below(2))) % 3);
            detail::synthetic_put(toks, tg, detail::synthetic_sentiment(g, p, other), 0);
            detail::synthetic_put(toks, tg, {"but"}, 0);
          }
          detail::synthetic_put(toks, tg, detail::synthetic_sentiment(g, p, senti), 0);
        } else if (slot == "{F}") {
          const auto k = g.below(3);
          for (std::uint64_t i = 0; i < k; ++i)
            detail::synthetic_put(toks, tg, {detail::synthetic_pick(g, p.fillers)}, 0);
        } else {
          detail::synthetic_put(toks, tg, {slot}, 0);
        }
      }
      while (toks.size() < 8) {
        toks.insert(toks.begin(), detail::synthetic_pick(g, p.fillers));
        tg.insert(tg.begin(), 0);
      }
      if (static_cast<Index>(toks.size()) <= cap) break;
    }
    topics[n] = topic;
    sentiments[n] = senti;
    if (g.bernoulli(options.label_noise()))
      topics[n] = (topic + 1 + static_cast<Index>(g.below(3))) % 4;
    if (g.bernoulli(options.label_noise()))
      sentiments[n] = (senti + 1 + static_cast<Index>(g.below(2))) % 3;
  }
  Vocabulary vocab = Vocabulary::build(sentences);
  SequenceDatasetBuilder<T> builder(encode_sentences(vocab, sentences),
                                    SequenceOptions().max_length(options.max_length()));
  builder.add_class_target("topic", topics, 4)
      .add_class_target("sentiment", sentiments, 3)
      .add_tag_target("ner", tags, 7);
  Dataset<T> ds = builder.build();
  std::vector<Index> lengths = builder.lengths();
  return SyntheticText<T>{std::move(ds),           std::move(vocab),
                          synthetic_topic_names(), synthetic_sentiment_names(),
                          synthetic_tag_names(),   std::move(sentences),
                          std::move(lengths)};
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(DATA_FLOAT,
                  SyntheticText<float> make_synthetic_text<float>(const SyntheticTextOptions&))
ONESTONE_EXPLICIT(DATA_DOUBLE,
                  SyntheticText<double> make_synthetic_text<double>(const SyntheticTextOptions&))

}  // namespace onestone::data
