#pragma once
/// @file safetensors.hpp
/// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length N, N bytes of JSON describing each tensor
/// (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"key": "value"}}`), then the raw little-endian data, with offsets relative
/// to the start of the data section. Also saving and loading a module's parameters.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/io/atomic_file.hpp"
#include "onestone/io/json.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::io {

/// Largest header accepted or written (the reference implementation's limit, 100 MB).
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100000000;

/// Bytes per element of a safetensors dtype name, or 0 for a name this library does not know.
///
/// Known: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL (1 byte),
/// F8_E4M3 and F8_E5M2 (1 byte; read and written as raw bytes, not convertible by `to_tensor`).
///
/// @code
/// std::size_t s = onestone::io::safetensors_dtype_size("BF16");   // 2
/// @endcode
inline std::size_t safetensors_dtype_size(const std::string& dtype) noexcept {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2")
    return 1;
  return 0;
}

/// One tensor of a safetensors file: its dtype name ("F32", "BF16", ...), its shape (any rank,
/// `[]` is a scalar) and its raw little-endian bytes (`numel() * dtype size` of them).
/// `file_offset` is informational: the byte offset of the data in the file it was read from
/// (0 for tensors built in code); error messages quote it.
///
/// @code
/// onestone::io::SafeTensor st{"F32", {2}, {0, 0, 128, 63, 0, 0, 0, 64}};   // [1.0f, 2.0f]
/// auto t = onestone::io::to_tensor<float>(st);
/// @endcode
struct SafeTensor {
  std::string dtype;
  std::vector<Index> shape;
  std::vector<unsigned char> bytes;
  std::uint64_t file_offset = 0;

  /// Number of elements (product of the shape; 1 for a scalar). Throws std::invalid_argument
  /// on a negative dimension or when the product, taken in order, overflows 64 bits.
  inline Index numel() const;
};

/// The IEEE 754 binary16 value with bits `h` as a float (exact: subnormals, ±0, ±inf and NaN
/// payloads are preserved). Example: `onestone::io::half_to_float(0x3C00) == 1.0f`.
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;  // ±0
    } else {
      // Subnormal: mant · 2^-24. Normalise so the leading 1 reaches bit 10.
      std::uint32_t shift = 0;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        ++shift;
      }
      bits = sign | ((113u - shift) << 23) | ((mant & 0x3FFu) << 13);
    }
  } else if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf or NaN (payload kept)
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// The bfloat16 value with bits `b` as a float (exact: bfloat16 is the top half of a float).
/// Example: `onestone::io::bfloat16_to_float(0x3F80) == 1.0f`.
inline float bfloat16_to_float(std::uint16_t b) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

namespace detail {

inline constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

/// Unsigned integer of `sizeof(U)` bytes read little-endian from `p`.
template <class U>
U load_le(const unsigned char* p) noexcept {
  U v = 0;
  for (std::size_t b = sizeof(U); b-- > 0;) v = static_cast<U>((v << 8) | p[b]);
  return v;
}
/// Writes `v` little-endian to `p`.
template <class U>
void store_le(unsigned char* p, U v) noexcept {
  for (std::size_t b = 0; b < sizeof(U); ++b) p[b] = static_cast<unsigned char>(v >> (8 * b));
}

/// "[2, 3]" for messages.
inline std::string shape_str(const std::vector<Index>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// True for F64, F32, F16 and BF16.
inline bool is_float_dtype(const std::string& dtype) noexcept {
  return dtype == "F64" || dtype == "F32" || dtype == "F16" || dtype == "BF16";
}

/// Element count of `shape`, or false on a negative dimension or when a running product
/// overflows int64 (checked in order, like the reference implementation, so a later zero
/// dimension does not excuse an overflow; this also keeps `Shape::numel()` well defined).
inline bool element_count(const std::vector<Index>& shape, std::uint64_t& out) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
  std::uint64_t n = 1;
  for (Index d : shape) {
    if (d < 0) return false;
    const auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && n > kMax / ud) return false;
    n *= ud;
  }
  out = n;
  return true;
}

/// Bytes taken by `shape` at `esize` bytes per element, or false on overflow / negative dims.
inline bool byte_size(const std::vector<Index>& shape, std::uint64_t esize, std::uint64_t& out) {
  std::uint64_t n = 0;
  if (!element_count(shape, n)) return false;
  if (n != 0 && esize > std::numeric_limits<std::uint64_t>::max() / n) return false;
  out = n * esize;
  return true;
}

}  // namespace detail

inline Index SafeTensor::numel() const {
  std::uint64_t n = 0;
  if (!detail::element_count(shape, n))
    throw std::invalid_argument("SafeTensor::numel: invalid or overflowing shape " +
                                detail::shape_str(shape));
  return static_cast<Index>(n);
}

