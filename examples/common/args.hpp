#pragma once
// A tiny command-line reader shared by the examples: "--name value" pairs and "--flag".
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace examples {

class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}
  bool has(const std::string& name) const {
    for (int i = 1; i < argc_; ++i)
      if (name == argv_[i]) return true;
    return false;
  }
  std::string get(const std::string& name, const std::string& def) const {
    for (int i = 1; i + 1 < argc_; ++i)
      if (name == argv_[i]) return argv_[i + 1];
    return def;
  }
  long get_int(const std::string& name, long def) const {
    const std::string v = get(name, "");
    if (v.empty()) return def;
    char* end = nullptr;
    const long r = std::strtol(v.c_str(), &end, 10);
    if (*end) fail(name, v);
    return r;
  }
  double get_double(const std::string& name, double def) const {
    const std::string v = get(name, "");
    if (v.empty()) return def;
    char* end = nullptr;
    const double r = std::strtod(v.c_str(), &end);
    if (*end) fail(name, v);
    return r;
  }

 private:
  [[noreturn]] static void fail(const std::string& name, const std::string& v) {
    std::cerr << "error: " << name << " expects a number, got '" << v << "'\n";
    std::exit(2);
  }
  int argc_;
  char** argv_;
};

/// Splits "a,b,c" into {"a", "b", "c"} (empty items dropped).
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace examples
