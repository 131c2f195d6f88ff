#pragma once
// A small command-line reader shared by the examples.
//
// Declare every option where you read it (name, optional value name, default, one-line help),
// then call finish() before doing any work: it prints the usage for --help / -h (exit 0) and
// rejects an undeclared option, a missing value or a stray argument with a message naming it
// (exit 2). A value that is not a number where one is expected is rejected when it is read.
//
//   examples::Args args(argc, argv, "trains three tasks on one trunk");
//   const long epochs = args.get_int("--epochs N", 10, "training epochs");
//   const double lr = args.get_double("--lr X", 3e-3, "Adam learning rate");
//   const std::string csv = args.get("--csv FILE", "", "also write the table as CSV");
//   const bool quiet = args.flag("--quiet", "print only the final table");
//   args.finish();
//
// The name may carry the value's name after a space ("--csv FILE"; by default N for integers,
// X for reals, VALUE for strings); in brackets ("--breast-cancer [PATH]") the value is optional:
// has() tells whether the option was given, get() returns its value or the default. Values are
// given as "--name value" or "--name=value"; the last occurrence wins. A value may not start
// with "--" (negative numbers such as "-5" are fine).
//
// Reading a name again (e.g. with a different default) is allowed; the first declaration is the
// one --help shows. A help text that mentions "(default" replaces the shown default. has(),
// get(), get_int() and get_double() without a help text still work; a name only ever passed to
// has() is accepted by finish() as a switch without a value (better: declare it with flag()).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace examples {

class Args {
 public:
  Args(int argc, char** argv, std::string about = "")
      : argc_(argc), argv_(argv), about_(std::move(about)) {
    program_ = argc > 0 ? argv[0] : "example";
    const std::size_t slash = program_.find_last_of('/');
    if (slash != std::string::npos) program_ = program_.substr(slash + 1);
  }

  /// Whether option `name` ("--name", any value name after it is ignored) was given. A name
  /// not declared otherwise (by flag(), get(), ...) is accepted by finish() as a switch.
  bool has(const std::string& name) {
    const std::string key = split_name(name).first;
    if (key != "--help" && key != "-h") declare(key, Kind::Implicit, "", "", "");
    return find(key).found;
  }

  /// A switch without a value: whether it was given.
  bool flag(const std::string& name, const std::string& help) {
    declare(name, Kind::Flag, "", help, "");
    return has(name);
  }

  /// A string option: its value, or `def` when absent.
  std::string get(const std::string& name, const std::string& def, const std::string& help = "") {
    const auto nm = split_name(name);
    const bool optional = nm.second.size() > 1 && nm.second.front() == '[';
    declare(name, optional ? Kind::Optional : Kind::Value, "VALUE", help, def);
    const Found f = find(nm.first);
    if (!f.found) return def;
    if (f.has_value) return f.value;
    if (!optional) missing_value(nm.first, nm.second.empty() ? "VALUE" : nm.second);
    return def;
  }

  /// An integer option.
  long get_int(const std::string& name, long def, const std::string& help = "") {
    declare(name, Kind::Value, "N", help, std::to_string(def));
    const std::string key = split_name(name).first;
    const Found f = find(key);
    if (!f.found) return def;
    if (!f.has_value) return missing_value(key, "N"), def;
    errno = 0;
    char* end = nullptr;
    const long r = std::strtol(f.value.c_str(), &end, 10);
    if (f.value.empty() || *end || errno == ERANGE)
      return bad_value(key, "an integer", f.value), def;
    return r;
  }

  /// A real-valued option.
  double get_double(const std::string& name, double def, const std::string& help = "") {
    std::ostringstream d;
    d << def;
    declare(name, Kind::Value, "X", help, d.str());
    const std::string key = split_name(name).first;
    const Found f = find(key);
    if (!f.found) return def;
    if (!f.has_value) return missing_value(key, "X"), def;
    errno = 0;
    char* end = nullptr;
    const double r = std::strtod(f.value.c_str(), &end);
    if (f.value.empty() || *end || errno == ERANGE) return bad_value(key, "a number", f.value), def;
    return r;
  }

  /// Adds free text shown at the end of --help (e.g. examples of use).
  void epilog(const std::string& text) { epilog_ += text; }