namespace detail {

/// One validated header entry.
struct StEntry {
  std::string name;
  std::string dtype;
  std::vector<Index> shape;
  std::uint64_t begin = 0, end = 0;
  std::uint64_t header_offset = 0;  // file byte offset of the entry's key
};

/// A validated header: entries in data order, metadata, and where the data section starts.
struct StHeader {
  std::vector<StEntry> entries;
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start = 0;
};

[[noreturn]] inline void st_fail(const std::string& file, const std::string& what) {
  throw std::runtime_error(file + ": " + what);
}

/// Validates the 8-byte length prefix against the file size; returns N.
ONESTONE_FUNC std::uint64_t st_header_length(const unsigned char* prefix, std::uint64_t file_size,
                                             const std::string& file)
#if ONESTONE_DEFINE_FUNCTIONS
{
  if (file_size < 8)
    st_fail(file, "truncated at byte offset " + std::to_string(file_size) +
                      ": a safetensors file starts with an 8-byte header length");
  const std::uint64_t n = load_le<std::uint64_t>(prefix);
  if (n > kSafetensorsMaxHeaderBytes)
    st_fail(file, "header length " + std::to_string(n) + " at byte offset 0 exceeds the limit of " +
                      std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  if (n > file_size - 8)
    st_fail(file, "header length " + std::to_string(n) + " at byte offset 0 exceeds the " +
                      std::to_string(file_size - 8) + " bytes after the length field (file of " +
                      std::to_string(file_size) + " bytes is truncated or corrupt)");
  if (n < 2)
    st_fail(file, "header length " + std::to_string(n) +
                      " at byte offset 0 is too small "
                      "for a JSON object");
  return n;
}
#else
    ;
#endif

/// Parses and validates the JSON header (`n` bytes at file offset 8) of a file of `file_size`
/// bytes: every entry, the metadata, and the layout of the data section.
ONESTONE_FUNC StHeader st_parse_header(const char* json, std::uint64_t n, std::uint64_t file_size,
                                       const std::string& file)
#if ONESTONE_DEFINE_FUNCTIONS
{
  JsonValue root;
  try {
    root = parse_json(json, static_cast<std::size_t>(n));
  } catch (const JsonError& e) {
    st_fail(file, "invalid header JSON at byte offset " + std::to_string(8 + e.offset()) + ": " +
                      e.reason());
  }
  if (!root.is_object())
    st_fail(file, "header at byte offset " + std::to_string(8 + root.offset()) +
                      " must be a JSON object, got " + JsonValue::kind_name(root.kind()));
  StHeader h;
  h.data_start = 8 + n;
  const std::uint64_t data_size = file_size - h.data_start;
  for (const JsonMember& m : root.as_object()) {
    const std::uint64_t at = 8 + m.key_offset;
    const std::string where =
        "tensor '" + m.key + "' (header byte offset " + std::to_string(at) + ")";
    const auto value_at = [&](const JsonValue& v) { return std::to_string(8 + v.offset()); };
    if (m.key == "__metadata__") {
      if (!m.value.is_object())
        st_fail(file, "\"__metadata__\" at byte offset " + value_at(m.value) +
                          " must be an object of strings, got " +
                          JsonValue::kind_name(m.value.kind()));
      for (const JsonMember& kv : m.value.as_object()) {
        if (!kv.value.is_string())
          st_fail(file, "\"__metadata__\" entry '" + kv.key + "' at byte offset " +
                            value_at(kv.value) + " must be a string, got " +
                            JsonValue::kind_name(kv.value.kind()));
        h.metadata[kv.key] = kv.value.as_string();
      }
      continue;
    }
    if (!m.value.is_object())
      st_fail(file, where + ": expected an object with dtype, shape and data_offsets, got " +
                        JsonValue::kind_name(m.value.kind()));
    StEntry e;
    e.name = m.key;
    e.header_offset = at;
    const JsonValue* dtype = m.value.find("dtype");
    const JsonValue* shape = m.value.find("shape");
    const JsonValue* offsets = m.value.find("data_offsets");
    if (!dtype) st_fail(file, where + ": missing \"dtype\"");
    if (!shape) st_fail(file, where + ": missing \"shape\"");
    if (!offsets) st_fail(file, where + ": missing \"data_offsets\"");
    if (!dtype->is_string())
      st_fail(file, where + ": \"dtype\" at byte offset " + value_at(*dtype) +
                        " must be a string, got " + JsonValue::kind_name(dtype->kind()));
    e.dtype = dtype->as_string();
    const std::size_t esize = safetensors_dtype_size(e.dtype);
    if (esize == 0)
      st_fail(file,
              where + ": unknown dtype \"" + e.dtype + "\" at byte offset " + value_at(*dtype));
    if (!shape->is_array())
      st_fail(file, where + ": \"shape\" at byte offset " + value_at(*shape) +
                        " must be an array of integers, got " +
                        JsonValue::kind_name(shape->kind()));
    for (const JsonValue& d : shape->as_array()) {
      if (!d.is_integer() || d.as_int() < 0)
        st_fail(file, where + ": shape dimension at byte offset " + value_at(d) +
                          " must be a non-negative integer");
      e.shape.push_back(d.as_int());
    }
    if (!offsets->is_array() || offsets->as_array().size() != 2)
      st_fail(file, where + ": \"data_offsets\" at byte offset " + value_at(*offsets) +
                        " must be an array [begin, end]");
    for (int k = 0; k < 2; ++k) {
      const JsonValue& o = offsets->as_array()[static_cast<std::size_t>(k)];
      if (!o.is_integer() || o.as_int() < 0)
        st_fail(file, where + ": data offset at byte offset " + value_at(o) +
                          " must be a non-negative integer");
    }
    e.begin = static_cast<std::uint64_t>(offsets->as_array()[0].as_int());
    e.end = static_cast<std::uint64_t>(offsets->as_array()[1].as_int());
    const std::string span = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.end < e.begin) st_fail(file, where + ": data_offsets " + span + " end before they begin");
    if (e.end > data_size)
      st_fail(file, where + ": data_offsets " + span + " exceed the data section of " +
                        std::to_string(data_size) + " bytes (which starts at byte offset " +
                        std::to_string(h.data_start) + ")");
    std::uint64_t bytes = 0;
    if (!byte_size(e.shape, esize, bytes))
      st_fail(file, where + ": shape " + shape_str(e.shape) +
                        " has too many elements (overflows "
                        "64 bits)");
    if (bytes != e.end - e.begin)
      st_fail(file, where + ": shape " + shape_str(e.shape) + " of " + e.dtype + " needs " +
                        std::to_string(bytes) + " bytes but data_offsets " + span + " hold " +
                        std::to_string(e.end - e.begin));
    h.entries.push_back(std::move(e));
  }
  // The data section must be covered exactly: sorted by offsets, each tensor starts where the
  // previous one ended and the last one ends at the end of the file.
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const StEntry& a, const StEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const StEntry* prev = nullptr;
  for (const StEntry& e : h.entries) {
    if (e.begin < cursor)
      st_fail(file, "tensor '" + e.name + "' (header byte offset " +
                        std::to_string(e.header_offset) + "): data_offsets [" +
                        std::to_string(e.begin) + ", " + std::to_string(e.end) +
                        "] overlap tensor '" + prev->name + "' [" + std::to_string(prev->begin) +
                        ", " + std::to_string(prev->end) + "]");
    if (e.begin > cursor)
      st_fail(file, "data section bytes [" + std::to_string(cursor) + ", " +
                        std::to_string(e.begin) + ") (file byte offset " +
                        std::to_string(h.data_start + cursor) +
                        ") belong to no tensor (a hole before tensor '" + e.name + "')");
    cursor = e.end;
    prev = &e;
  }
  if (cursor != data_size)
    st_fail(file, "data section bytes [" + std::to_string(cursor) + ", " +
                      std::to_string(data_size) + ") (file byte offset " +
                      std::to_string(h.data_start + cursor) + ") belong to no tensor");
  return h;
}
#else
    ;
#endif

/// Closes a POSIX file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

/// Reads exactly `n` bytes at `offset` (throws naming `file` on error or early end).
ONESTONE_FUNC void pread_fully(int fd, unsigned char* dst, std::uint64_t n, std::uint64_t offset,
                               const std::string& file)
#if ONESTONE_DEFINE_FUNCTIONS
{
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1u << 30));
    const ssize_t r = ::pread(fd, dst, chunk, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      st_fail(file,
              "read error at byte offset " + std::to_string(offset) + ": " + std::strerror(errno));
    }
    if (r == 0) st_fail(file, "truncated at byte offset " + std::to_string(offset));
    dst += r;
    n -= static_cast<std::uint64_t>(r);
    offset += static_cast<std::uint64_t>(r);
  }
}
#else
    ;
