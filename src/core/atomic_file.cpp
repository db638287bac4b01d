#include "hemapath/core/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <fstream>

#include "hemapath/core/error.h"

namespace hemapath {
namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  static std::atomic<unsigned> counter{0};
  fs::path parent = target_.parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  HP_CHECK(!ec, OutputError, "cannot create folder '", parent.string(), "' for output '", target_.string(),
           "': ", ec.message());
  temp_ = parent / ("." + target_.stem().string() + ".tmp" + std::to_string(getpid()) + "-" +
                    std::to_string(counter++) + target_.extension().string());
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  std::error_code ec;
  HP_CHECK(fs::exists(temp_, ec), OutputError, "writing '", target_.string(), "' failed: nothing was written");
  fs::rename(temp_, target_, ec);
  HP_CHECK(!ec, OutputError, "cannot move output into place at '", target_.string(), "': ", ec.message());
  committed_ = true;
}

void write_text_atomic(const fs::path& path, const std::string& content) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    out << content;
    out.flush();
    HP_CHECK(out.good(), OutputError, "cannot write '", path.string(), "'");
  }
  file.commit();
}

bool is_same_existing_file(const fs::path& input, const fs::path& output) {
  std::error_code error;  // a missing file is an error here, and so not the same file
  return fs::equivalent(input, output, error);
}

}  // namespace hemapath
