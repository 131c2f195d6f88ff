#pragma once
/// @file json.hpp
/// A minimal, strict JSON (RFC 8259) parser and writer, sufficient for safetensors headers:
/// objects, arrays, strings (all escapes including `\uXXXX` surrogate pairs, UTF-8 checked),
/// integers, numbers, booleans and null, with depth and size limits. No external library.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "onestone/config.hpp"

namespace onestone::io {

/// A JSON syntax or limit error: a std::runtime_error whose message reads
/// "JSON error at byte offset N: ..." and whose `offset()` is N (counted from the start of the
/// parsed text).
///
/// @code
/// try { onestone::io::parse_json("[1, 2"); }
/// catch (const onestone::io::JsonError& e) { std::size_t where = e.offset(); }  // 5
/// @endcode
class JsonError : public std::runtime_error {
 public:
  JsonError(std::size_t offset, const std::string& reason)
      : std::runtime_error("JSON error at byte offset " + std::to_string(offset) + ": " + reason),
        offset_(offset),
        reason_(reason) {}
  /// Byte offset of the error in the parsed text.
  std::size_t offset() const noexcept { return offset_; }
  /// The message without the "JSON error at byte offset N: " prefix.
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::size_t offset_;
  std::string reason_;
};

struct JsonMember;

/// One parsed JSON value with the byte offset where it starts in the parsed text.
///
/// Kinds: `Null`, `Bool`, `Integer` (a number written without fraction or exponent that fits in
/// int64), `Number` (any other number, as double), `String` (UTF-8), `Array`, `Object`
/// (members in document order; keys are unique, the parser rejects duplicates). The `as_*`
/// accessors throw JsonError (with this value's offset) when the kind differs.
///
/// @code
/// onestone::io::JsonValue v = onestone::io::parse_json(R"({"shape": [2, 3]})");
/// const onestone::io::JsonValue* shape = v.find("shape");
/// std::int64_t rows = shape->as_array()[0].as_int();   // 2
/// @endcode
class JsonValue {
 public:
  /// The kind of a value.
  enum class Kind { Null, Bool, Integer, Number, String, Array, Object };

  JsonValue() = default;
  /// Builders (the offset is that of the parsed text, 0 for values built in code).
  static JsonValue null(std::size_t offset = 0) { return JsonValue(Kind::Null, offset); }
  static JsonValue boolean(bool b, std::size_t offset = 0) {
    JsonValue v(Kind::Bool, offset);
    v.bool_ = b;
    return v;
  }
  static JsonValue integer(std::int64_t i, std::size_t offset = 0) {
    JsonValue v(Kind::Integer, offset);
    v.int_ = i;
    return v;
  }
  static JsonValue number(double d, std::size_t offset = 0) {
    JsonValue v(Kind::Number, offset);
    v.num_ = d;
    return v;
  }
  static JsonValue string(std::string s, std::size_t offset = 0) {
    JsonValue v(Kind::String, offset);
    v.str_ = std::move(s);
    return v;
  }
  static JsonValue array(std::vector<JsonValue> items, std::size_t offset = 0) {
    JsonValue v(Kind::Array, offset);
    v.arr_ = std::move(items);
    return v;
  }
  static inline JsonValue object(std::vector<JsonMember> members, std::size_t offset = 0);

  Kind kind() const noexcept { return kind_; }
  /// Byte offset of the value's first character in the parsed text.
  std::size_t offset() const noexcept { return offset_; }
  bool is_null() const noexcept { return kind_ == Kind::Null; }
  bool is_string() const noexcept { return kind_ == Kind::String; }
  bool is_integer() const noexcept { return kind_ == Kind::Integer; }
  bool is_array() const noexcept { return kind_ == Kind::Array; }
  bool is_object() const noexcept { return kind_ == Kind::Object; }