#endif

}  // namespace detail

/// Parses a safetensors file held in memory (`size` bytes at `data`); `name` is used in error
/// messages. Stores the "__metadata__" map in `*metadata` when given.
///
/// Validation (each failure throws std::runtime_error naming `name`, the tensor and the byte
/// offset): header length <= size - 8 and <= 100 MB; well-formed strict JSON object; unique
/// names; known dtypes; non-negative integer shapes and offsets; shape × dtype size equal to
/// end − begin; offsets inside the data section, sorted, non-overlapping and covering it with no
/// hole; "__metadata__" a string-to-string object.
///
/// @code
/// std::vector<unsigned char> blob = load_from_somewhere();
/// auto tensors = onestone::io::read_safetensors_bytes(blob.data(), blob.size(), "blob");
/// @endcode
ONESTONE_FUNC std::map<std::string, SafeTensor> read_safetensors_bytes(
    const unsigned char* data, std::size_t size, const std::string& name = "<memory>",
    std::map<std::string, std::string>* metadata = nullptr)
#if ONESTONE_DEFINE_FUNCTIONS
{
  const std::uint64_t n = detail::st_header_length(data, size, name);
  detail::StHeader h =
      detail::st_parse_header(reinterpret_cast<const char*>(data) + 8, n, size, name);
  std::map<std::string, SafeTensor> out;
  for (detail::StEntry& e : h.entries) {
    SafeTensor st;
    st.dtype = std::move(e.dtype);
    st.shape = std::move(e.shape);
    st.file_offset = h.data_start + e.begin;
    st.bytes.assign(data + st.file_offset, data + h.data_start + e.end);
    out.emplace(std::move(e.name), std::move(st));
  }
  if (metadata) *metadata = std::move(h.metadata);
  return out;
}
#else
    ;
