// Tests for the JSON parser/writer, the safetensors reader/writer (against an independently
// produced fixture and hand-made corrupt files) and save_parameters / load_parameters.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "onestone/io/json.hpp"
#include "onestone/io/safetensors.hpp"
#include "onestone/nn/linear.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_safetensors {

using namespace onestone;
using Catch::Matchers::Contains;
using io_test::Bytes;
using io_test::make_file;

namespace {

// The message of the std::exception `f` throws ("" when it does not throw).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::uint32_t float_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
std::uint64_t double_bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

Bytes le_floats(const std::vector<float>& v) {
  Bytes b(v.size() * 4);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::uint32_t x = float_bits(v[i]);
    for (int k = 0; k < 4; ++k)
      b[4 * i + static_cast<std::size_t>(k)] = static_cast<unsigned char>(x >> (8 * k));
  }
  return b;
}

// Reads `blob` through the in-memory reader and, written to a file, the file reader; both
// must agree. Returns the message of the error both throw ("" when they do not).
std::string corrupt_error(const Bytes& blob) {
  io_test::TempDir dir;
  const std::string path = dir.file("corrupt.safetensors");
  io_test::write_bytes(path, blob);
  const std::string from_file = error_of([&] { io::read_safetensors(path); });
  const std::string from_memory =
      error_of([&] { io::read_safetensors_bytes(blob.data(), blob.size(), path); });
  CHECK(from_file == from_memory);
  CHECK_THAT(from_file, Contains(path));
  return from_file;
}

std::string reference_path() { return io_test::fixtures_dir() + "/reference.safetensors"; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

TEST_CASE("json: values, escapes and surrogate pairs", "[io][json]") {
  const auto v = io::parse_json(
      " {\"a\": [1, -2, 0, 9223372036854775807, -9223372036854775808], \"s\": "
      "\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\u2713\\ud83d\\ude00\", \"t\": true, \"f\": false, "
      "\"n\": null, \"x\": 2.5e-3, \"o\": {}} ");
  REQUIRE(v.is_object());
  const auto& a = v.find("a")->as_array();
  REQUIRE(a.size() == 5);
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_int() == -2);
  CHECK(a[3].as_int() == std::numeric_limits<std::int64_t>::max());
  CHECK(a[4].as_int() == std::numeric_limits<std::int64_t>::min());
  CHECK(v.find("s")->as_string() == "q\"b\\s/\b\f\n\r\t\xC3\xA9\xE2\x9C\x93\xF0\x9F\x98\x80");
  CHECK(v.find("t")->as_bool());
  CHECK_FALSE(v.find("f")->as_bool());
  CHECK(v.find("n")->is_null());
  CHECK(v.find("x")->as_number() == 2.5e-3);
  CHECK(v.find("o")->as_object().empty());
  CHECK(v.find("missing") == nullptr);
  CHECK(v.find("a")->offset() == 7);
  CHECK(v.as_object()[1].key_offset == 62);
  // The writer escapes what it must and reads back to the same value.
  const std::string text = io::to_json(v);
  CHECK(io::to_json(io::parse_json(text)) == text);
  CHECK(io::json_quote(std::string("a\"\\\n\x01\xC3\xA9")) == "\"a\\\"\\\\\\n\\u0001\xC3\xA9\"");
}

TEST_CASE("json: numbers are written so that they read back as numbers", "[io][json]") {
  // Found by fuzz/fuzz_json (input kept in
  // tests/fixtures/fuzz_regressions/json/number-written-as-integer): the shortest form of
  // 72242729467296467222.0 is "72242729467296470000", which read back as an out-of-range integer.
  for (const std::string text : {"72242729467296467222.0", "-0.0", "1e300", "2.5", "-1E2", "0.0"}) {
    const auto v = io::parse_json(text);
    REQUIRE(v.kind() == io::JsonValue::Kind::Number);
    const std::string out = io::to_json(v);
    const auto back = io::parse_json(out);
    CHECK(back.kind() == io::JsonValue::Kind::Number);
    CHECK(std::signbit(back.as_number()) == std::signbit(v.as_number()));
    CHECK(back.as_number() == v.as_number());
    CHECK(io::to_json(back) == out);
  }
  CHECK(io::to_json(io::parse_json("-0.0")) == "-0.0");
  CHECK(io::to_json(io::parse_json("[2.0, 1e21]")) == "[2.0,1e+21]");
}

