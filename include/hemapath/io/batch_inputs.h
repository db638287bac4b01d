#pragma once
/// Batches of inputs that may be split among workers (--shard) or interrupted and run again.
/// Each input's results go to <out>/<input stem>/; its result file, written last and
/// atomically, marks it finished, and a failure leaves <out>/<stem>/error.txt with the
/// message instead. A re-run skips finished inputs and retries the rest, and any worker can
/// rebuild the merged summary of the whole list from what the folders hold.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/core/file_lock.h"

namespace hemapath {

/// Paths listed in a text file, one per line; blank lines and lines starting with '#' are
/// skipped, and relative paths are taken from the list's folder. InputError naming the file
/// when it cannot be read or lists nothing.
std::vector<std::string> read_input_list(const std::string& path);

enum class InputState { finished, failed, pending };

struct InputStatus {
  InputState state = InputState::pending;
  std::string error;  ///< the failure's message (failed)
};

/// "finished", "error" or "pending", as summary tables write it.
const char* state_name(InputState state);

class BatchLedger {
 public:
  /// `result_file`: the name of the file inside an input's folder that is written last.
  BatchLedger(std::filesystem::path out_dir, std::string result_file);
  /// <out>/<stem of input>
  std::filesystem::path folder(const std::string& input) const;
  std::filesystem::path result(const std::string& input) const { return folder(input) / result_file_; }
  InputStatus status(const std::string& input) const;
  /// A finished input's result file, parsed; InputError naming it when it is not JSON.
  nlohmann::json result_json(const std::string& input) const;
  /// Writes error.txt (atomically) in the input's folder.
  void record_failure(const std::string& input, const std::string& message) const;
  /// Removes a failure left by an earlier run, before the input is tried again.
  void clear_failure(const std::string& input) const;
  /// Holds <out>/.batch.lock while the merged outputs are rebuilt, so that workers finishing
  /// at the same time take turns and the last one writes the complete summary.
  std::unique_ptr<FileLock> lock() const;

 private:
  std::filesystem::path out_dir_;
  std::string result_file_;
};

}  // namespace hemapath
