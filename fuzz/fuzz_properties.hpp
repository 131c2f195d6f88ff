#pragma once
/// @file fuzz_properties.hpp
/// The properties the fuzz targets check, shared with tests/io/test_fuzz_regressions.cpp (which
/// replays the inputs that once broke them). A violated property throws PropertyViolation;
/// under libFuzzer any escaping exception is reported as a crash.

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "onestone/data/idx.hpp"
#include "onestone/io/json.hpp"
#include "onestone/io/safetensors.hpp"

namespace onestone_fuzz {

/// A fuzzing property that does not hold (a bug), with a description.
struct PropertyViolation : std::logic_error {
  using std::logic_error::logic_error;
};

/// read_safetensors_bytes returns or throws std::runtime_error; each tensor converts with
/// to_tensor or throws std::invalid_argument; an accepted file re-serializes to bytes that read
/// back to the same tensors and metadata.
inline void check_safetensors(const std::uint8_t* data, std::size_t size) {
  using namespace onestone::io;
  std::map<std::string, std::string> meta;
  std::map<std::string, SafeTensor> tensors;
  try {
    tensors = read_safetensors_bytes(data, size, "fuzz-input", &meta);
  } catch (const std::runtime_error&) {
    return;
  }
  for (const auto& kv : tensors) {
    try {
      (void)to_tensor<double>(kv.second);
    } catch (const std::invalid_argument&) {
    }
    try {
      (void)to_tensor<std::int64_t>(kv.second);
    } catch (const std::invalid_argument&) {
    }
  }
  const auto bytes = serialize_safetensors(tensors, meta);
  std::map<std::string, std::string> meta2;
  const auto back = read_safetensors_bytes(bytes.data(), bytes.size(), "round-trip", &meta2);
  if (meta2 != meta) throw PropertyViolation("safetensors: metadata changed in a round trip");
  if (back.size() != tensors.size())
    throw PropertyViolation("safetensors: tensor count changed in a round trip");
  for (const auto& kv : tensors) {
    const auto it = back.find(kv.first);
    if (it == back.end() || it->second.dtype != kv.second.dtype ||
        it->second.shape != kv.second.shape || it->second.bytes != kv.second.bytes)
      throw PropertyViolation("safetensors: tensor '" + kv.first + "' changed in a round trip");
  }
}

/// parse_json returns or throws JsonError; an accepted document written with to_json parses
/// again and writes back to the same text.
inline void check_json(const std::uint8_t* data, std::size_t size) {
  using namespace onestone::io;
  JsonValue v;
  try {
    v = parse_json(reinterpret_cast<const char*>(data), size);
  } catch (const JsonError&) {
    return;
  }
  const std::string text = to_json(v);
  JsonValue back;
  try {
    back = parse_json(text);
  } catch (const JsonError& e) {
    throw PropertyViolation("json: to_json wrote text it cannot read back: " + text + ": " +
                            e.what());
  }
  if (to_json(back) != text) throw PropertyViolation("json: round trip changed " + text);
}

/// read_idx on the file at `path` returns or throws std::runtime_error; an array it returns
/// decodes fully; read_idx_images (rank >= 2) or read_idx_labels (rank 1) return or throw
/// std::runtime_error.
inline void check_idx_file(const std::string& path) {
  onestone::data::IdxArray a;
  try {
    a = onestone::data::read_idx(path);
  } catch (const std::runtime_error&) {
    return;
  }
  if (a.numel() > 0) (void)a.value(a.numel() - 1);
  (void)a.to_tensor<double>();
  try {
    if (a.dims.size() >= 2)
      (void)onestone::data::read_idx_images<float>(path, true, 2);
    else
      (void)onestone::data::read_idx_labels(path);
  } catch (const std::runtime_error&) {
  }
}

}  // namespace onestone_fuzz