#endif

/// Reads and validates the safetensors file at `path` (see `read_safetensors_bytes` for the
/// checks); stores "__metadata__" in `*metadata` when given. The header is validated before any
/// tensor data is read. Throws std::runtime_error naming `path`, the tensor and the byte offset.
///
/// @code
/// std::map<std::string, std::string> meta;
/// auto tensors = onestone::io::read_safetensors("model.safetensors", &meta);
/// auto w = onestone::io::to_tensor<float>(tensors.at("fc.weight"));
/// @endcode
ONESTONE_FUNC std::map<std::string, SafeTensor> read_safetensors(
    const std::string& path, std::map<std::string, std::string>* metadata = nullptr)
#if ONESTONE_DEFINE_FUNCTIONS
{
  detail::Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0)
    throw std::runtime_error("read_safetensors: cannot open '" + path +
                             "': " + std::strerror(errno));
  struct stat sb;
  if (::fstat(f.fd, &sb) != 0)
    throw std::runtime_error("read_safetensors: cannot stat '" + path +
                             "': " + std::strerror(errno));
  if (!S_ISREG(sb.st_mode))
    throw std::runtime_error("read_safetensors: '" + path + "' is not a regular file");
  const auto file_size = static_cast<std::uint64_t>(sb.st_size);
  unsigned char prefix[8] = {0};
  if (file_size >= 8) detail::pread_fully(f.fd, prefix, 8, 0, path);
  const std::uint64_t n = detail::st_header_length(prefix, file_size, path);
  std::vector<unsigned char> header(static_cast<std::size_t>(n));
  detail::pread_fully(f.fd, header.data(), n, 8, path);
  detail::StHeader h =
      detail::st_parse_header(reinterpret_cast<const char*>(header.data()), n, file_size, path);
  std::map<std::string, SafeTensor> out;
  for (detail::StEntry& e : h.entries) {
    SafeTensor st;
    st.dtype = std::move(e.dtype);
    st.shape = std::move(e.shape);
    st.file_offset = h.data_start + e.begin;
    st.bytes.resize(static_cast<std::size_t>(e.end - e.begin));
    detail::pread_fully(f.fd, st.bytes.data(), e.end - e.begin, st.file_offset, path);
    out.emplace(std::move(e.name), std::move(st));
  }
  if (metadata) *metadata = std::move(h.metadata);
  return out;
}
#else
    ;
#endif

namespace detail {

/// Element `i` of `st` (dtype `code` already checked) converted to T; throws on a value an
/// integer T cannot hold.
template <class T, class S>
T convert_int(S v, Index i, const std::string& dtype) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    bool ok;
    if constexpr (std::is_signed_v<S>) {
      if (v < 0) {
        ok = std::is_signed_v<T> && static_cast<std::int64_t>(v) >=
                                        static_cast<std::int64_t>(std::numeric_limits<T>::min());
      } else {
        ok = static_cast<std::uint64_t>(v) <=
             static_cast<std::uint64_t>(std::numeric_limits<T>::max());
      }
    } else {
      ok = static_cast<std::uint64_t>(v) <=
           static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    }
    if (!ok)
      throw std::invalid_argument("to_tensor: " + dtype + " element " + std::to_string(i) +
                                  " (value " + std::to_string(v) +
                                  ") does not fit the target type");
    return static_cast<T>(v);
  }
}

template <class T, class S, class Bits>
void decode_ints(T* out, const unsigned char* p, Index n, const std::string& dtype) {
  for (Index i = 0; i < n; ++i) {
    const Bits bits = load_le<Bits>(p + static_cast<std::size_t>(i) * sizeof(Bits));
    S v;
    std::memcpy(&v, &bits, sizeof v);
    out[i] = convert_int<T>(v, i, dtype);
  }
}

}  // namespace detail