  bool as_bool() const {
    expect(Kind::Bool);
    return bool_;
  }
  std::int64_t as_int() const {
    expect(Kind::Integer);
    return int_;
  }
  /// The value as a double (integers are converted).
  double as_number() const {
    if (kind_ == Kind::Integer) return static_cast<double>(int_);
    expect(Kind::Number);
    return num_;
  }
  const std::string& as_string() const {
    expect(Kind::String);
    return str_;
  }
  const std::vector<JsonValue>& as_array() const {
    expect(Kind::Array);
    return arr_;
  }
  inline const std::vector<JsonMember>& as_object() const;
  /// The member named `key` of an object, or nullptr (throws JsonError if not an object).
  inline const JsonValue* find(const std::string& key) const;

  /// The name of a kind ("null", "boolean", "integer", "number", "string", "array", "object").
  static const char* kind_name(Kind k) noexcept {
    switch (k) {
      case Kind::Null:
        return "null";
      case Kind::Bool:
        return "boolean";
      case Kind::Integer:
        return "integer";
      case Kind::Number:
        return "number";
      case Kind::String:
        return "string";
      case Kind::Array:
        return "array";
      case Kind::Object:
        return "object";
    }
    return "value";
  }

 private:
  JsonValue(Kind k, std::size_t offset) : kind_(k), offset_(offset) {}
  void expect(Kind k) const {
    if (kind_ != k)
      throw JsonError(offset_, std::string("expected ") + (k == Kind::Integer ? "an " : "a ") +
                                   kind_name(k) + ", got " + kind_name(kind_));
  }

  Kind kind_ = Kind::Null;
  std::size_t offset_ = 0;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double num_ = 0;
  std::string str_;
  std::vector<JsonValue> arr_;
  std::vector<JsonMember> obj_;
};

/// One member of a JSON object: its key, the byte offset of the key's opening quote, and its
/// value. Example: `for (const auto& m : v.as_object()) use(m.key, m.value);`
struct JsonMember {
  std::string key;
  std::size_t key_offset = 0;
  JsonValue value;
};

inline JsonValue JsonValue::object(std::vector<JsonMember> members, std::size_t offset) {
  JsonValue v(Kind::Object, offset);
  v.obj_ = std::move(members);
  return v;
}
inline const std::vector<JsonMember>& JsonValue::as_object() const {
  expect(Kind::Object);
  return obj_;
}
inline const JsonValue* JsonValue::find(const std::string& key) const {
  for (const JsonMember& m : as_object())
    if (m.key == key) return &m.value;
  return nullptr;
}

/// Limits of `parse_json`: `max_depth` (default 64) bounds the nesting of arrays and objects,
/// `max_bytes` (default 100'000'000) bounds the text size.
///
/// @code
/// onestone::io::JsonLimits lim;
/// lim.max_depth = 8;
/// auto v = onestone::io::parse_json(text, lim);
/// @endcode
struct JsonLimits {
  std::size_t max_depth = 64;
  std::size_t max_bytes = 100000000;
};

namespace detail {

/// Recursive-descent parser over a byte range; every error is a JsonError with its offset.
class JsonParser {
 public:
  JsonParser(const char* data, std::size_t size, const JsonLimits& limits)
      : p_(data), n_(size), limits_(limits) {}

  JsonValue parse_document() {
    if (n_ > limits_.max_bytes)
      throw JsonError(0, "text of " + std::to_string(n_) + " bytes exceeds the limit of " +
                             std::to_string(limits_.max_bytes));
    skip_ws();
    JsonValue v = parse_value(0);
    skip_ws();
    if (i_ != n_) error("unexpected " + describe() + " after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) const { throw JsonError(i_, what); }
  [[noreturn]] void error_at(std::size_t at, const std::string& what) const {
    throw JsonError(at, what);
  }
  std::string describe() const {
    if (i_ >= n_) return "end of text";
    const auto c = static_cast<unsigned char>(p_[i_]);
    if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
    const char* hex = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
  }
  void skip_ws() noexcept {
    while (i_ < n_ && (p_[i_] == ' ' || p_[i_] == '\t' || p_[i_] == '\n' || p_[i_] == '\r')) ++i_;
  }
  void expect_char(char c) {
    if (i_ >= n_ || p_[i_] != c) error(std::string("expected '") + c + "', got " + describe());
    ++i_;
  }

  JsonValue parse_value(std::size_t depth) {
    if (i_ >= n_) error("expected a value, got end of text");
    const char c = p_[i_];
    switch (c) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"': {
        const std::size_t at = i_;
        return JsonValue::string(parse_string(), at);
      }
      case 't':
        return parse_literal("true", JsonValue::boolean(true, i_));
      case 'f':
        return parse_literal("false", JsonValue::boolean(false, i_));
      case 'n':
        return parse_literal("null", JsonValue::null(i_));
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        error("expected a value, got " + describe());
    }
  }

