#pragma once
/// Reading an architecture's `extra` options (a JSON object) strictly: every key must be one the
/// architecture knows and of the right type, so a typo fails loudly instead of being ignored.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace hemapath {

/// Validates `extra` of architecture `arch` on construction: ConfigError "unknown option
/// 'extra.KEY' for architecture 'ARCH': expected one of ..." for a key not in `known`, and when
/// `extra` is neither null nor an object. The getters return `fallback` for an absent key and
/// throw ConfigError naming the key for a value of the wrong type or outside the allowed set.
class ExtraOptions {
 public:
  ExtraOptions(std::string arch, nlohmann::json extra, std::set<std::string> known);

  bool has(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  /// A whole number (4, not 4.5 or "4").
  int64_t integer(const std::string& key, int64_t fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  /// A string from `choices`; ConfigError listing them otherwise.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::set<std::string>& choices) const;

 private:
  const nlohmann::json* find(const std::string& key) const;
  std::string arch_;
  nlohmann::json extra_;
  std::set<std::string> known_;
};

}  // namespace hemapath