/// Converts a safetensors tensor to a `Tensor<T>` of the same shape (rank 0..4).
///
/// F64, F32, F16 and BF16 convert to a floating T (F16/BF16 exactly, by bit manipulation,
/// including subnormals, infinities and NaN); integer dtypes and BOOL convert to any T
/// (to an integer T only when every value fits). Throws std::invalid_argument when the rank
/// exceeds 4, the byte count does not match the shape, the dtype is unknown or F8, or a
/// floating dtype is asked for as integers.
///
/// @code
/// auto tensors = onestone::io::read_safetensors("weights.safetensors");
/// onestone::Tensor<float> w = onestone::io::to_tensor<float>(tensors.at("w"));
/// @endcode
template <class T>
Tensor<T> to_tensor(const SafeTensor& st) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                "to_tensor<T>: T must be a floating-point or integer type");
  const std::string where =
      "to_tensor: " + st.dtype + " tensor of shape " + detail::shape_str(st.shape);
  if (st.shape.size() > static_cast<std::size_t>(Shape::kMaxRank))
    throw std::invalid_argument(where + ": rank " + std::to_string(st.shape.size()) +
                                " exceeds Tensor's maximum of 4");
  const std::size_t esize = safetensors_dtype_size(st.dtype);
  if (esize == 0) throw std::invalid_argument(where + ": unknown dtype \"" + st.dtype + "\"");
  std::uint64_t bytes = 0;
  if (!detail::byte_size(st.shape, esize, bytes))
    throw std::invalid_argument(where + ": invalid shape (negative or too many elements)");
  if (bytes != st.bytes.size())
    throw std::invalid_argument(where + ": holds " + std::to_string(st.bytes.size()) +
                                " bytes, expected " + std::to_string(bytes));
  if (detail::is_float_dtype(st.dtype) && !std::is_floating_point_v<T>)
    throw std::invalid_argument(where +
                                ": floating-point data cannot be converted to an integer "
                                "tensor");
  Shape shape;
  for (Index d : st.shape) shape.push_back(d);
  Tensor<T> t(shape);
  T* out = t.data();
  const unsigned char* p = st.bytes.data();
  const Index n = t.numel();
  const std::string& dt = st.dtype;
  if constexpr (std::is_floating_point_v<T>) {
    if (dt == "F32") {
      for (Index i = 0; i < n; ++i) {
        const auto bits = detail::load_le<std::uint32_t>(p + 4 * static_cast<std::size_t>(i));
        float f;
        std::memcpy(&f, &bits, sizeof f);
        out[i] = static_cast<T>(f);
      }
      return t;
    }
    if (dt == "F64") {
      for (Index i = 0; i < n; ++i) {
        const auto bits = detail::load_le<std::uint64_t>(p + 8 * static_cast<std::size_t>(i));
        double d;
        std::memcpy(&d, &bits, sizeof d);
        out[i] = static_cast<T>(d);
      }
      return t;
    }
    if (dt == "F16" || dt == "BF16") {
      const bool half = dt == "F16";
      for (Index i = 0; i < n; ++i) {
        const auto bits = detail::load_le<std::uint16_t>(p + 2 * static_cast<std::size_t>(i));
        out[i] = static_cast<T>(half ? half_to_float(bits) : bfloat16_to_float(bits));
      }
      return t;
    }
  }
  if (dt == "I64")
    detail::decode_ints<T, std::int64_t, std::uint64_t>(out, p, n, dt);
  else if (dt == "I32")
    detail::decode_ints<T, std::int32_t, std::uint32_t>(out, p, n, dt);
  else if (dt == "I16")
    detail::decode_ints<T, std::int16_t, std::uint16_t>(out, p, n, dt);
  else if (dt == "I8")
    detail::decode_ints<T, std::int8_t, std::uint8_t>(out, p, n, dt);
  else if (dt == "U64")
    detail::decode_ints<T, std::uint64_t, std::uint64_t>(out, p, n, dt);
  else if (dt == "U32")
    detail::decode_ints<T, std::uint32_t, std::uint32_t>(out, p, n, dt);
  else if (dt == "U16")
    detail::decode_ints<T, std::uint16_t, std::uint16_t>(out, p, n, dt);
  else if (dt == "U8")
    detail::decode_ints<T, std::uint8_t, std::uint8_t>(out, p, n, dt);
  else if (dt == "BOOL")
    for (Index i = 0; i < n; ++i) out[i] = p[i] != 0 ? T(1) : T(0);
  else
    throw std::invalid_argument(where + ": conversion from " + dt + " is not supported");
  return t;
}

/// The safetensors dtype name of element type T ("F32" for float, "F64" for double, "I64" for
/// 64-bit signed integers, ..., "U8", "BOOL"). Example: `safetensors_dtype_of<float>() == "F32"`.
template <class T>
std::string safetensors_dtype_of() {
  static_assert(std::is_arithmetic_v<T>, "safetensors_dtype_of<T>: T must be arithmetic");
  if constexpr (std::is_same_v<T, bool>) {
    return "BOOL";
  } else if constexpr (std::is_floating_point_v<T>) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "safetensors: only float and double");
    return sizeof(T) == 4 ? "F32" : "F64";
  } else {
    static_assert(sizeof(T) <= 8, "safetensors: integers up to 64 bits");
    const std::string bits = std::to_string(8 * sizeof(T));
    return (std::is_signed_v<T> ? "I" : "U") + bits;
  }
}