  /// Call after every option has been read and before any work: handles --help (prints the
  /// usage, exits 0) and rejects anything not declared (exits 2).
  void finish() {
    if (help_requested()) {
      print_usage(std::cout);
      std::exit(0);
    }
    for (int i = 1; i < argc_; ++i) {
      const std::string a = argv_[i];
      if (a.size() < 2 || a[0] != '-') die("unexpected argument '" + a + "'");
      const std::size_t eq = a.find('=');
      const std::string key = a.substr(0, eq);
      const Option* o = lookup(key);
      if (!o) die("unknown option '" + key + "'");
      if (o->kind == Kind::Flag || o->kind == Kind::Implicit) {
        if (eq != std::string::npos) die("option " + key + " takes no value");
      } else if (eq == std::string::npos && i + 1 < argc_ && !looks_like_option(argv_[i + 1])) {
        ++i;  // its value
      } else if (eq == std::string::npos && o->kind == Kind::Value) {
        missing_value(key, o->meta);
      }
    }
  }

  /// Prints the usage (what --help shows).
  void print_usage(std::ostream& os) const {
    os << "usage: " << program_ << " [options]\n";
    if (!about_.empty()) os << "\n" << about_ << "\n";
    os << "\noptions:\n";
    std::vector<std::string> left;
    std::size_t width = 0;
    for (const auto& o : options_) {
      left.push_back(o.key + (o.meta.empty() ? "" : " " + o.meta));
      width = std::max(width, left.back().size());
    }
    width = std::min<std::size_t>(width, 28);
    for (std::size_t i = 0; i <= options_.size(); ++i) {
      const std::string l = i < options_.size() ? left[i] : "-h, --help";
      std::string text = i < options_.size() ? options_[i].help : "print this help and exit";
      if (i < options_.size() && options_[i].kind != Kind::Flag &&
          options_[i].kind != Kind::Implicit && text.find("(default") == std::string::npos)
        text += std::string(text.empty() ? "" : " ") +
                "(default: " + (options_[i].def.empty() ? "none" : options_[i].def) + ")";
      os << "  " << l;
      if (l.size() > width)
        os << "\n  " << std::string(width, ' ');
      else
        os << std::string(width - l.size(), ' ');
      os << "  " << text << "\n";
    }
    if (!epilog_.empty()) os << "\n" << epilog_ << (epilog_.back() == '\n' ? "" : "\n");
  }

 private:
  enum class Kind { Flag, Value, Optional, Implicit };
  struct Option {
    std::string key, meta, help, def;
    Kind kind;
  };
  struct Found {
    bool found = false, has_value = false;
    std::string value;
  };

  static std::pair<std::string, std::string> split_name(const std::string& name) {
    const std::size_t sp = name.find(' ');
    if (sp == std::string::npos) return {name, ""};
    return {name.substr(0, sp), name.substr(sp + 1)};
  }
  static bool looks_like_option(const char* s) { return s[0] == '-' && s[1] == '-'; }

  bool help_requested() const {
    for (int i = 1; i < argc_; ++i) {
      const std::string a = argv_[i];
      if (a == "--help" || a == "-h") return true;
    }
    return false;
  }

  void declare(const std::string& name, Kind kind, const char* meta, const std::string& help,
               const std::string& def) {
    auto nm = split_name(name);
    if (nm.second.empty()) nm.second = meta;
    for (auto& o : options_)
      if (o.key == nm.first) {
        if (o.kind == Kind::Implicit && kind != Kind::Implicit)
          o = {nm.first, nm.second, help, def, kind};
        return;
      }
    options_.push_back({nm.first, nm.second, help, def, kind});
  }
  const Option* lookup(const std::string& key) const {
    for (const auto& o : options_)
      if (o.key == key) return &o;
    return nullptr;
  }

  /// The last occurrence of `key` ("--key value", "--key=value" or a bare "--key").
  Found find(const std::string& key) const {
    Found f;
    for (int i = 1; i < argc_; ++i) {
      const std::string a = argv_[i];
      if (a == key) {
        f.found = true;
        f.has_value = i + 1 < argc_ && !looks_like_option(argv_[i + 1]);
        f.value = f.has_value ? argv_[i + 1] : "";
      } else if (a.size() > key.size() && a.compare(0, key.size(), key) == 0 &&
                 a[key.size()] == '=') {
        f.found = f.has_value = true;
        f.value = a.substr(key.size() + 1);
      }
    }
    return f;
  }

  // Errors exit(2), except when --help was asked for: finish() then prints the usage.
  void fail(const std::string& msg) const {
    if (!help_requested()) die(msg);
  }
  [[noreturn]] void die(const std::string& msg) const {
    std::cerr << program_ << ": " << msg << "; try " << program_ << " --help\n";
    std::exit(2);
  }
  void missing_value(const std::string& key, const std::string& meta) const {
    fail("option " + key + " needs a value: " + key + " " + meta);
  }
  void bad_value(const std::string& key, const char* what, const std::string& v) const {
    fail("option " + key + " expects " + what + ", got '" + v + "'");
  }

  int argc_;
  char** argv_;
  std::string program_, about_, epilog_;
  std::vector<Option> options_;
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