TEST_CASE("json: every error names its byte offset", "[io][json]") {
  const auto offset_of = [](const std::string& text) -> long {
    try {
      io::parse_json(text);
    } catch (const io::JsonError& e) {
      return static_cast<long>(e.offset());
    }
    return -1;
  };
  CHECK(offset_of("") == 0);
  CHECK(offset_of("[1, 2") == 5);
  CHECK(offset_of("[1,]") == 3);
  CHECK(offset_of("{\"a\" 1}") == 5);
  CHECK(offset_of("{\"a\": 1,}") == 8);
  CHECK(offset_of("{\"a\": 1, \"a\": 2}") == 9);  // duplicate key, at the second key
  CHECK(offset_of("[01]") == 2);
  CHECK(offset_of("[1.]") == 3);
  CHECK(offset_of("[-]") == 2);
  CHECK(offset_of("[99999999999999999999]") == 1);  // int64 overflow
  CHECK(offset_of("[9223372036854775808]") == 1);
  CHECK(offset_of("\"a\nb\"") == 2);          // raw control character
  CHECK(offset_of("\"\\x\"") == 1);           // bad escape
  CHECK(offset_of("\"\\u12G4\"") == 5);       // bad hex digit
  CHECK(offset_of("\"\\ud83d\"") == 1);       // lone high surrogate
  CHECK(offset_of("\"\\ude00\"") == 1);       // lone low surrogate
  CHECK(offset_of("\"\xC3\x28\"") == 1);      // invalid UTF-8
  CHECK(offset_of("\"\xE0\x80\x80\"") == 1);  // overlong UTF-8
  CHECK(offset_of("\"\xED\xA0\x80\"") == 1);  // UTF-8 encoded surrogate
  CHECK(offset_of("\"abc") == 4);
  CHECK(offset_of("tru") == 0);
  CHECK(offset_of("{} x") == 3);
  CHECK(offset_of("[1e999]") == 1);
  CHECK(offset_of(std::string(65, '[') + std::string(65, ']')) == 64);  // depth limit
  CHECK(offset_of(std::string(64, '[') + std::string(64, ']')) == -1);
  io::JsonLimits lim;
  lim.max_bytes = 3;
  CHECK_THROWS_WITH(io::parse_json("[1,2]", lim), Contains("exceeds the limit of 3"));
  CHECK_THROWS_WITH(io::parse_json("[1]").as_object(), Contains("expected a object, got array"));
  CHECK_THROWS_AS(io::json_quote("\xFF"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Element conversions
// ---------------------------------------------------------------------------------------------

TEST_CASE("safetensors: half and bfloat16 decode exactly, for every bit pattern", "[io]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    const int exp = static_cast<int>((h >> 10) & 0x1F);
    const int mant = static_cast<int>(h & 0x3FF);
    const float got = io::half_to_float(static_cast<std::uint16_t>(h));
    if (exp == 31 && mant != 0) {
      REQUIRE(std::isnan(got));
      REQUIRE(std::signbit(got) == ((h & 0x8000) != 0));
      REQUIRE(((float_bits(got) >> 13) & 0x3FF) == static_cast<std::uint32_t>(mant));  // payload
      continue;
    }
    double want;
    if (exp == 31)
      want = sign * std::numeric_limits<double>::infinity();
    else if (exp == 0)
      want = sign * std::ldexp(mant, -24);
    else
      want = sign * std::ldexp(1024 + mant, exp - 25);
    REQUIRE(float_bits(got) == float_bits(static_cast<float>(want)));
    // bfloat16 is the top half of a float.
    const float b = io::bfloat16_to_float(static_cast<std::uint16_t>(h));
    REQUIRE(float_bits(b) == h << 16);
  }
}

// ---------------------------------------------------------------------------------------------
// The independently written fixture
// ---------------------------------------------------------------------------------------------

TEST_CASE("safetensors: reads the Python-written fixture exactly", "[io][fixture]") {
  std::map<std::string, std::string> meta;
  const auto t = io::read_safetensors(reference_path(), &meta);
  REQUIRE(t.size() == 8);
  CHECK(meta.size() == 2);
  CHECK(meta.at("producer") == "make_safetensors_fixture.py");
  CHECK(meta.at("note") == "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80 \"quoted\" back\\slash");

  const auto f32 = io::to_tensor<float>(t.at("f32"));
  CHECK(t.at("f32").dtype == "F32");
  CHECK(f32.shape() == Shape{2, 3});
  const float f32_want[] = {1.5f,
                            -2.25f,
                            3.0f,
                            0.1f,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max()};
  for (int i = 0; i < 6; ++i) CHECK(float_bits(f32[i]) == float_bits(f32_want[i]));

  const auto f64 = io::to_tensor<double>(t.at("f64"));
  CHECK(f64.shape() == Shape{4});
  const double f64_want[] = {0.1, -1e300, std::numeric_limits<double>::denorm_min(),
                             3.141592653589793};
  for (int i = 0; i < 4; ++i) CHECK(double_bits(f64[i]) == double_bits(f64_want[i]));

  const auto f16 = io::to_tensor<float>(t.at("f16"));
  CHECK(f16.shape() == Shape{3, 4});
  const float inf = std::numeric_limits<float>::infinity();
  const float f16_want[] = {
      1.0f, -2.0f, 65504.0f,       std::ldexp(1.0f, -24), std::ldexp(1.0f, -14),        inf,
      -inf, -0.0f, 0.0f /* nan */, 0.333251953125f,       1023 * std::ldexp(1.0f, -24), 0.5f};
  for (int i = 0; i < 12; ++i) {
    if (i == 8)
      CHECK(std::isnan(f16[i]));
    else
      CHECK(float_bits(f16[i]) == float_bits(f16_want[i]));
  }
  CHECK(std::signbit(f16[7]));

  const auto bf16 = io::to_tensor<double>(t.at("bf16"));
  CHECK(bf16.shape() == Shape{7});
  CHECK(bf16[0] == 1.0);
  CHECK(bf16[1] == -2.5);
  CHECK(bf16[2] == 3.140625);
  CHECK(bf16[3] == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(bf16[4]));
  CHECK(bf16[5] == std::ldexp(1.0, -133));
  CHECK(bf16[6] == 3.3895313892515355e38);

  const auto i64 = io::to_tensor<std::int64_t>(t.at("i64"));
  CHECK(i64[0] == -1);
  CHECK(i64[1] == (std::int64_t(1) << 40));
  CHECK(i64[2] == std::numeric_limits<std::int64_t>::min());
  const auto u8 = io::to_tensor<float>(t.at("u8"));
  CHECK(u8.shape() == Shape{2, 2});
  CHECK((u8[0] == 0 && u8[1] == 1 && u8[2] == 127 && u8[3] == 255));
  const auto scalar = io::to_tensor<float>(t.at("scalar"));
  CHECK(scalar.rank() == 0);
  CHECK(scalar[0] == 42.0f);
  const auto empty = io::to_tensor<float>(t.at("empty"));
  CHECK(empty.shape() == Shape{0, 3});
  CHECK(empty.numel() == 0);

  // Data offsets in the file (header is 592 bytes: data starts at 600, f64 first).
  CHECK(t.at("f64").file_offset == 600);
  CHECK(t.at("u8").file_offset == 600 + 122);

  // The in-memory reader sees the same.
  const Bytes blob = io_test::read_bytes(reference_path());
  const auto m = io::read_safetensors_bytes(blob.data(), blob.size(), "fixture");
  REQUIRE(m.size() == t.size());
  for (const auto& kv : t) {
    CHECK(m.at(kv.first).bytes == kv.second.bytes);
    CHECK(m.at(kv.first).shape == kv.second.shape);
    CHECK(m.at(kv.first).dtype == kv.second.dtype);
  }
}

TEST_CASE("safetensors: our writer reproduces the fixture's layout", "[io][fixture]") {
  std::map<std::string, std::string> meta;
  const auto t = io::read_safetensors(reference_path(), &meta);
  const Bytes ours = io::serialize_safetensors(t, meta);
  const Bytes theirs = io_test::read_bytes(reference_path());
  // Same data section (same order: by element size, then name), same tensors and metadata.
  const auto n_ours = static_cast<std::size_t>(ours[0] | (ours[1] << 8));
  const auto n_theirs = static_cast<std::size_t>(theirs[0] | (theirs[1] << 8));
  CHECK(n_ours % 8 == 0);
  CHECK(Bytes(ours.begin() + 8 + static_cast<long>(n_ours), ours.end()) ==
        Bytes(theirs.begin() + 8 + static_cast<long>(n_theirs), theirs.end()));
  std::map<std::string, std::string> meta2;
  const auto back = io::read_safetensors_bytes(ours.data(), ours.size(), "ours", &meta2);
  CHECK(meta2 == meta);
  for (const auto& kv : t) CHECK(back.at(kv.first).bytes == kv.second.bytes);
  // Python writes non-ASCII as \u escapes and we write UTF-8; with ASCII-only metadata the
  // whole files are byte-identical.
  const Bytes ours_plain = io::serialize_safetensors(t, {});
  const std::string theirs_header_plain = [&] {
    std::string h(theirs.begin() + 8, theirs.begin() + 8 + static_cast<long>(n_theirs));
    const std::size_t start = h.find("{\"__metadata__\"");
    const std::size_t end = h.find("},", start);
    REQUIRE((start == 0 && end != std::string::npos));
    h = "{" + h.substr(end + 2);
    while (!h.empty() && h.back() == ' ') h.pop_back();
    return h;
  }();
  std::string ours_header(
      ours_plain.begin() + 8,
      ours_plain.begin() + 8 + static_cast<long>(ours_plain[0] | (ours_plain[1] << 8)));
  while (!ours_header.empty() && ours_header.back() == ' ') ours_header.pop_back();
  CHECK(ours_header == theirs_header_plain);
}

TEST_CASE("safetensors: files we write pass the Python reader", "[io][fixture]") {
  const std::string script = io_test::fixtures_dir() + "/make_safetensors_fixture.py";
  if (::access("/usr/bin/python3", X_OK) != 0 || ::access(script.c_str(), R_OK) != 0) {
    WARN("skipped: /usr/bin/python3 or " << script << " not available");
    return;
  }
  io_test::TempDir dir;
  std::map<std::string, io::SafeTensor> m;
  m["w"] = io::to_safetensor(Tensor<float>::from({1, 2, 3, 4, 5, 6}, {2, 3}));
  m["b"] = io::to_safetensor(Tensor<double>::from({0.5, -0.25}, {2}));
  m["s"] = io::to_safetensor(Tensor<float>::from({7}, Shape{}));
  m["e"] = io::to_safetensor(Tensor<float>(Shape{0}));
  m["i"] = io::to_safetensor(Tensor<std::int64_t>::from({-5, 5}, {2}));
  const std::string path = dir.file("ours.safetensors");
  io::write_safetensors(path, m, {{"k", "v \xC3\xA9 \"q\"\n"}});
  const std::string cmd =
      "/usr/bin/python3 '" + script + "' --check '" + path + "' > '" + dir.file("out.json") + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const Bytes out = io_test::read_bytes(dir.file("out.json"));
  const std::string summary(out.begin(), out.end());
  CHECK_THAT(summary, Contains("\"w\": {\"bytes\": \"0000803f000000400000404000008040"));
  CHECK_THAT(summary, Contains("\"k\": \"v \\u00e9 \\\"q\\\"\\n\""));
  CHECK_THAT(summary, Contains("\"shape\": [0]"));
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

TEST_CASE("safetensors: F32 and F64 round trip bit for bit", "[io]") {
  io_test::TempDir dir;
  Tensor<float> w({3, 4});
  for (Index i = 0; i < w.numel(); ++i)
    w[i] = std::ldexp(1.0f + static_cast<float>(i) / 7, static_cast<int>(i) - 6);
  w[5] = -0.0f;
  w[6] = std::numeric_limits<float>::denorm_min();
  w[7] = std::numeric_limits<float>::quiet_NaN();
  Tensor<double> d({2, 2, 2, 2});
  for (Index i = 0; i < d.numel(); ++i) d[i] = 1.0 / (static_cast<double>(i) + 3);
  std::map<std::string, io::SafeTensor> m{{"layer.w", io::to_safetensor(w)},
                                          {"layer.d", io::to_safetensor(d)},
                                          {"z", io::to_safetensor(Tensor<float>(Shape{0, 5}))}};
  const std::map<std::string, std::string> meta{
      {"epoch", "3"}, {"", "empty key"}, {"u", "\xE2\x9C\x93"}};
  const std::string path = dir.file("rt.safetensors");
  io::write_safetensors(path, m, meta);
  std::map<std::string, std::string> meta_back;
  const auto back = io::read_safetensors(path, &meta_back);
  CHECK(meta_back == meta);
  REQUIRE(back.size() == 3);
  const auto w2 = io::to_tensor<float>(back.at("layer.w"));
  const auto d2 = io::to_tensor<double>(back.at("layer.d"));
  REQUIRE(w2.shape() == w.shape());
  REQUIRE(d2.shape() == d.shape());
  for (Index i = 0; i < w.numel(); ++i) CHECK(float_bits(w2[i]) == float_bits(w[i]));
  for (Index i = 0; i < d.numel(); ++i) CHECK(double_bits(d2[i]) == double_bits(d[i]));
  CHECK(back.at("z").shape == std::vector<Index>{0, 5});
  // F32 data widened to double and back is exact.
  const auto wd = io::to_tensor<double>(back.at("layer.w"));
  for (Index i = 0; i < w.numel(); ++i)
    if (!std::isnan(w[i])) CHECK(static_cast<float>(wd[i]) == w[i]);

  // Header structure: length multiple of 8, space padding, data ordered F64 first, then by name.
  const Bytes blob = io_test::read_bytes(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | blob[static_cast<std::size_t>(i)];
  CHECK(n % 8 == 0);
  const std::string header(blob.begin() + 8, blob.begin() + 8 + static_cast<long>(n));
  const auto json = io::parse_json(header);
  const auto& members = json.as_object();
  REQUIRE(members.size() == 4);
  CHECK(members[0].key == "__metadata__");
  CHECK(members[1].key == "layer.d");
  CHECK(members[2].key == "layer.w");
  CHECK(members[3].key == "z");
  CHECK(io::to_json(members[1].value) ==
        "{\"dtype\":\"F64\",\"shape\":[2,2,2,2],\"data_offsets\":[0,128]}");
  CHECK(io::to_json(members[2].value) ==
        "{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[128,176]}");
  CHECK(io::to_json(members[3].value) ==
        "{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[176,176]}");
  CHECK(blob.size() == 8 + n + 176);
  CHECK(header.find_last_not_of(' ') + 1 >= header.size() - 7);
  // serialize_safetensors gives the same bytes as the file.
  CHECK(io::serialize_safetensors(m, meta) == blob);
}

TEST_CASE("safetensors: an empty file set round trips", "[io]") {
  const Bytes blob = io::serialize_safetensors({});
  CHECK(blob.size() == 16);
  CHECK(std::string(blob.begin() + 8, blob.end()) == "{}      ");
  CHECK(io::read_safetensors_bytes(blob.data(), blob.size()).empty());
}

// ---------------------------------------------------------------------------------------------
// Corrupt files
// ---------------------------------------------------------------------------------------------

TEST_CASE("safetensors: corrupt files throw clear errors", "[io][corrupt]") {
  const std::string ok_entry = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  SECTION("truncated length field") {
    CHECK_THAT(corrupt_error(Bytes{}), Contains("truncated at byte offset 0"));
    CHECK_THAT(corrupt_error(Bytes{1, 0, 0}), Contains("truncated at byte offset 3"));
  }
  SECTION("truncated data") {
    Bytes blob = make_file("{" + ok_entry + "}", io_test::filled(8));
    blob.resize(blob.size() - 3);
    const std::string e = corrupt_error(blob);
    CHECK_THAT(e, Contains("tensor 'a'"));
    CHECK_THAT(e, Contains("data_offsets [0, 8] exceed the data section of 5 bytes"));
    CHECK_THAT(e, Contains("header byte offset 9"));
  }
  SECTION("truncated header") {
    Bytes blob = make_file("{" + ok_entry + "}", io_test::filled(8));
    blob.resize(20);
    CHECK_THAT(corrupt_error(blob), Contains("exceeds the 12 bytes after the length field"));
  }
  SECTION("header length beyond 100 MB") {
    Bytes blob = make_file("{}");
    blob[4] = 1;  // 2^32 + 8
    CHECK_THAT(corrupt_error(blob), Contains("exceeds the limit of 100000000 bytes"));
  }
  SECTION("bad JSON") {
    const std::string e = corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",,}}"));
    CHECK_THAT(e, Contains("invalid header JSON at byte offset 28: expected a string key"));
    CHECK_THAT(corrupt_error(make_file("[1]")), Contains("must be a JSON object, got array"));
    CHECK_THAT(corrupt_error(make_file("{\"a\":\"\xff\"}")),
               Contains("invalid header JSON at byte offset 14: invalid UTF-8"));
    CHECK_THAT(corrupt_error(make_file("{}x")), Contains("at byte offset 10"));
  }
  SECTION("unknown dtype") {
    const std::string e = corrupt_error(make_file(
        "{\"a\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", io_test::filled(8)));
    CHECK_THAT(
        e, Contains("tensor 'a' (header byte offset 9): unknown dtype \"F7\" at byte offset 22"));
  }
  SECTION("overlapping offsets") {
    const std::string e = corrupt_error(make_file(
        "{" + ok_entry + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        io_test::filled(8)));
    CHECK_THAT(e, Contains("tensor 'b'"));
    CHECK_THAT(e, Contains("overlap tensor 'a' [0, 8]"));
  }
  SECTION("offsets out of range and reversed") {
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                                io_test::filled(8))),
        Contains("exceed the data section of 8 bytes (which starts at byte offset 64)"));
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}",
                                io_test::filled(8))),
        Contains("end before they begin"));
    CHECK_THAT(corrupt_error(
                   make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[-1,0]}}")),
               Contains("must be a non-negative integer"));
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0]}}")),
        Contains("must be an array [begin, end]"));
  }
  SECTION("shape and size mismatch") {
    const std::string e = corrupt_error(
        make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}",
                  io_test::filled(20)));
    CHECK_THAT(e, Contains("shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20"));
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                                "\"data_offsets\":[0,0]}}")),
        Contains("has too many elements (overflows 64 bits)"));
    // A zero dimension after an overflowing running product is still refused (as in the
    // reference implementation): Shape::numel() would overflow.
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,3,0],"
                                "\"data_offsets\":[0,0]}}")),
        Contains("shape [4611686018427387904, 3, 0] has too many elements"));
    CHECK_THAT(corrupt_error(
                   make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,0]}}")),
               Contains("shape dimension at byte offset 37 must be a non-negative integer"));
    CHECK_THAT(corrupt_error(
                   make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}",
                             io_test::filled(4))),
               Contains("must be a non-negative integer"));
  }
  SECTION("duplicate names") {
    const std::string e =
        corrupt_error(make_file("{" + ok_entry + "," + ok_entry + "}", io_test::filled(8)));
    CHECK_THAT(e, Contains("invalid header JSON at byte offset 62: duplicate key \"a\""));
  }
  SECTION("holes and uncovered bytes") {
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                io_test::filled(8))),
        Contains("data section bytes [0, 4) (file byte offset 64) belong to no tensor (a hole "
                 "before tensor 'a')"));
    CHECK_THAT(corrupt_error(make_file("{" + ok_entry + "}", io_test::filled(9))),
               Contains("data section bytes [8, 9) (file byte offset 72) belong to no tensor"));
    CHECK_THAT(corrupt_error(make_file("{}", io_test::filled(1))), Contains("belong to no tensor"));
  }
  SECTION("malformed entries and metadata") {
    CHECK_THAT(corrupt_error(make_file("{\"a\":[]}")),
               Contains("tensor 'a' (header byte offset 9): "
                        "expected an object"));
    CHECK_THAT(corrupt_error(make_file("{\"a\":{\"shape\":[],\"data_offsets\":[0,0]}}")),
               Contains("missing \"dtype\""));
    CHECK_THAT(corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}")),
               Contains("missing \"shape\""));
    CHECK_THAT(corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}")),
               Contains("missing \"data_offsets\""));
    CHECK_THAT(corrupt_error(make_file("{\"a\":{\"dtype\":1,\"shape\":[],\"data_offsets\":[0,4]}}",
                                       io_test::filled(4))),
               Contains("\"dtype\" at byte offset 22 must be a string"));
    CHECK_THAT(
        corrupt_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}}",
                                io_test::filled(4))),
        Contains("\"shape\" at byte offset 36 must be an array"));
    CHECK_THAT(corrupt_error(make_file("{\"__metadata__\":{\"k\":1}}")),
               Contains("\"__metadata__\" entry 'k' at byte offset 29 must be a string"));
    CHECK_THAT(corrupt_error(make_file("{\"__metadata__\":[]}")),
               Contains("\"__metadata__\" at byte offset 24 must be an object"));
  }
  SECTION("missing and irregular files") {
    CHECK_THROWS_WITH(
        io::read_safetensors("/nonexistent/x.safetensors"),
        Contains("cannot open '/nonexistent/x.safetensors': No such file or directory"));
    io_test::TempDir dir;
    CHECK_THROWS_WITH(io::read_safetensors(dir.path.string()), Contains("is not a regular file"));
  }
}

