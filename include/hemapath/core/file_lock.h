#pragma once
/// An exclusive advisory lock on a file (flock), held for the object's lifetime, so that
/// workers sharing an output folder (also over NFS with lock support) take turns at a
/// read-modify-write such as rebuilding a merged summary.
#include <filesystem>

namespace hemapath {

class FileLock {
 public:
  /// Creates `path` if needed and blocks until the lock is held. OutputError naming the path
  /// when it cannot be opened or locked.
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace hemapath
