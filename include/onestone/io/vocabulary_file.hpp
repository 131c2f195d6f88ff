#pragma once
/// @file vocabulary_file.hpp
/// Saving a `data::Vocabulary` or `data::LabelSet` to a file atomically (read back with
/// `Vocabulary::load` / `LabelSet::load`).

#include <string>

#include "onestone/data/vocabulary.hpp"
#include "onestone/io/atomic_file.hpp"

namespace onestone {
namespace io {

/// Writes the vocabulary's text form (one token per line, ids in order) to `path` atomically:
/// on failure it throws std::runtime_error naming the path and the previous file is unchanged.
///
/// @code
/// onestone::io::save_vocabulary(vocab, "runs/vocab.txt");
/// auto again = onestone::data::Vocabulary::load("runs/vocab.txt");
/// @endcode
inline void save_vocabulary(const data::Vocabulary& vocab, const std::string& path) {
  const std::string s = vocab.to_string();
  write_file_atomic(path, s.data(), s.size());
}

/// Writes a label set's text form (one name per line) to `path` atomically, as
/// `save_vocabulary`.
///
/// @code
/// onestone::io::save_labels(tags, "runs/tags.txt");
/// auto again = onestone::data::LabelSet::load("runs/tags.txt");
/// @endcode
inline void save_labels(const data::LabelSet& labels, const std::string& path) {
  const std::string s = labels.to_string();
  write_file_atomic(path, s.data(), s.size());
}

}  // namespace io
}  // namespace onestone