TEST_CASE("safetensors: unknown entry fields are ignored as in the reference", "[io]") {
  const Bytes blob = make_file(
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":[1.5,null]}}",
      Bytes{7});
  const auto t = io::read_safetensors_bytes(blob.data(), blob.size());
  CHECK(t.at("a").bytes == Bytes{7});
  // Unpadded headers are accepted too (padding is a writer convention).
  const Bytes unpadded =
      make_file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", Bytes{9}, false);
  CHECK(io::read_safetensors_bytes(unpadded.data(), unpadded.size()).at("a").bytes == Bytes{9});
}

TEST_CASE("safetensors: to_tensor and the writer reject what they cannot represent", "[io]") {
  io::SafeTensor rank5{"F32", {1, 1, 1, 1, 1}, Bytes(4)};
  CHECK_THROWS_WITH(io::to_tensor<float>(rank5), Contains("rank 5 exceeds Tensor's maximum of 4"));
  io::SafeTensor short_bytes{"F32", {2}, Bytes(7)};
  CHECK_THROWS_WITH(io::to_tensor<float>(short_bytes), Contains("holds 7 bytes, expected 8"));
  io::SafeTensor f{"F32", {1}, le_floats({1.5f})};
  CHECK_THROWS_WITH(io::to_tensor<std::int64_t>(f), Contains("cannot be converted to an integer"));
  io::SafeTensor big{"I64", {1}, Bytes{0, 0, 0, 0, 1, 0, 0, 0}};
  CHECK_THROWS_WITH(io::to_tensor<std::int32_t>(big), Contains("I64 element 0 (value 4294967296) "
                                                               "does not fit"));
  io::SafeTensor neg{"I8", {1}, Bytes{0xFF}};
  CHECK_THROWS_AS(io::to_tensor<std::uint8_t>(neg), std::invalid_argument);
  CHECK(io::to_tensor<std::int32_t>(neg)[0] == -1);
  io::SafeTensor huge{"F32", {4611686018427387904, 3, 0}, Bytes{}};
  CHECK_THROWS_WITH(io::to_tensor<float>(huge), Contains("invalid shape"));
  CHECK_THROWS_AS(huge.numel(), std::invalid_argument);
  CHECK(io::SafeTensor{"F32", {3, 0, 4611686018427387904}, Bytes{}}.numel() == 0);
  io::SafeTensor f8{"F8_E4M3", {1}, Bytes{0}};
  CHECK_THROWS_WITH(io::to_tensor<float>(f8), Contains("conversion from F8_E4M3 is not supported"));
  io::SafeTensor unknown{"Q4", {1}, Bytes{0}};
  CHECK_THROWS_WITH(io::to_tensor<float>(unknown), Contains("unknown dtype \"Q4\""));

  io_test::TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  const auto write_error = [&](const std::map<std::string, io::SafeTensor>& m,
                               const std::map<std::string, std::string>& meta = {}) {
    std::string msg;
    try {
      io::write_safetensors(path, m, meta);
    } catch (const std::invalid_argument& e) {
      msg = e.what();
    }
    CHECK(dir.entries().empty());  // nothing written, no temporary file left
    return msg;
  };
  CHECK_THAT(write_error({{"x", unknown}}), Contains("tensor 'x': unknown dtype \"Q4\""));
  CHECK_THAT(write_error({{"x", short_bytes}}),
             Contains("tensor 'x': shape [2] of F32 needs 8 bytes, got 7"));
  CHECK_THAT(write_error({{"__metadata__", f}}), Contains("\"__metadata__\" is reserved"));
  CHECK_THAT(write_error({{"bad\xFF", f}}),
             Contains("tensor name: JSON writer: string is not valid UTF-8"));
  CHECK_THAT(write_error({{"x", f}}, {{"k", "\xC0"}}), Contains("metadata: JSON writer"));
  CHECK(io::safetensors_dtype_of<float>() == "F32");
  CHECK(io::safetensors_dtype_of<double>() == "F64");
  CHECK(io::safetensors_dtype_of<std::int64_t>() == "I64");
  CHECK(io::safetensors_dtype_of<std::uint8_t>() == "U8");
  CHECK(io::safetensors_dtype_of<bool>() == "BOOL");
}

