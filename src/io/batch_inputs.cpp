#include "hemapath/io/batch_inputs.h"

#include <fstream>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
const char* kErrorFile = "error.txt";

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}
}  // namespace

std::vector<std::string> read_input_list(const std::string& path) {
  std::ifstream in(path);
  HP_CHECK(in.good() && fs::is_regular_file(path), InputError, "--list '", path,
           "' cannot be read: expected a text file with one input path per line");
  const fs::path base = fs::path(path).parent_path();
  std::vector<std::string> inputs;
  std::string line;
  while (std::getline(in, line)) {
    const std::string entry = trimmed(line);
    if (entry.empty() || entry[0] == '#') continue;
    const fs::path p(entry);
    inputs.push_back(p.is_absolute() ? entry : (base / p).lexically_normal().string());
  }
  HP_CHECK(!inputs.empty(), InputError, "--list '", path, "' lists no inputs");
  return inputs;
}

std::vector<std::string> with_listed(std::vector<std::string> inputs, const std::string& list) {
  if (!list.empty())
    for (auto& path : read_input_list(list)) inputs.push_back(std::move(path));
  return inputs;
}

void StatusCounts::count(InputState state) {
  ++(state == InputState::finished ? finished : state == InputState::failed ? failed : pending);
}

const char* state_name(InputState state) {
  switch (state) {
    case InputState::finished:
      return "finished";
    case InputState::failed:
      return "error";
    case InputState::pending:
      return "pending";
  }
  return "pending";
}

BatchLedger::BatchLedger(fs::path out_dir, std::string result_file)
    : out_dir_(std::move(out_dir)), result_file_(std::move(result_file)) {}

fs::path BatchLedger::folder(const std::string& input) const { return out_dir_ / fs::path(input).stem(); }

InputStatus BatchLedger::status(const std::string& input) const {
  if (fs::is_regular_file(result(input))) return {InputState::finished, ""};
  const fs::path error = folder(input) / kErrorFile;
  if (!fs::is_regular_file(error)) return {InputState::pending, ""};
  std::ifstream in(error);
  std::string message;
  std::getline(in, message);
  return {InputState::failed, message};
}

ShardWork BatchLedger::shard_work(const std::vector<std::string>& inputs, const Shard& shard,
                                  bool skip_finished) const {
  ShardWork work;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!shard.takes(k)) continue;
    if (skip_finished && status(inputs[k]).state == InputState::finished)
      ++work.finished_before;
    else
      work.todo.push_back(k);
  }
  return work;
}

nlohmann::json BatchLedger::result_json(const std::string& input) const {
  std::ifstream in(result(input));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  HP_CHECK(!j.is_discarded(), InputError, "'", result(input).string(),
           "' is not valid JSON: remove it to run the input again");
  return j;
}

void BatchLedger::record_failure(const std::string& input, const std::string& message) const {
  write_text_atomic(folder(input) / kErrorFile, message + "\n");
}

void BatchLedger::clear_failure(const std::string& input) const {
  std::error_code ec;
  fs::remove(folder(input) / kErrorFile, ec);
}

std::unique_ptr<FileLock> BatchLedger::lock() const { return std::make_unique<FileLock>(out_dir_ / ".batch.lock"); }

}  // namespace hemapath