/// A `SafeTensor` holding a copy of `t` in its natural dtype (float → F32, double → F64,
/// std::int64_t → I64, std::uint8_t → U8, ...), little-endian.
///
/// @code
/// auto st = onestone::io::to_safetensor(onestone::Tensor<float>::from({1, 2, 3}, {3}));
/// // st.dtype == "F32", st.shape == {3}, st.bytes.size() == 12
/// @endcode
template <class T>
SafeTensor to_safetensor(const Tensor<T>& t) {
  SafeTensor st;
  st.dtype = safetensors_dtype_of<T>();
  for (int i = 0; i < t.rank(); ++i) st.shape.push_back(t.size(i));
  st.bytes.resize(static_cast<std::size_t>(t.numel()) * sizeof(T));
  if constexpr (detail::kHostLittleEndian) {
    if (!st.bytes.empty()) std::memcpy(st.bytes.data(), t.data(), st.bytes.size());
  } else {
    using Bits = std::conditional_t<
        sizeof(T) == 1, std::uint8_t,
        std::conditional_t<sizeof(T) == 2, std::uint16_t,
                           std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    for (Index i = 0; i < t.numel(); ++i) {
      Bits bits;
      std::memcpy(&bits, t.data() + i, sizeof bits);
      detail::store_le(st.bytes.data() + static_cast<std::size_t>(i) * sizeof(T), bits);
    }
  }
  return st;
}

