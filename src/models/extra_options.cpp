#include "hemapath/models/extra_options.h"

#include <utility>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

std::string join(const std::set<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

}  // namespace

ExtraOptions::ExtraOptions(std::string arch, nlohmann::json extra, std::set<std::string> known)
    : arch_(std::move(arch)), extra_(std::move(extra)), known_(std::move(known)) {
  HP_CHECK(extra_.is_null() || extra_.is_object(), ConfigError, "option 'extra' of '", arch_,
           "' must be an object, got ", extra_.dump());
  if (extra_.is_null()) return;
  for (const auto& item : extra_.items()) {
    HP_CHECK(known_.count(item.key()) > 0, ConfigError, "unknown option 'extra.", item.key(),
             "' for architecture '", arch_, "': expected ",
             known_.empty() ? std::string("no extra options") : "one of " + join(known_));
  }
}

const nlohmann::json* ExtraOptions::find(const std::string& key) const {
  if (!extra_.is_object()) return nullptr;
  const auto it = extra_.find(key);
  return it == extra_.end() ? nullptr : &*it;
}

bool ExtraOptions::has(const std::string& key) const { return find(key) != nullptr; }

double ExtraOptions::number(const std::string& key, double fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  HP_CHECK(value->is_number(), ConfigError, "option 'extra.", key, "' of '", arch_, "' must be a number, got ",
           value->dump());
  return value->get<double>();
}

int64_t ExtraOptions::integer(const std::string& key, int64_t fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  HP_CHECK(value->is_number_integer(), ConfigError, "option 'extra.", key, "' of '", arch_,
           "' must be a whole number, got ", value->dump());
  return value->get<int64_t>();
}

bool ExtraOptions::boolean(const std::string& key, bool fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  HP_CHECK(value->is_boolean(), ConfigError, "option 'extra.", key, "' of '", arch_,
           "' must be true or false, got ", value->dump());
  return value->get<bool>();
}

std::string ExtraOptions::string(const std::string& key, const std::string& fallback) const {
  const auto* value = find(key);
  if (!value) return fallback;
  HP_CHECK(value->is_string(), ConfigError, "option 'extra.", key, "' of '", arch_, "' must be a string, got ",
           value->dump());
  return value->get<std::string>();
}

std::string ExtraOptions::choice(const std::string& key, const std::string& fallback,
                                 const std::set<std::string>& choices) const {
  const std::string value = string(key, fallback);
  HP_CHECK(choices.count(value) > 0, ConfigError, "option 'extra.", key, "' of '", arch_, "' is '", value,
           "': expected one of ", join(choices));
  return value;
}

}  // namespace hemapath
