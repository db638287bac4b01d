#include "hemapath/core/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace hemapath {
namespace {

// YAML scalars carry no type: numbers and booleans are recognised the way YAML 1.2
// core schema does, everything else stays a string.
nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  try {
    size_t used = 0;
    long long i = std::stoll(text, &used);
    if (used == text.size()) return i;
  } catch (const std::exception&) {
  }
  try {
    size_t used = 0;
    double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::exception&) {
  }
  return text;
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    default: return nullptr;
  }
}

}  // namespace

ConfigNode::ConfigNode(nlohmann::json value, std::string source, std::string path)
    : value_(std::move(value)),
      source_(std::move(source)),
      path_(std::move(path)),
      used_(std::make_shared<std::set<std::string>>()),
      set_on_command_line_(std::make_shared<std::set<std::string>>()) {
  if (value_.is_null()) value_ = nlohmann::json::object();
  if (!value_.is_object())
    throw ConfigError("config '" + source_ + "'" + (path_.empty() ? "" : " at '" + path_ + "'") +
                      ": expected a mapping of keys to values, got " + value_.dump());
}

ConfigNode ConfigNode::load_file(const std::string& file) {
  std::ifstream in(file);
  HP_CHECK(std::filesystem::is_regular_file(file) && in, ConfigError, "config '", file,
           "' cannot be read: expected an existing YAML or JSON file");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file);
}

ConfigNode ConfigNode::load_file(const std::string& file, const std::vector<std::string>& overrides) {
  ConfigNode base = load_file(file);
  nlohmann::json value = base.value_;
  auto set_keys = std::make_shared<std::set<std::string>>();
  for (const auto& item : overrides) {
    auto eq = item.find('=');
    HP_CHECK(eq != std::string::npos && eq > 0, ConfigError, "--set '", item, "': expected key.path=value");
    const std::string key = item.substr(0, eq);
    set_keys->insert(key);
    nlohmann::json parsed;
    try {
      parsed = yaml_to_json(YAML::Load(item.substr(eq + 1)));
    } catch (const YAML::Exception& e) {
      throw ConfigError("--set '" + item + "': the value is not valid YAML: " + e.what());
    }
    nlohmann::json* node = &value;
    size_t start = 0;
    while (true) {
      size_t dot = key.find('.', start);
      std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      HP_CHECK(!part.empty(), ConfigError, "--set '", item, "': empty key segment");
      if (dot == std::string::npos) {
        (*node)[part] = parsed;
        break;
      }
      nlohmann::json& next = (*node)[part];
      if (!next.is_object()) next = nlohmann::json::object();
      node = &next;
      start = dot + 1;
    }
  }
  ConfigNode node(std::move(value), file);
  node.set_on_command_line_ = std::move(set_keys);
  return node;
}

ConfigNode ConfigNode::parse(const std::string& text, const std::string& source) {
  nlohmann::json value;
  try {
    value = yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError("config '" + source + "' is not valid YAML/JSON: " + e.what());
  }
  return ConfigNode(std::move(value), source);
}

std::string ConfigNode::full_key(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

std::string ConfigNode::where(const std::string& key) const {
  return "config '" + source_ + "': key '" + full_key(key) + "'";
}

bool ConfigNode::has(const std::string& key) const {
  auto it = value_.find(key);
  return it != value_.end() && !it->is_null();
}

const nlohmann::json& ConfigNode::at(const std::string& key) const {
  used_->insert(key);
  auto it = value_.find(key);
  if (it == value_.end() || it->is_null()) throw ConfigError(where(key) + " is required but missing");
  return *it;
}

double ConfigNode::get_number(const std::string& key, double fallback, double lo, double hi) const {
  double v = get<double>(key, fallback);
  HP_CHECK(v >= lo && v <= hi, ConfigError, where(key), " = ", v, " is out of range: expected a value in [",
           lo, ", ", hi, "]");
  return v;
}

long long ConfigNode::get_int(const std::string& key, long long fallback, long long lo, long long hi) const {
  if (has(key) && !at(key).is_number_integer())
    throw ConfigError(where(key) + " has the wrong type: got " + at(key).dump() + ", expected an integer");
  long long v = get<long long>(key, fallback);
  HP_CHECK(v >= lo && v <= hi, ConfigError, where(key), " = ", v, " is out of range: expected an integer in [",
           lo, ", ", hi, "]");
  return v;
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) const {
  std::string v = get<std::string>(key, fallback);
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw ConfigError(where(key) + " = '" + v + "' is not valid: expected one of " + list);
}

ConfigNode ConfigNode::child(const std::string& key) const {
  nlohmann::json sub = has(key) ? at(key) : nlohmann::json::object();
  used_->insert(key);
  ConfigNode node(std::move(sub), source_, full_key(key));
  // Children report their unknown keys through the parent's finish().
  node.used_ = std::make_shared<std::set<std::string>>();
  node.set_on_command_line_ = set_on_command_line_;
  children_.push_back(node);
  return node;
}

std::string ConfigNode::get_path(const std::string& key, const std::string& base_dir, bool required) const {
  const std::string path = required ? require<std::string>(key) : get<std::string>(key, "");
  if (path.empty() || std::filesystem::path(path).is_absolute() || set_on_command_line_->count(full_key(key)))
    return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

nlohmann::json ConfigNode::get_json(const std::string& key, const nlohmann::json& fallback) const {
  if (!has(key)) return fallback;
  return at(key);
}

void ConfigNode::finish() const {
  std::string valid;
  for (const auto& k : *used_) valid += (valid.empty() ? "" : ", ") + k;
  for (auto it = value_.begin(); it != value_.end(); ++it) {
    if (!used_->count(it.key()))
      throw ConfigError(where(it.key()) + " is not a known setting" +
                        (valid.empty() ? std::string() : " (valid keys here: " + valid + ")"));
  }
  for (const auto& c : children_) c.finish();
}

}  // namespace hemapath
