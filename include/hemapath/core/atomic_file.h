#pragma once
/// Outputs appear whole or not at all: write to a temporary file beside the target, then
/// rename it over the target. An abandoned write removes its temporary file.
#include <filesystem>
#include <string>

namespace hemapath {

class AtomicFile {
 public:
  /// Creates the parent folder of `target`; the temporary keeps `target`'s extension so
  /// writers that pick a format by extension (cv::imwrite) still work.
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Where to write now.
  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  /// Renames the temporary over the target. Throws OutputError if the temporary is missing.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

/// Whether `output` is the existing file `input` under any spelling (links, "./"): a command
/// that writes a new file made from `input` checks this first, so it never replaces its input.
bool is_same_existing_file(const std::filesystem::path& input, const std::filesystem::path& output);

/// Writes `content` to `path` atomically; throws OutputError naming the path on failure.
void write_text_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace hemapath
