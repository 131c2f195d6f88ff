// text_mtl: one Transformer encoder for several text tasks at once — sentence-level classes
// (topic, sentiment) and a tag per token (named entities, BIO) — trained single-task and
// multi-task, with accuracy, macro-F1, entity-level span F1 (CoNLL's counting) and Δm.
//
// Data:
//   default           a synthetic corpus generated in-process (data/synthetic_text.hpp):
//                     tasks topic (4 classes), sentiment (3) and ner (BIO over PER/ORG/LOC)
//   --train F.conll   CoNLL-style file(s): one token per line, columns, blank line between
//                     sentences; --tag-columns 1,3 makes one token task per column (default:
//                     the last column); --test F.conll (default: 20% of --train)
//   --tsv F.tsv       a TSV file with a header: --text-column NAME (default: the first column)
//                     and every other column a sentence-level class task (empty cell = missing
//                     label); --test-tsv F.tsv (default: 20% of --tsv)
//
//   ./text_mtl [--samples 4000] [--epochs 8] [--batch 32] [--lr 0.001] [--methods
//   equal,uncertainty]
//              [--d-model 64] [--heads 4] [--layers 2] [--threads N] [--seed 1] [--csv FILE]
//              [--save FILE.ckpt]
// Batches group sentences of similar length (length bucketing) and are cut to their longest
// sentence (padding trimmed). --save writes the last multi-task model with its vocabulary.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/text_model.hpp"

using namespace onestone;
using F = float;