namespace detail {

/// The padded header and the data order of a file about to be written; validates every tensor.
struct StLayout {
  std::string header;                    // JSON padded with spaces to a multiple of 8
  std::vector<const SafeTensor*> order;  // data order
  std::uint64_t data_bytes = 0;
};

ONESTONE_FUNC StLayout st_layout(const std::map<std::string, SafeTensor>& tensors,
                                 const std::map<std::string, std::string>& metadata,
                                 const std::string& file)
#if ONESTONE_DEFINE_FUNCTIONS
{
  const std::string ctx = "write_safetensors: " + file + ": ";
  // Data order as in the reference implementation: larger elements first (keeps data
  // aligned), then by name.
  std::vector<std::pair<const std::string*, const SafeTensor*>> items;
  for (const auto& kv : tensors) {
    const SafeTensor& st = kv.second;
    const std::string where = ctx + "tensor '" + kv.first + "': ";
    if (kv.first == "__metadata__")
      throw std::invalid_argument(ctx + "\"__metadata__\" is reserved and cannot name a tensor");
    const std::size_t esize = safetensors_dtype_size(st.dtype);
    if (esize == 0) throw std::invalid_argument(where + "unknown dtype \"" + st.dtype + "\"");
    std::uint64_t bytes = 0;
    if (!byte_size(st.shape, esize, bytes))
      throw std::invalid_argument(where + "invalid shape " + shape_str(st.shape));
    if (bytes != st.bytes.size())
      throw std::invalid_argument(where + "shape " + shape_str(st.shape) + " of " + st.dtype +
                                  " needs " + std::to_string(bytes) + " bytes, got " +
                                  std::to_string(st.bytes.size()));
    items.emplace_back(&kv.first, &st);
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    const std::size_t sa = safetensors_dtype_size(a.second->dtype);
    const std::size_t sb = safetensors_dtype_size(b.second->dtype);
    return sa != sb ? sa > sb : *a.first < *b.first;
  });
  StLayout out;
  std::string& h = out.header;
  h += '{';
  bool first = true;
  try {
    if (!metadata.empty()) {
      h += "\"__metadata__\":{";
      bool f2 = true;
      for (const auto& kv : metadata) {
        if (!f2) h += ',';
        f2 = false;
        json_append_string(h, kv.first);
        h += ':';
        json_append_string(h, kv.second);
      }
      h += '}';
      first = false;
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(ctx + "metadata: " + e.what());
  }
  std::uint64_t offset = 0;
  for (const auto& it : items) {
    const SafeTensor& st = *it.second;
    if (!first) h += ',';
    first = false;
    try {
      json_append_string(h, *it.first);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(ctx + "tensor name: " + e.what());
    }
    h += ":{\"dtype\":\"" + st.dtype + "\",\"shape\":[";
    for (std::size_t i = 0; i < st.shape.size(); ++i)
      h += (i ? "," : "") + std::to_string(st.shape[i]);
    const std::uint64_t end = offset + st.bytes.size();
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
    out.order.push_back(&st);
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  if (h.size() > kSafetensorsMaxHeaderBytes)
    throw std::invalid_argument(ctx + "header of " + std::to_string(h.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(kSafetensorsMaxHeaderBytes));
  out.data_bytes = offset;
  return out;
}
#else
    ;
#endif

}  // namespace detail

/// The bytes of a safetensors file holding `tensors` and `metadata` (the same bytes
/// `write_safetensors` writes). Throws std::invalid_argument on an invalid tensor (unknown
/// dtype, byte count not matching the shape, a name that is not UTF-8 or is "__metadata__").
///
/// @code
/// std::map<std::string, onestone::io::SafeTensor> m{{"x", onestone::io::to_safetensor(x)}};
/// std::vector<unsigned char> bytes = onestone::io::serialize_safetensors(m);
/// @endcode
ONESTONE_FUNC std::vector<unsigned char> serialize_safetensors(
    const std::map<std::string, SafeTensor>& tensors,
    const std::map<std::string, std::string>& metadata = {})
#if ONESTONE_DEFINE_FUNCTIONS
{
  const detail::StLayout layout = detail::st_layout(tensors, metadata, "<memory>");
  std::vector<unsigned char> out(8 + layout.header.size() + layout.data_bytes);
  detail::store_le<std::uint64_t>(out.data(), layout.header.size());
  std::memcpy(out.data() + 8, layout.header.data(), layout.header.size());
  unsigned char* p = out.data() + 8 + layout.header.size();
  for (const SafeTensor* st : layout.order) {
    if (!st->bytes.empty()) std::memcpy(p, st->bytes.data(), st->bytes.size());
    p += st->bytes.size();
  }
  return out;
}
#else
    ;
#endif

/// Writes `tensors` (any known dtype; use `to_safetensor` for F32 / F64 tensors) and
/// `metadata` to `path` atomically: the previous file is replaced only once the new one is
/// complete and synced. The header is padded with spaces to a multiple of 8 bytes and the data
/// ordered by element size then name, as the reference implementation does.
/// Throws std::invalid_argument for invalid tensors, std::runtime_error for I/O errors.
///
/// @code
/// std::map<std::string, onestone::io::SafeTensor> m;
/// m["w"] = onestone::io::to_safetensor(w);
/// onestone::io::write_safetensors("weights.safetensors", m, {{"epoch", "3"}});
/// @endcode
ONESTONE_FUNC void write_safetensors(const std::string& path,
                                     const std::map<std::string, SafeTensor>& tensors,
                                     const std::map<std::string, std::string>& metadata = {},
                                     const AtomicWriteOptions& options = AtomicWriteOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  const detail::StLayout layout = detail::st_layout(tensors, metadata, path);
  unsigned char len[8];
  detail::store_le<std::uint64_t>(len, layout.header.size());
  AtomicFile f(path, options);
  f.write(len, 8);
  f.write(layout.header);
  for (const SafeTensor* st : layout.order) f.write(st->bytes.data(), st->bytes.size());
  f.commit();
}
#else
    ;
#endif

/// Saves the parameters of `module` (its `named_parameters()`, e.g. "fc.weight") to a
/// safetensors file at `path`, as F32 for `Module<float>` and F64 for `Module<double>`, with
/// optional `metadata`. Atomic (see `write_safetensors`).
///
/// @code
/// onestone::nn::Linear<float> fc(onestone::nn::LinearOptions(4, 2));
/// onestone::io::save_parameters(fc, "fc.safetensors");
/// @endcode
template <class T>
void save_parameters(const nn::Module<T>& module, const std::string& path,
                     const std::map<std::string, std::string>& metadata = {},
                     const AtomicWriteOptions& options = AtomicWriteOptions()) {
  std::map<std::string, SafeTensor> tensors;
  for (const auto& np : module.named_parameters())
    tensors[np.first] = to_safetensor(np.second->value());
  write_safetensors(path, tensors, metadata, options);
}

/// What `load_parameters` did: `loaded` lists the parameters that received values; `missing`
/// (parameters with no tensor in the file) and `unexpected` (tensors matching no parameter)
/// can be non-empty only in non-strict mode.
///
/// @code
/// auto report = onestone::io::load_parameters(model, "partial.safetensors", /*strict=*/false);
/// for (const auto& name : report.missing) std::cout << "kept initial " << name << "\n";
/// @endcode
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
};

namespace detail {

/// Why `st` (tensor `name` of a file) cannot fill a T tensor of shape `expected`, or "".
template <class T>
std::string load_problem(const std::string& name, const SafeTensor& st, const Shape& expected,
                         const std::string& target) {
  const std::string where =
      "tensor '" + name + "' (data at byte offset " + std::to_string(st.file_offset) + ")";
  bool same = st.shape.size() == static_cast<std::size_t>(expected.rank());
  for (int i = 0; same && i < expected.rank(); ++i)
    same = st.shape[static_cast<std::size_t>(i)] == expected[i];
  if (!same)
    return where + " has shape " + shape_str(st.shape) + " but " + target + " has shape " +
           expected.str();
  if (std::is_floating_point_v<T> ? !is_float_dtype(st.dtype)
                                  : st.dtype != safetensors_dtype_of<T>())
    return where + " has dtype " + st.dtype + ", which cannot be loaded into " + target + " (" +
           safetensors_dtype_of<T>() + ")";
  return "";
}

/// Throws std::runtime_error listing `problems` (at most 20) when there are any.
ONESTONE_FUNC void throw_problems(const std::string& context,
                                  const std::vector<std::string>& problems,
                                  const std::string& unchanged)
#if ONESTONE_DEFINE_FUNCTIONS
{
  if (problems.empty()) return;
  std::string msg = context + ": " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") + ", " + unchanged + ":";
  for (std::size_t i = 0; i < problems.size() && i < 20; ++i) msg += "\n  - " + problems[i];
  if (problems.size() > 20)
    msg += "\n  - ... and " + std::to_string(problems.size() - 20) + " more";
  throw std::runtime_error(msg);
}
#else
    ;
#endif

}  // namespace detail

/// Loads parameter values into `module` from the safetensors file at `path`, all or nothing.
///
/// Everything is checked before any value is copied: the file (see `read_safetensors`), that
/// every parameter has a tensor of the same name (strict) and no tensor lacks a parameter
/// (strict), that shapes match exactly and that dtypes convert (F16, BF16, F32 or F64 into
/// float / double). On any problem it throws std::runtime_error listing every problem (tensor
/// name, byte offset, expected vs found) and the module is unchanged. With `strict = false`,
/// missing and unexpected names are reported in the returned `LoadReport` instead.
///
/// @code
/// onestone::nn::Linear<float> fc(onestone::nn::LinearOptions(4, 2));
/// onestone::io::load_parameters(fc, "fc.safetensors");   // throws if anything differs
/// @endcode
template <class T>
LoadReport load_parameters(nn::Module<T>& module, const std::string& path, bool strict = true) {
  const auto tensors = read_safetensors(path);
  const auto params = module.named_parameters();
  LoadReport report;
  std::vector<std::string> problems;
  std::vector<std::pair<nn::Parameter<T>*, const SafeTensor*>> plan;
  std::set<std::string> names;
  for (const auto& np : params) {
    names.insert(np.first);
    const auto it = tensors.find(np.first);
    if (it == tensors.end()) {
      if (strict)
        problems.push_back("parameter '" + np.first + "' of shape " + np.second->shape().str() +
                           " has no tensor in the file");
      else
        report.missing.push_back(np.first);
      continue;
    }
    const std::string p = detail::load_problem<T>(it->first, it->second, np.second->shape(),
                                                  "parameter '" + np.first + "'");
    if (!p.empty())
      problems.push_back(p);
    else
      plan.emplace_back(np.second, &it->second);
    report.loaded.push_back(np.first);
  }
  for (const auto& kv : tensors) {
    if (names.count(kv.first)) continue;
    if (strict)
      problems.push_back("tensor '" + kv.first + "' (data at byte offset " +
                         std::to_string(kv.second.file_offset) + ") matches no parameter");
    else
      report.unexpected.push_back(kv.first);
  }
  detail::throw_problems("load_parameters: '" + path + "'", problems, "the module was not changed");
  // Convert everything first, then copy (conversion is the only step that allocates).
  std::vector<Tensor<T>> values;
  values.reserve(plan.size());
  for (const auto& step : plan) values.push_back(to_tensor<T>(*step.second));
  for (std::size_t i = 0; i < plan.size(); ++i) {
    Tensor<T>& dst = plan[i].first->value();
    std::copy(values[i].data(), values[i].data() + values[i].numel(), dst.data());
  }
  return report;
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(IO_FLOAT, Tensor<float> to_tensor<float>(const SafeTensor&))
ONESTONE_EXPLICIT(IO_DOUBLE, Tensor<double> to_tensor<double>(const SafeTensor&))
ONESTONE_EXPLICIT(IO_FLOAT, SafeTensor to_safetensor<float>(const Tensor<float>&))
ONESTONE_EXPLICIT(IO_DOUBLE, SafeTensor to_safetensor<double>(const Tensor<double>&))
ONESTONE_EXPLICIT(IO_FLOAT,
                  void save_parameters<float>(const nn::Module<float>&, const std::string&,
                                              const std::map<std::string, std::string>&,
                                              const AtomicWriteOptions&))
ONESTONE_EXPLICIT(IO_DOUBLE,
                  void save_parameters<double>(const nn::Module<double>&, const std::string&,
                                               const std::map<std::string, std::string>&,
                                               const AtomicWriteOptions&))
ONESTONE_EXPLICIT(IO_FLOAT,
                  LoadReport load_parameters<float>(nn::Module<float>&, const std::string&, bool))
ONESTONE_EXPLICIT(IO_DOUBLE,
                  LoadReport load_parameters<double>(nn::Module<double>&, const std::string&, bool))

}  // namespace onestone::io
