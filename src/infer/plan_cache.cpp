#include "hemapath/infer/plan_cache.h"

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/file_lock.h"
#include "hemapath/core/log.h"

namespace hemapath {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFileName = "inference-plans.json";

// The file's entries; an empty object when it is missing or damaged (a damaged file is
// replaced at the next store).
nlohmann::json read_entries(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  nlohmann::json entries = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (entries.is_object()) return entries;
  logger("infer")->debug("inference plan cache '{}' is not a JSON object: ignored", file.string());
  return nlohmann::json::object();
}

}  // namespace

std::string cpu_model_name() {
  static const std::string name = [] {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
        return line.substr(line.find(':') + 1);
    return std::string();
  }();
  return name;
}

PlanCache::PlanCache(fs::path file) : file_(std::move(file)) {}

fs::path PlanCache::default_file() {
  if (const char* dir = std::getenv("HEMAPATH_CACHE_DIR")) return *dir ? fs::path(dir) / kFileName : fs::path();
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return fs::path(dir) / "hemapath" / kFileName;
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "hemapath" / kFileName;
  return {};
}

std::optional<std::string> PlanCache::find(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  const nlohmann::json entries = read_entries(file_);
  const auto entry = entries.find(key);
  if (entry == entries.end() || !entry->is_object() || !entry->contains("plan") || !(*entry)["plan"].is_string())
    return std::nullopt;
  return (*entry)["plan"].get<std::string>();
}

void PlanCache::store(const std::string& key, const std::string& layout, const std::string& note) const {
  if (!enabled()) return;
  try {
    fs::create_directories(file_.parent_path());
    FileLock lock(fs::path(file_).concat(".lock"));
    nlohmann::json entries = read_entries(file_);
    entries[key] = {{"plan", layout}, {"note", note}};
    write_text_atomic(file_, entries.dump(1));
  } catch (const std::exception& e) {  // the run goes on: only the next run's trial is at stake
    logger("infer")->warn("inference plan cache '{}' not written: {}", file_.string(), e.what());
  }
}

}  // namespace hemapath
