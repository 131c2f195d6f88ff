#pragma once
/// @file idx.hpp
/// Reader for IDX files (the MNIST / Fashion-MNIST format), gzipped or raw, via zlib.
/// Link with zlib (`-lz`, or the CMake target that provides it).

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// IDX element type codes (byte 2 of the header).
inline constexpr std::uint8_t kIdxU8 = 0x08;
inline constexpr std::uint8_t kIdxI8 = 0x09;
inline constexpr std::uint8_t kIdxI16 = 0x0B;
inline constexpr std::uint8_t kIdxI32 = 0x0C;
inline constexpr std::uint8_t kIdxF32 = 0x0D;
inline constexpr std::uint8_t kIdxF64 = 0x0E;

/// Bytes per element of IDX type `type`, or 0 for an unknown code.
inline int idx_type_size(std::uint8_t type) noexcept {
  switch (type) {
    case kIdxU8:
    case kIdxI8:
      return 1;
    case kIdxI16:
      return 2;
    case kIdxI32:
    case kIdxF32:
      return 4;
    case kIdxF64:
      return 8;
    default:
      return 0;
  }
}

/// Name of IDX type `type` ("u8", "i8", "i16", "i32", "f32", "f64" or "unknown").
inline const char* idx_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case kIdxU8:
      return "u8";
    case kIdxI8:
      return "i8";
    case kIdxI16:
      return "i16";
    case kIdxI32:
      return "i32";
    case kIdxF32:
      return "f32";
    case kIdxF64:
      return "f64";
    default:
      return "unknown";
  }
}

/// The raw content of an IDX file: element `type` code, dimensions (rank 1..4) and the data
/// bytes exactly as stored (big-endian), decoded on demand.
///
/// Fields: `type` (one of the kIdx* codes), `dims`, `data` (numel * element size bytes).
///
/// @code
/// onestone::data::IdxArray a = onestone::data::read_idx("t10k-labels-idx1-ubyte.gz");
/// auto labels = a.to_tensor<std::int64_t>();   // shape [10000]
/// double first = a.value(0);
/// @endcode
struct IdxArray {
  std::uint8_t type = kIdxU8;
  std::vector<Index> dims;
  std::vector<std::uint8_t> data;

  /// Number of elements (product of `dims`).
  Index numel() const {
    Index n = 1;
    for (Index d : dims) n *= d;
    return n;
  }
  /// Bytes per element.
  int element_size() const { return idx_type_size(type); }
  /// The dims as a `Shape`.
  Shape shape() const {
    Shape s;
    for (Index d : dims) s.push_back(d);
    return s;
  }
  /// Element `i` decoded to double (bounds-checked).
  double value(Index i) const {
    if (i < 0 || i >= numel())
      throw std::out_of_range("IdxArray::value: index " + std::to_string(i) + " out of range for " +
                              shape().str());
    double v = 0;
    decode(&v, i, 1);
    return v;
  }
  /// Decodes elements `[begin, begin + count)` into `out`, converting with `static_cast<U>`.
  template <class U>
  void decode(U* out, Index begin, Index count) const {
    if (begin < 0 || count < 0 || begin + count > numel())
      throw std::out_of_range("IdxArray::decode: elements [" + std::to_string(begin) + ", " +
                              std::to_string(begin + count) + ") out of range for " +
                              shape().str());
    switch (type) {
      case kIdxU8:
        decode_as<std::uint8_t, std::uint8_t>(out, begin, count);
        break;
      case kIdxI8:
        decode_as<std::int8_t, std::uint8_t>(out, begin, count);
        break;
      case kIdxI16:
        decode_as<std::int16_t, std::uint16_t>(out, begin, count);
        break;
      case kIdxI32:
        decode_as<std::int32_t, std::uint32_t>(out, begin, count);
        break;
      case kIdxF32:
        decode_as<float, std::uint32_t>(out, begin, count);
        break;
      case kIdxF64:
        decode_as<double, std::uint64_t>(out, begin, count);
        break;
      default:
        throw std::invalid_argument(std::string("IdxArray::decode: unknown IDX type code ") +
                                    std::to_string(type));
    }
  }
  /// All elements as a tensor of shape `dims`.
  template <class U>
  Tensor<U> to_tensor() const {
    Tensor<U> t(shape());
    decode(t.data(), 0, numel());
    return t;
  }

