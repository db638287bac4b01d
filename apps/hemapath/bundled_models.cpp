#include <cstdlib>
#include <filesystem>

#include "commands.h"

namespace hemapath::cli {
namespace fs = std::filesystem;

// The models folder: $HEMAPATH_MODELS, else models/ beside the build folder holding this
// executable (build/hemapath -> models/), else models/ under the working folder.
std::string bundled_model(const std::string& name) {
  if (const char* dir = std::getenv("HEMAPATH_MODELS"); dir && *dir) return (fs::path(dir) / name).string();
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path beside = exe.parent_path().parent_path() / "models" / name;
    if (fs::exists(beside)) return beside.string();
  }
  return (fs::path("models") / name).string();
}

}  // namespace hemapath::cli