  JsonValue parse_literal(const char* word, JsonValue v) {
    const std::size_t len = std::char_traits<char>::length(word);
    if (n_ - i_ < len || std::char_traits<char>::compare(p_ + i_, word, len) != 0)
      error(std::string("invalid literal (expected '") + word + "')");
    i_ += len;
    return v;
  }

  void check_depth(std::size_t depth) const {
    if (depth > limits_.max_depth)
      error("nesting deeper than the limit of " + std::to_string(limits_.max_depth));
  }

  JsonValue parse_array(std::size_t depth) {
    check_depth(depth);
    const std::size_t at = i_;
    ++i_;  // '['
    std::vector<JsonValue> items;
    skip_ws();
    if (i_ < n_ && p_[i_] == ']') {
      ++i_;
      return JsonValue::array(std::move(items), at);
    }
    for (;;) {
      skip_ws();
      items.push_back(parse_value(depth));
      skip_ws();
      if (i_ < n_ && p_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < n_ && p_[i_] == ']') {
        ++i_;
        return JsonValue::array(std::move(items), at);
      }
      error("expected ',' or ']' in array, got " + describe());
    }
  }

  JsonValue parse_object(std::size_t depth) {
    check_depth(depth);
    const std::size_t at = i_;
    ++i_;  // '{'
    std::vector<JsonMember> members;
    skip_ws();
    if (i_ < n_ && p_[i_] == '}') {
      ++i_;
      return JsonValue::object(std::move(members), at);
    }
    for (;;) {
      skip_ws();
      if (i_ >= n_ || p_[i_] != '"') error("expected a string key in object, got " + describe());
      JsonMember m;
      m.key_offset = i_;
      m.key = parse_string();
      skip_ws();
      expect_char(':');
      skip_ws();
      m.value = parse_value(depth);
      members.push_back(std::move(m));
      skip_ws();
      if (i_ < n_ && p_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < n_ && p_[i_] == '}') {
        ++i_;
        break;
      }
      error("expected ',' or '}' in object, got " + describe());
    }
    // Duplicate keys: sort member indices by key, report the later occurrence of a repeat.
    std::vector<std::size_t> order(members.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return members[a].key != members[b].key ? members[a].key < members[b].key : a < b;
    });
    for (std::size_t k = 1; k < order.size(); ++k)
      if (members[order[k]].key == members[order[k - 1]].key)
        error_at(members[order[k]].key_offset, "duplicate key \"" + members[order[k]].key + "\"");
    return JsonValue::object(std::move(members), at);
  }

