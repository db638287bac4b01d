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
#include "hemapath/core/shard.h"

namespace hemapath {

/// Paths listed in a text file, one per line; blank lines and lines starting with '#' are
/// skipped, and relative paths are taken from the list's folder. InputError naming the file
/// when it cannot be read or lists nothing.
std::vector<std::string> read_input_list(const std::string& path);

/// `inputs` followed by the paths `list` names (read_input_list), when `list` is not empty.
std::vector<std::string> with_listed(std::vector<std::string> inputs, const std::string& list);

enum class InputState { finished, failed, pending };

struct InputStatus {
  InputState state = InputState::pending;
  std::string error;  ///< the failure's message (failed)
};

/// "finished", "error" or "pending", as summary tables write it.
const char* state_name(InputState state);

/// How many inputs of a batch are in each state.
struct StatusCounts {
  size_t finished = 0, failed = 0, pending = 0;
  void count(InputState state);
};

/// A worker's share of a batch: positions (in the list) still to run, and how many of its
/// share an earlier run finished.
struct ShardWork {
  std::vector<size_t> todo;
  size_t finished_before = 0;
  size_t taken() const { return todo.size() + finished_before; }
};

class BatchLedger {
 public:
  /// `result_file`: the name of the file inside an input's folder that is written last.
  BatchLedger(std::filesystem::path out_dir, std::string result_file);
  /// <out>/<stem of input>
  std::filesystem::path folder(const std::string& input) const;
  std::filesystem::path result(const std::string& input) const { return folder(input) / result_file_; }
  InputStatus status(const std::string& input) const;
  /// The positions of `inputs` that `shard` takes; with `skip_finished`, those whose result
  /// file exists are counted as finished before instead of run again.
  ShardWork shard_work(const std::vector<std::string>& inputs, const Shard& shard, bool skip_finished) const;
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