namespace {

struct TaskSpec {
  std::string name;
  bool token_level = false;
  std::vector<std::string> classes;  // class or tag names
  bool bio() const { return examples::is_bio(classes); }
};

struct Corpus {
  data::Dataset<F> train{Tensor<F>(Shape{0, 1})}, test{Tensor<F>(Shape{0, 1})};
  std::vector<Index> train_lengths;
  data::Vocabulary vocab;
  std::vector<TaskSpec> tasks;
  Index max_length = 0;
  std::string description;
};

struct Settings {
  long epochs = 8, batch = 32, d_model = 64, heads = 4, layers = 2;
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Index> lengths_of(const data::Dataset<F>& d) {
  const Shape& s = d.inputs().shape();
  std::vector<Index> out(static_cast<std::size_t>(s[0]));
  for (Index i = 0; i < s[0]; ++i) {
    Index n = s[1];
    while (n > 0 && d.inputs().data()[i * s[1] + n - 1] == F(0)) --n;
    out[static_cast<std::size_t>(i)] = n;
  }
  return out;
}

// ---- corpora --------------------------------------------------------------------------------
Corpus synthetic_corpus(long samples, std::uint64_t seed) {
  Corpus c;
  auto tr = data::make_synthetic_text<F>(data::SyntheticTextOptions().samples(samples).seed(seed));
  // The test corpus uses the training vocabulary: encode its tokens again.
  auto te = data::make_synthetic_text<F>(
      data::SyntheticTextOptions().samples(std::max<long>(200, samples / 4)).seed(seed + 1000));
  c.vocab = tr.vocabulary;
  c.train = std::move(tr.dataset);
  c.train_lengths = tr.lengths;
  c.max_length = c.train.inputs().shape()[1];
  // The test sentences are encoded with the training vocabulary (unseen words become <unk>).
  const data::Dataset<F>& raw = te.dataset;
  const Index L = raw.inputs().shape()[1];
  std::vector<Index> topic, sentiment;
  std::vector<std::vector<Index>> tags;
  for (Index i = 0; i < raw.size(); ++i) {
    topic.push_back(raw.target("topic").labels[i]);
    sentiment.push_back(raw.target("sentiment").labels[i]);
    const Index n = te.lengths[static_cast<std::size_t>(i)];
    std::vector<Index> t;
    for (Index l = 0; l < n; ++l) t.push_back(raw.target("ner").labels[i * L + l]);
    tags.push_back(std::move(t));
  }
  data::SequenceDatasetBuilder<F> b(data::encode_sentences(c.vocab, te.tokens),
                                    data::SequenceOptions().max_length(c.max_length));
  b.add_class_target("topic", topic, static_cast<Index>(tr.topic_names.size()))
      .add_class_target("sentiment", sentiment, static_cast<Index>(tr.sentiment_names.size()))
      .add_tag_target("ner", tags, static_cast<Index>(tr.tag_names.size()));
  c.test = b.build();
  c.tasks = {{"topic", false, tr.topic_names},
             {"sentiment", false, tr.sentiment_names},
             {"ner", true, tr.tag_names}};
  c.description = "synthetic corpus: " + std::to_string(c.train.size()) + " train / " +
                  std::to_string(c.test.size()) + " test sentences, vocabulary " +
                  std::to_string(c.vocab.size());
  return c;
}

Corpus conll_corpus(const std::string& train_path, const std::string& test_path,
                    const std::vector<std::string>& tag_columns, std::uint64_t seed) {
  Corpus c;
  std::vector<long> cols;
  for (const auto& s : tag_columns) cols.push_back(std::stol(s));
  if (cols.empty()) cols.push_back(-1);
  struct Part {
    std::vector<std::vector<std::string>> tokens;
    std::vector<std::vector<std::vector<std::string>>> tags;  // [column][sentence][token]
  };
  auto read = [&](const std::string& path) {
    Part p;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const auto sents = data::read_conll(path, data::ConllOptions().tag_column(cols[k]));
      if (k == 0)
        for (const auto& s : sents) {
          std::vector<std::string> t;
          for (const auto& w : s.tokens) t.push_back(lower(w));
          p.tokens.push_back(std::move(t));
        }
      p.tags.emplace_back();
      for (const auto& s : sents) p.tags.back().push_back(s.tags);
    }
    return p;
  };
  Part tr = read(train_path);
  Part te;
  const bool has_test = !test_path.empty();
  if (has_test) te = read(test_path);
  c.vocab = data::Vocabulary::build(tr.tokens, data::VocabularyOptions().max_size(30000));
  std::vector<data::LabelSet> tagsets;
  for (std::size_t k = 0; k < cols.size(); ++k) {
    std::vector<std::string> all;
    for (const auto& s : tr.tags[k]) all.insert(all.end(), s.begin(), s.end());
    if (has_test)
      for (const auto& s : te.tags[k]) all.insert(all.end(), s.begin(), s.end());
    tagsets.push_back(data::LabelSet::from_labels(all, data::LabelOrder::Sorted));
    c.tasks.push_back({"tags" + std::to_string(cols[k]), true, tagsets.back().names()});
  }
  auto build = [&](const Part& p, Index max_len) {
    data::SequenceDatasetBuilder<F> b(data::encode_sentences(c.vocab, p.tokens),
                                      data::SequenceOptions().max_length(max_len));
    for (std::size_t k = 0; k < cols.size(); ++k)
      b.add_tag_target(c.tasks[k].name, p.tags[k], tagsets[k]);
    return b.build();
  };
  data::Dataset<F> all = build(tr, 0);
  c.max_length = all.inputs().shape()[1];
  if (has_test) {
    c.train = std::move(all);
    c.test = build(te, c.max_length);
  } else {
    auto parts = all.split(0.8, seed);
    c.train = std::move(parts.first);
    c.test = std::move(parts.second);
  }
  c.train_lengths = lengths_of(c.train);
  c.description = "CoNLL " + train_path + ": " + std::to_string(c.train.size()) + " train / " +
                  std::to_string(c.test.size()) + " test sentences, vocabulary " +
                  std::to_string(c.vocab.size());
  return c;
}

Corpus tsv_corpus(const std::string& path, const std::string& test_path,
                  const std::string& text_column, std::uint64_t seed) {
  Corpus c;
  data::TsvOptions opt;
  if (!text_column.empty()) opt.text_column(data::TsvColumn(text_column));
  const data::TsvTable tr = data::read_tsv(path, opt);
  data::TsvTable te;
  const bool has_test = !test_path.empty();
  if (has_test) te = data::read_tsv(test_path, opt);
  auto tokenize_all = [](const data::TsvTable& t) {
    std::vector<std::vector<std::string>> out;
    for (const auto& s : t.texts) out.push_back(data::tokenize(s));
    return out;
  };
  const auto tr_tok = tokenize_all(tr);
  c.vocab = data::Vocabulary::build(tr_tok, data::VocabularyOptions().max_size(30000));
  std::vector<data::LabelSet> sets;
  for (std::size_t k = 0; k < tr.label_names.size(); ++k) {
    std::vector<std::string> all = tr.labels[k];
    if (has_test) all.insert(all.end(), te.labels[k].begin(), te.labels[k].end());
    sets.push_back(data::LabelSet::from_labels(all, data::LabelOrder::Sorted));
    c.tasks.push_back({tr.label_names[k], false, sets.back().names()});
  }
  auto build = [&](const data::TsvTable& t, const std::vector<std::vector<std::string>>& tok,
                   Index max_len) {
    data::SequenceDatasetBuilder<F> b(data::encode_sentences(c.vocab, tok),
                                      data::SequenceOptions().max_length(max_len));
    for (std::size_t k = 0; k < sets.size(); ++k)
      b.add_class_target(c.tasks[k].name, t.labels[k], sets[k]);
    return b.build();
  };
  data::Dataset<F> all = build(tr, tr_tok, 128);  // longer texts are cut to 128 tokens
  c.max_length = all.inputs().shape()[1];
  if (has_test) {
    c.train = std::move(all);
    c.test = build(te, tokenize_all(te), c.max_length);
  } else {
    auto parts = all.split(0.8, seed);
    c.train = std::move(parts.first);
    c.test = std::move(parts.second);
  }
  c.train_lengths = lengths_of(c.train);
  c.description = "TSV " + path + ": " + std::to_string(c.train.size()) + " train / " +
                  std::to_string(c.test.size()) + " test texts, vocabulary " +
                  std::to_string(c.vocab.size());
  return c;
}

// ---- model ----------------------------------------------------------------------------------
std::unique_ptr<MultiTaskModel<F>> build_model(const Corpus& c, const Settings& s,
                                               const std::vector<TaskSpec>& tasks) {
  auto enc = examples::make_text_encoder<F>(c.vocab.size(), std::max<Index>(c.max_length, 1),
                                            s.d_model, s.heads, s.layers, s.seed);
  auto model = std::make_unique<MultiTaskModel<F>>(
      std::make_shared<sharing::HardSharing<F>>(enc, s.d_model, /*feature_axis=*/-1));
  for (const auto& t : tasks)
    model->add_task(examples::text_task<F>(t.name, t.token_level, t.classes, s.d_model, *enc));
  return model;
}

model::EvalReport train_model(const Corpus& c, const Settings& s,
                              const std::vector<TaskSpec>& tasks, const std::string& method,
                              double& seconds, std::unique_ptr<MultiTaskModel<F>>* keep = nullptr) {
  manual_seed(s.seed);
  auto model = build_model(c, s, tasks);
  if (!method.empty() && method != "equal")
    model->set_balancer(weighting::make_balancer<F>(method));
  optim::Adam<F> opt(model->parameters(), optim::AdamOptions(s.lr));
  train::TrainStep<F> step(*model, opt);
  data::DataLoader<F> loader(c.train, data::LoaderOptions()
                                          .batch_size(s.batch)
                                          .seed(s.seed)
                                          .bucket_by_length(c.train_lengths)
                                          .trim_padding(0));
  data::DataLoader<F> test_loader(
      c.test, data::LoaderOptions().batch_size(256).shuffle(false).trim_padding(0));
  const auto t0 = std::chrono::steady_clock::now();
  for (long e = 0; e < s.epochs; ++e) {
    model->train();
    for (const auto& b : loader) step(b);
    model->end_epoch();
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model->eval();
  model::EvalReport rep = model->evaluate(test_loader);
  if (keep) *keep = std::move(model);
  return rep;
}

std::string primary_of(const TaskSpec& t) {
  return t.token_level && t.bio() ? "span_f1" : "accuracy";
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "One Transformer encoder for sentence classes and token tags (topic, "
                      "sentiment, NER by default),\ntrained single-task and multi-task: accuracy, "
                      "macro-F1, span F1 and dm.");
  Settings s;
  const long samples = args.get_int("--samples", 4000, "sentences of the synthetic corpus");
  s.epochs = args.get_int("--epochs", 8, "training epochs");
  s.batch = args.get_int("--batch", 32, "training batch size");
  s.lr = args.get_double("--lr", 1e-3, "Adam learning rate");
  s.d_model = args.get_int("--d-model D", 64, "encoder width");
  s.heads = args.get_int("--heads H", 4, "attention heads");
  s.layers = args.get_int("--layers K", 2, "encoder layers");
  s.seed = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "random seed"));
  const long threads = args.get_int("--threads", 0, "worker threads, 0 for the library's default");
  const std::string csv = args.get("--csv FILE", "", "also write the results table as CSV");
  const std::string save =
      args.get("--save FILE", "", "save the last multi-task model with its vocabulary");
  const auto methods = examples::split_list(
      args.get("--methods LIST", "equal,uncertainty", "comma-separated balancing methods"));
  const std::string train_conll =
      args.get("--train FILE", "",
               "CoNLL training file, one token per line (default: the synthetic corpus)");
  const std::string test_conll =
      args.get("--test FILE", "", "CoNLL test file (default: 20% of --train)");
  const std::string tag_columns = args.get(
      "--tag-columns LIST", "", "CoNLL columns that become token tasks (default: the last)");
  const std::string tsv = args.get(
      "--tsv FILE", "", "TSV file with a header: a text column, the others sentence tasks");
  const std::string test_tsv =
      args.get("--test-tsv FILE", "", "TSV test file (default: 20% of --tsv)");
  const std::string text_column =
      args.get("--text-column NAME", "", "the TSV's text column (default: the first)");
  args.finish();
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  Corpus corpus;
  try {
    for (const auto& m : methods)
      if (m != "equal") weighting::make_balancer<F>(m);
    if (!train_conll.empty())
      corpus = conll_corpus(train_conll, test_conll, examples::split_list(tag_columns), s.seed);
    else if (!tsv.empty())
      corpus = tsv_corpus(tsv, test_tsv, text_column, s.seed);
    else
      corpus = synthetic_corpus(samples, s.seed);
  } catch (const std::exception& e) {
    std::cerr << "text_mtl: " << e.what() << "\n";
    return 2;
  }
  std::printf("%s; encoder d=%ld, %ld heads, %ld layers; %ld epochs, batch %ld, %d thread(s)\n",
              corpus.description.c_str(), s.d_model, s.heads, s.layers, s.epochs, s.batch,
              get_num_threads());

  struct Row {
    std::string model;
    model::EvalReport report;
    double dm, seconds;
  };
  std::vector<Row> rows;
  std::vector<model::EvalReport> singles;
  double single_seconds = 0;
  for (const auto& t : corpus.tasks) {
    double sec = 0;
    singles.push_back(train_model(corpus, s, {t}, "", sec));
    single_seconds += sec;
  }
  const model::EvalReport baseline = model::merge_reports(singles);
  rows.push_back({"single-task", baseline, 0.0, single_seconds});
  std::unique_ptr<MultiTaskModel<F>> last;
  if (corpus.tasks.size() > 1)
    for (const auto& m : methods) {
      double sec = 0;
      const model::EvalReport rep = train_model(corpus, s, corpus.tasks, m, sec, &last);
      double dm = std::numeric_limits<double>::quiet_NaN();  // undefined on a zero baseline
      try {
        dm = model::delta_m(rep, baseline);
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "text_mtl: no dm for %s: %s\n", m.c_str(), e.what());
      }
      rows.push_back({m, rep, dm, sec});
    }

  std::printf("\n%-13s", "model");
  for (const auto& t : corpus.tasks) {
    if (t.token_level && t.bio())
      std::printf(" %12s", (t.name + " F1").c_str());
    else
      std::printf(" %12s %12s", (t.name + " acc").c_str(), (t.name + " mF1").c_str());
  }
  std::printf(" %8s %9s\n", "dm (%)", "time (s)");
  for (const auto& r : rows) {
    std::printf("%-13s", r.model.c_str());
    for (const auto& t : corpus.tasks) {
      if (t.token_level && t.bio())
        std::printf(" %12.4f", r.report.get(t.name, "span_f1"));
      else
        std::printf(" %12.4f %12.4f", r.report.get(t.name, "accuracy"),
                    r.report.get(t.name, "macro_f1"));
    }
    std::printf(" %+8.2f %9.1f\n", r.dm, r.seconds);
  }
  std::printf("(single-task: one network per task, time is their sum; dm over");
  for (const auto& t : corpus.tasks) std::printf(" %s %s", t.name.c_str(), primary_of(t).c_str());
  std::printf(", in %%)\n");
  if (!csv.empty()) {
    std::ofstream f(csv);
    f << "model";
    for (const auto& t : corpus.tasks) f << "," << t.name << "_" << primary_of(t);
    f << ",delta_m_percent,seconds\n";
    for (const auto& r : rows) {
      f << r.model;
      for (const auto& t : corpus.tasks) f << "," << r.report.get(t.name, primary_of(t));
      f << "," << r.dm << "," << r.seconds << "\n";
    }
    if (!f) {
      std::cerr << "text_mtl: cannot write " << csv << "\n";
      return 1;
    }
    std::printf("wrote %s\n", csv.c_str());
  }
  if (!save.empty() && last) {
    std::map<std::string, std::string> meta;
    corpus.vocab.to_metadata(meta);
    optim::Adam<F> unused(last->parameters());
    io::save_checkpoint(save, *last, unused, nullptr, nullptr, {}, meta);
    std::printf("saved the last multi-task model and its vocabulary to %s\n", save.c_str());
  }
  return 0;
}