  static int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  unsigned read_hex4() {
    if (n_ - i_ < 4) error("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex_value(p_[i_]);
      if (h < 0) error("invalid hex digit in \\u escape, got " + describe());
      v = (v << 4) | static_cast<unsigned>(h);
      ++i_;
    }
    return v;
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Parses a string starting at the opening quote; returns its UTF-8 content.
  std::string parse_string() {
    ++i_;  // '"'
    std::string out;
    for (;;) {
      if (i_ >= n_) error("unterminated string");
      const auto c = static_cast<unsigned char>(p_[i_]);
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) error("unescaped control character " + describe() + " in string");
      if (c == '\\') {
        const std::size_t esc = i_;
        ++i_;
        if (i_ >= n_) error("unterminated escape sequence");
        const char e = p_[i_++];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            unsigned cp = read_hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (n_ - i_ < 2 || p_[i_] != '\\' || p_[i_ + 1] != 'u')
                error_at(esc, "high surrogate \\u escape not followed by a low surrogate");
              i_ += 2;
              const unsigned lo = read_hex4();
              if (lo < 0xDC00 || lo > 0xDFFF)
                error_at(esc, "high surrogate \\u escape not followed by a low surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              error_at(esc, "lone low surrogate \\u escape");
            }
            append_utf8(out, cp);
            break;
          }
          default:
            i_ = esc;
            error("invalid escape sequence");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      const std::size_t len =
          utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_) + i_, n_ - i_);
      if (len == 0) error("invalid UTF-8 sequence in string");
      out.append(p_ + i_, len);
      i_ += len;
    }
  }

  JsonValue parse_number() {
    const std::size_t at = i_;
    bool negative = false;
    if (p_[i_] == '-') {
      negative = true;
      ++i_;
    }
    if (i_ >= n_ || p_[i_] < '0' || p_[i_] > '9') error("expected a digit, got " + describe());
    if (p_[i_] == '0') {
      ++i_;
      if (i_ < n_ && p_[i_] >= '0' && p_[i_] <= '9') error("leading zero in number");
    } else {
      while (i_ < n_ && p_[i_] >= '0' && p_[i_] <= '9') ++i_;
    }
    bool integral = true;
    if (i_ < n_ && p_[i_] == '.') {
      integral = false;
      ++i_;
      if (i_ >= n_ || p_[i_] < '0' || p_[i_] > '9')
        error("expected a digit after '.', got " + describe());
      while (i_ < n_ && p_[i_] >= '0' && p_[i_] <= '9') ++i_;
    }
    if (i_ < n_ && (p_[i_] == 'e' || p_[i_] == 'E')) {
      integral = false;
      ++i_;
      if (i_ < n_ && (p_[i_] == '+' || p_[i_] == '-')) ++i_;
      if (i_ >= n_ || p_[i_] < '0' || p_[i_] > '9')
        error("expected a digit in exponent, got " + describe());
      while (i_ < n_ && p_[i_] >= '0' && p_[i_] <= '9') ++i_;
    }
    if (integral) {
      // Magnitude in uint64 with overflow checks, then the sign.
      std::uint64_t mag = 0;
      for (std::size_t k = at + (negative ? 1 : 0); k < i_; ++k) {
        const auto d = static_cast<std::uint64_t>(p_[k] - '0');
        if (mag > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
          error_at(at, "integer out of the 64-bit range");
        mag = mag * 10 + d;
      }
      const std::uint64_t limit =
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
      if (mag > limit) error_at(at, "integer out of the 64-bit range");
      const std::int64_t v = negative ? (mag == limit ? std::numeric_limits<std::int64_t>::min()
                                                      : -static_cast<std::int64_t>(mag))
                                      : static_cast<std::int64_t>(mag);
      return JsonValue::integer(v, at);
    }
    double d = 0;
    const auto r = std::from_chars(p_ + at, p_ + i_, d);
    if (r.ec == std::errc::result_out_of_range) error_at(at, "number out of the double range");
    if (r.ec != std::errc() || r.ptr != p_ + i_) error_at(at, "invalid number");
    return JsonValue::number(d, at);
  }

 public:
  /// Length (1..4) of the valid UTF-8 sequence starting at `s` (at most `n` bytes available),
  /// or 0 when it is invalid (overlong, surrogate, above U+10FFFF or truncated).
  static std::size_t utf8_sequence_length(const unsigned char* s, std::size_t n) noexcept {
    const unsigned char c = s[0];
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return 0;
    }
    if (n < len) return 0;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    return len;
  }

 private:
  const char* p_;
  std::size_t n_;
  std::size_t i_ = 0;
  JsonLimits limits_;
};

}  // namespace detail

/// Parses `size` bytes of JSON text (one value, optionally surrounded by whitespace).
/// Throws JsonError ("JSON error at byte offset N: ...") on any syntax error, invalid UTF-8,
/// duplicate object key, integer overflow, or a limit exceeded.
///
/// @code
/// std::string text = R"({"a": [1, 2], "b": "x\u00e9"})";
/// onestone::io::JsonValue v = onestone::io::parse_json(text.data(), text.size());
/// @endcode
ONESTONE_FUNC JsonValue parse_json(const char* data, std::size_t size,
                                   const JsonLimits& limits = JsonLimits())
