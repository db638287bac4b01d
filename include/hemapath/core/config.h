#pragma once
/// Configuration files (YAML or JSON) read into typed structs. A `ConfigNode` hands out
/// values by key with type and range checks; `finish()` rejects keys nobody read, so a
/// misspelt key is an error naming it instead of a silently ignored setting.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/core/error.h"

namespace hemapath {

class ConfigNode {
 public:
  /// Wraps `value` (an object) found at dotted `path` inside the file `source`.
  ConfigNode(nlohmann::json value, std::string source, std::string path = "");

  /// Parses a .yaml/.yml/.json file. Throws ConfigError naming the file when it is
  /// missing, unreadable, not valid YAML/JSON or not a mapping at the top.
  static ConfigNode load_file(const std::string& file);
  /// As load_file, then applies command-line overrides "dotted.key=value" (value read as
  /// YAML, so numbers and lists keep their types). ConfigError for a malformed override.
  static ConfigNode load_file(const std::string& file, const std::vector<std::string>& overrides);
  /// Parses YAML/JSON text; `source` names it in errors.
  static ConfigNode parse(const std::string& text, const std::string& source);

  bool has(const std::string& key) const;

  /// The value of `key` converted to T, or `fallback` when absent.
  template <typename T>
  T get(const std::string& key, const T& fallback) const {
    if (!has(key)) return fallback;
    return require<T>(key);
  }

  /// The value of `key` converted to T; a ConfigError when absent or of another type.
  template <typename T>
  T require(const std::string& key) const {
    const nlohmann::json& v = at(key);
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw ConfigError(where(key) + " has the wrong type: got " + v.dump() + ", expected " +
                        type_name<T>());
    }
  }

  /// A number in [lo, hi].
  double get_number(const std::string& key, double fallback, double lo, double hi) const;
  /// An integer in [lo, hi].
  long long get_int(const std::string& key, long long fallback, long long lo, long long hi) const;
  /// A string that must be one of `allowed`.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;
  /// A sub-mapping (an empty one when absent); its keys are checked by `finish()` too.
  ConfigNode child(const std::string& key) const;
  /// A file or folder path: "" when absent, ConfigError when `required` and absent. A relative
  /// path written in the config file is read from `base_dir` (the file's folder); one given on
  /// the command line (`--set key=path`) is left relative to the working directory, as a shell
  /// user means it.
  std::string get_path(const std::string& key, const std::string& base_dir, bool required = false) const;
  /// The raw JSON of `key`, taken whole (its inner keys are not checked here).
  nlohmann::json get_json(const std::string& key, const nlohmann::json& fallback) const;

  /// Throws ConfigError listing the first key that was never read, with the valid keys.
  void finish() const;

  /// "config 'file.yaml': key 'train.lr'" for messages.
  std::string where(const std::string& key) const;
  const nlohmann::json& json() const { return value_; }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  std::string full_key(const std::string& key) const;
  template <typename T>
  static std::string type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T>) return "an integer";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else if constexpr (std::is_same_v<T, std::string>) return "a string";
    else return "a list or mapping of the documented shape";
  }

  nlohmann::json value_;
  std::string source_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> used_;
  std::shared_ptr<const std::set<std::string>> set_on_command_line_;  // dotted keys given by --set
  mutable std::vector<ConfigNode> children_;  // checked by finish()
};

}  // namespace hemapath