 private:
  template <class Src, class Bits, class U>
  void decode_as(U* out, Index begin, Index count) const {
    static_assert(sizeof(Src) == sizeof(Bits), "IdxArray: bit width mismatch");
    const std::uint8_t* p = data.data() + static_cast<std::size_t>(begin) * sizeof(Src);
    for (Index i = 0; i < count; ++i, p += sizeof(Src)) {
      Bits bits = 0;
      for (std::size_t b = 0; b < sizeof(Src); ++b) bits = static_cast<Bits>((bits << 8) | p[b]);
      Src v;
      std::memcpy(&v, &bits, sizeof(Src));
      out[i] = static_cast<U>(v);
    }
  }
};

namespace detail {

/// Owns a zlib file handle (closes it on scope exit).
struct GzFile {
  gzFile f = nullptr;
  ~GzFile() {
    if (f) gzclose(f);
  }
};

/// Two lowercase hex digits of `b` (for messages).
inline std::string hex_byte(unsigned char b) {
  const char* digits = "0123456789abcdef";
  return std::string{digits[b >> 4], digits[b & 15]};
}

/// Reads up to `n` bytes; returns the count read (short only at end of input). Throws on a
/// zlib error other than a premature end of the compressed stream.
inline std::size_t gz_read_fully(gzFile f, void* dst, std::size_t n, const std::string& path,
                                 std::uint64_t offset) {
  auto* out = static_cast<unsigned char*>(dst);
  std::size_t got = 0;
  while (got < n) {
    const std::size_t want = std::min<std::size_t>(n - got, std::size_t(1) << 30);
    const int r = gzread(f, out + got, static_cast<unsigned>(want));
    if (r < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      if (err == Z_BUF_ERROR) break;  // compressed stream ends early: treated as truncation
      throw std::runtime_error(path + ": read error at byte offset " +
                               std::to_string(offset + got) + ": " + (msg ? msg : "zlib error"));
    }
    if (r == 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      if (err != Z_OK && err != Z_BUF_ERROR)
        throw std::runtime_error(path + ": read error at byte offset " +
                                 std::to_string(offset + got) + ": " + (msg ? msg : "zlib error"));
      break;
    }
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace detail

/// Reads an IDX file, gzipped or raw (byte offsets in messages refer to the uncompressed data).
///
/// Throws std::runtime_error naming `path` when the file cannot be opened, the magic bytes are
/// wrong (offsets 0..1), the type code is unknown (offset 2), the rank is 0 or above 4
/// (offset 3), the dimensions hold more than 2^31 elements, the data is truncated
/// ("<path>: truncated at byte offset X, expected Y bytes of data") or followed by extra bytes.
inline IdxArray read_idx(const std::string& path) {
  detail::GzFile file;
  errno = 0;
  file.f = gzopen(path.c_str(), "rb");
  if (!file.f)
    throw std::runtime_error("read_idx: cannot open '" + path + "'" +
                             (errno ? std::string(": ") + std::strerror(errno) : std::string()));
  gzbuffer(file.f, 1u << 17);

  unsigned char head[4];
  const std::size_t hn = detail::gz_read_fully(file.f, head, 4, path, 0);
  if (hn < 4)
    throw std::runtime_error(path + ": truncated at byte offset " + std::to_string(hn) +
                             ", expected 4 bytes of IDX header");
  if (head[0] != 0 || head[1] != 0)
    throw std::runtime_error(path + ": bad IDX magic at byte offset " +
                             std::to_string(head[0] != 0 ? 0 : 1) + " (expected 00 00, got " +
                             detail::hex_byte(head[0]) + " " + detail::hex_byte(head[1]) + ")");
  IdxArray a;
  a.type = head[2];
  if (idx_type_size(a.type) == 0)
    throw std::runtime_error(path + ": unknown IDX type code 0x" + detail::hex_byte(head[2]) +
                             " at byte offset 2 (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)");
  const int rank = head[3];
  if (rank < 1 || rank > 4)
    throw std::runtime_error(path + ": unsupported IDX rank " + std::to_string(rank) +
                             " at byte offset 3 (expected 1..4)");

  unsigned char dimbytes[16];
  const std::size_t dim_bytes = 4u * static_cast<std::size_t>(rank);
  const std::size_t dn = detail::gz_read_fully(file.f, dimbytes, dim_bytes, path, 4);
  if (dn < dim_bytes)
    throw std::runtime_error(path + ": truncated at byte offset " + std::to_string(4 + dn) +
                             ", expected " + std::to_string(4 * rank) + " bytes of dimensions");
  constexpr std::uint64_t kMaxElements = std::uint64_t(1) << 31;
  std::uint64_t numel = 1;
  std::uint64_t nonzero = 1;  // product of the non-zero dimensions, bounded as well
  std::string dims_str;
  for (int i = 0; i < rank; ++i) {
    const std::uint64_t d =
        (std::uint64_t(dimbytes[4 * i]) << 24) | (std::uint64_t(dimbytes[4 * i + 1]) << 16) |
        (std::uint64_t(dimbytes[4 * i + 2]) << 8) | std::uint64_t(dimbytes[4 * i + 3]);
    a.dims.push_back(static_cast<Index>(d));
    dims_str += (i ? ", " : "") + std::to_string(d);
    // each d < 2^32 and numel <= 2^31 so far, so the product fits in 64 bits
    numel *= d;
    if (d != 0) nonzero *= d;
    if (numel > kMaxElements || nonzero > kMaxElements)
      throw std::runtime_error(path +
                               ": IDX dimensions at byte offset 4 hold more than 2^31 "
                               "elements (dims so far [" +
                               dims_str + "])");
  }
  const std::uint64_t header = 4 + 4 * static_cast<std::uint64_t>(rank);
  const std::uint64_t bytes = numel * static_cast<std::uint64_t>(idx_type_size(a.type));
  // Grow the buffer as data arrives (geometrically, from 1 MiB), so a short file that declares
  // huge dimensions fails on truncation without first allocating what it declared.
  std::size_t got = 0;
  while (got < bytes) {
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(bytes - got, std::max<std::uint64_t>(std::uint64_t(1) << 20, got)));
    a.data.resize(got + want);
    const std::size_t n =
        detail::gz_read_fully(file.f, a.data.data() + got, want, path, header + got);
    got += n;
    if (n < want) break;
  }
  if (got < bytes)
    throw std::runtime_error(path + ": truncated at byte offset " + std::to_string(header + got) +
                             ", expected " + std::to_string(bytes) + " bytes of data");
  unsigned char extra;
  if (detail::gz_read_fully(file.f, &extra, 1, path, header + bytes) != 0)
    throw std::runtime_error(path + ": unexpected trailing data at byte offset " +
                             std::to_string(header + bytes) + " (expected end of file after " +
                             std::to_string(bytes) + " bytes of data)");
  return a;
}

/// Reads an IDX image file of shape `[N, d1, ...]` (rank >= 2) as a `[N, d1 * ...]` tensor.
/// With `scale_to_unit`, u8 data is multiplied by 1/255 (other types are never scaled).
/// A positive `limit` keeps only the first `min(limit, N)` images.
///
/// @code
/// auto x = onestone::data::read_idx_images<float>("t10k-images-idx3-ubyte.gz");  // [10000, 784]
/// @endcode
template <class T>
Tensor<T> read_idx_images(const std::string& path, bool scale_to_unit = true, Index limit = 0) {
  const IdxArray a = read_idx(path);
  if (a.dims.size() < 2)
    throw std::runtime_error("read_idx_images: " + path + " has shape " + a.shape().str() +
                             ", expected images [N, rows, cols] (rank >= 2)");
  Index n = a.dims[0];
  if (limit > 0 && limit < n) n = limit;
  Index features = 1;
  for (std::size_t i = 1; i < a.dims.size(); ++i) features *= a.dims[i];
  Tensor<T> t(Shape{n, features});
  a.decode(t.data(), 0, n * features);
  if (scale_to_unit && a.type == kIdxU8) t.vector() *= T(1.0 / 255.0);
  return t;
}
ONESTONE_EXPLICIT(DATA_FLOAT, Tensor<float> read_idx_images<float>(const std::string&, bool, Index))
ONESTONE_EXPLICIT(DATA_DOUBLE,
                  Tensor<double> read_idx_images<double>(const std::string&, bool, Index))

/// Reads an IDX label file of shape `[N]` with an integer type as a `[N]` tensor of int64.
/// A positive `limit` keeps only the first `min(limit, N)` labels.
///
/// @code
/// auto y = onestone::data::read_idx_labels("t10k-labels-idx1-ubyte.gz");   // [10000]
/// @endcode
inline Tensor<std::int64_t> read_idx_labels(const std::string& path, Index limit = 0) {
  const IdxArray a = read_idx(path);
  if (a.dims.size() != 1)
    throw std::runtime_error("read_idx_labels: " + path + " has shape " + a.shape().str() +
                             ", expected labels [N] (rank 1)");
  if (a.type == kIdxF32 || a.type == kIdxF64)
    throw std::runtime_error("read_idx_labels: " + path + " holds " + idx_type_name(a.type) +
                             " values, expected an integer type");
  Index n = a.dims[0];
  if (limit > 0 && limit < n) n = limit;
  Tensor<std::int64_t> t(Shape{n});
  a.decode(t.data(), 0, n);
  return t;
}

}  // namespace onestone::data