#if ONESTONE_DEFINE_FUNCTIONS
{
  return detail::JsonParser(data, size, limits).parse_document();
}
#else
    ;
#endif

/// Parses the JSON text `text`. Example: `auto v = onestone::io::parse_json("[1, 2, 3]");`
ONESTONE_FUNC JsonValue parse_json(const std::string& text, const JsonLimits& limits = JsonLimits())
#if ONESTONE_DEFINE_FUNCTIONS
{
  return parse_json(text.data(), text.size(), limits);
}
#else
    ;
#endif

/// Appends `s` to `out` as a JSON string literal (quotes included): `"` and `\` are escaped,
/// control characters become `\n`, `\t`, ... or `\u00XX`, other characters are copied as UTF-8.
/// Throws std::invalid_argument if `s` is not valid UTF-8 (it could not be read back).
///
/// @code
/// std::string out;
/// onestone::io::json_append_string(out, "a\"b");   // out == "\"a\\\"b\""
/// @endcode
ONESTONE_FUNC void json_append_string(std::string& out, const std::string& s)
#if ONESTONE_DEFINE_FUNCTIONS
{
  out += '"';
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = u[i];
    if (c >= 0x80) {
      const std::size_t len = detail::JsonParser::utf8_sequence_length(u + i, s.size() - i);
      if (len == 0)
        throw std::invalid_argument("JSON writer: string is not valid UTF-8 at byte " +
                                    std::to_string(i));
      out.append(s, i, len);
      i += len;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}
#else
    ;
#endif

/// `s` as a JSON string literal. Example: `onestone::io::json_quote("x\n") == "\"x\\n\""`.
ONESTONE_FUNC std::string json_quote(const std::string& s)
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::string out;
  json_append_string(out, s);
  return out;
}
#else
    ;
#endif

/// Compact JSON text of `v` (no spaces; object members in stored order). Numbers are written
/// in the shortest form that reads back to the same double, always with a fraction or an
/// exponent (so they read back as numbers, not integers); non-finite numbers (which JSON cannot
/// express) throw std::invalid_argument.
///
/// @code
/// auto v = onestone::io::parse_json(R"( { "a" : [ 1 , 2 ] } )");
/// std::string s = onestone::io::to_json(v);   // {"a":[1,2]}
/// @endcode
ONESTONE_FUNC std::string to_json(const JsonValue& v)
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::string out;
  struct Writer {
    std::string& out;
    void write(const JsonValue& x) {
      switch (x.kind()) {
        case JsonValue::Kind::Null:
          out += "null";
          break;
        case JsonValue::Kind::Bool:
          out += x.as_bool() ? "true" : "false";
          break;
        case JsonValue::Kind::Integer:
          out += std::to_string(x.as_int());
          break;
        case JsonValue::Kind::Number: {
          const double d = x.as_number();
          if (!(d - d == 0)) throw std::invalid_argument("JSON writer: non-finite number");
          char buf[64];
          const auto r = std::to_chars(buf, buf + sizeof buf, d);
          out.append(buf, r.ptr);
          // Keep it a non-integer token ("7e+19" or "2.0", never "70000000000000000000" or
          // "-0"), so it reads back as a Number, not as an (overflowing) Integer.
          if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr)
            out += ".0";
          break;
        }
        case JsonValue::Kind::String:
          json_append_string(out, x.as_string());
          break;
        case JsonValue::Kind::Array: {
          out += '[';
          bool first = true;
          for (const JsonValue& item : x.as_array()) {
            if (!first) out += ',';
            first = false;
            write(item);
          }
          out += ']';
          break;
        }
        case JsonValue::Kind::Object: {
          out += '{';
          bool first = true;
          for (const JsonMember& m : x.as_object()) {
            if (!first) out += ',';
            first = false;
            json_append_string(out, m.key);
            out += ':';
            write(m.value);
          }
          out += '}';
          break;
        }
      }
    }
  };
  Writer{out}.write(v);
  return out;
}
#else
    ;
#endif

}  // namespace onestone::io