// ---------------------------------------------------------------------------------------------
// Module parameters
// ---------------------------------------------------------------------------------------------

namespace {

// Two linear layers: parameters "fc1.weight" [3, 4], "fc1.bias" [3], "fc2.weight" [2, 3],
// "fc2.bias" [2].
template <class T>
struct TwoLayer : nn::Module<T> {
  std::shared_ptr<nn::Linear<T>> fc1, fc2;
  explicit TwoLayer(std::uint64_t seed, Index out = 2) {
    fc1 = this->register_module(
        "fc1", std::make_shared<nn::Linear<T>>(nn::LinearOptions(4, 3).seed(seed)));
    fc2 = this->register_module(
        "fc2", std::make_shared<nn::Linear<T>>(nn::LinearOptions(3, out).seed(seed + 1)));
  }
};

template <class T>
std::vector<T> flat_params(const nn::Module<T>& m) {
  std::vector<T> out;
  for (auto* p : m.parameters()) out.insert(out.end(), p->value().begin(), p->value().end());
  return out;
}

}  // namespace

TEST_CASE("save_parameters / load_parameters round trip", "[io][module]") {
  io_test::TempDir dir;
  const std::string path = dir.file("params.safetensors");
  TwoLayer<float> a(1), b(100);
  REQUIRE(flat_params(a) != flat_params(b));
  io::save_parameters(a, path, {{"arch", "two-layer"}});
  const auto report = io::load_parameters(b, path);
  CHECK(flat_params(a) == flat_params(b));
  CHECK(report.loaded ==
        std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
  CHECK(report.missing.empty());
  CHECK(report.unexpected.empty());
  std::map<std::string, std::string> meta;
  const auto t = io::read_safetensors(path, &meta);
  CHECK(meta.at("arch") == "two-layer");
  CHECK(t.at("fc1.weight").dtype == "F32");
  CHECK(t.at("fc1.weight").shape == std::vector<Index>{3, 4});

  // Double models write F64; a float model loads F64 values (rounded to float) too.
  TwoLayer<double> d(1);
  const std::string dpath = dir.file("double.safetensors");
  io::save_parameters(d, dpath);
  CHECK(io::read_safetensors(dpath).at("fc2.bias").dtype == "F64");
  TwoLayer<float> from_double(7);
  io::load_parameters(from_double, dpath);
  const auto fd = flat_params(from_double);
  const auto dd = flat_params(d);
  for (std::size_t i = 0; i < fd.size(); ++i) CHECK(fd[i] == static_cast<float>(dd[i]));
}

TEST_CASE("load_parameters is all-or-nothing", "[io][module]") {
  io_test::TempDir dir;
  const std::string path = dir.file("params.safetensors");
  TwoLayer<float> src(1);
  io::save_parameters(src, path);

  SECTION("a wrong shape leaves the model unchanged") {
    TwoLayer<float> other(5, /*out=*/3);  // fc2 is [3, 3] / [3]
    const auto before = flat_params(other);
    const std::string e = error_of([&] { io::load_parameters(other, path); });
    CHECK(flat_params(other) == before);
    CHECK_THAT(e,
               Contains("load_parameters: '" + path + "': 2 problems, the module was not changed"));
    CHECK_THAT(e, Contains("tensor 'fc2.weight' (data at byte offset"));
    CHECK_THAT(e, Contains("has shape [2, 3] but parameter 'fc2.weight' has shape [3, 3]"));
    CHECK_THAT(e, Contains("has shape [2] but parameter 'fc2.bias' has shape [3]"));
  }
  SECTION("missing and unexpected tensors") {
    std::map<std::string, io::SafeTensor> m = io::read_safetensors(path);
    m.erase("fc1.bias");
    m["extra"] = io::to_safetensor(Tensor<float>({1}));
    io::write_safetensors(path, m);
    TwoLayer<float> dst(9);
    const auto before = flat_params(dst);
    const std::string e = error_of([&] { io::load_parameters(dst, path); });
    CHECK(flat_params(dst) == before);
    CHECK_THAT(e, Contains("parameter 'fc1.bias' of shape [3] has no tensor in the file"));
    CHECK_THAT(e, Contains("tensor 'extra' (data at byte offset"));
    CHECK_THAT(e, Contains("matches no parameter"));
    // Non-strict: loads the rest and reports.
    const auto report = io::load_parameters(dst, path, /*strict=*/false);
    CHECK(report.missing == std::vector<std::string>{"fc1.bias"});
    CHECK(report.unexpected == std::vector<std::string>{"extra"});
    CHECK(report.loaded.size() == 3);
    CHECK(dst.fc1->weight().value().vector() == src.fc1->weight().value().vector());
    CHECK(dst.fc1->bias()->value().vector() != src.fc1->bias()->value().vector());
  }
  SECTION("an integer tensor cannot fill a float parameter") {
    std::map<std::string, io::SafeTensor> m = io::read_safetensors(path);
    m["fc2.bias"] = io::to_safetensor(Tensor<std::int64_t>::from({1, 2}, {2}));
    io::write_safetensors(path, m);
    TwoLayer<float> dst(9);
    const auto before = flat_params(dst);
    CHECK_THROWS_WITH(
        io::load_parameters(dst, path),
        Contains("has dtype I64, which cannot be loaded into parameter 'fc2.bias' (F32)"));
    CHECK(flat_params(dst) == before);
  }
  SECTION("a corrupt file leaves the model unchanged") {
    Bytes blob = io_test::read_bytes(path);
    blob.resize(blob.size() - 1);
    io_test::write_bytes(path, blob);
    TwoLayer<float> dst(9);
    const auto before = flat_params(dst);
    CHECK_THROWS_WITH(io::load_parameters(dst, path), Contains("exceed the data section"));
    CHECK(flat_params(dst) == before);
  }
}

}  // namespace test_io_safetensors
