#pragma once
// Shared helpers for the test suite: paths to data, scratch folders, running the CLI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace hemapath::test {

/// ../shared/data beside the repository (the real data sets).
inline std::filesystem::path shared_data() { return HEMAPATH_SHARED_DATA; }
inline std::filesystem::path source_dir() { return HEMAPATH_SOURCE_DIR; }

/// Sets (or, with nullptr, clears) environment variables for one test and restores them.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_)
      value ? ::setenv(name.c_str(), value->c_str(), 1) : ::unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

/// A fresh folder removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "scratch";
    path_ = std::filesystem::temp_directory_path() / ("hemapath_test_" + name + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The message of the E that `action` throws; a test failure and "" when it throws none.
template <class E, class Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

/// A whole file as text ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A JSON file, parsed (throws when it is missing or malformed).
inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// Runs a shell command line and collects its stdout.
inline CommandResult run_cli_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Runs the hemapath binary with `args` (shell-quoted by the caller where needed).
inline CommandResult run_cli(const std::string& args) {
  return run_cli_command(std::string(HEMAPATH_CLI) + " " + args + " 2>&1");
}

/// A shell command line run to its end, stdout and stderr together.
inline CommandResult run_shell(const std::string& command) { return run_cli_command(command + " 2>&1"); }

/// The hemapath CLI started in the background with `extra_env` added to the environment, its
/// stdout and stderr in `log`.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                       const std::string& log) {
  std::vector<std::string> argv_text{HEMAPATH_CLI};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text(extra_env);
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);  // the first of a name wins
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

/// The exit code of `pid`, or -1 after `seconds` (the process is then killed).
inline int wait_exit(pid_t pid, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

/// The first `per_class` labelled wbc-bccd images of each of the four main classes, as an
/// `image,label` CSV written into `dir` (images referenced by absolute path).
inline std::string write_wbc_slice(const std::filesystem::path& dir, int per_class) {
  std::ifstream in(shared_data() / "wbc-bccd" / "labels.csv");
  std::string line;
  std::getline(in, line);
  std::map<std::string, int> taken;
  std::string csv = "image,label\n";
  while (std::getline(in, line)) {
    auto comma = line.find(',');
    std::string image = line.substr(0, comma), label = line.substr(comma + 1);
    if (label == "BASOPHIL" || taken[label] >= per_class) continue;
    ++taken[label];
    csv += (shared_data() / "wbc-bccd" / "images" / image).string() + "," + label + "\n";
  }
  std::string path = (dir / "slice.csv").string();
  write_file(path, csv);
  return path;
}

/// A training config over write_wbc_slice(dir, per_class) (32 px crops, a narrow separable
/// CNN unless `model` says otherwise, 50/25/25 split), written to dir/config.yaml; returns its path.
inline std::string write_tiny_wbc_config(const std::filesystem::path& dir, int per_class,
                                         const std::string& train_block, const std::string& augment,
                                         const std::string& model = "{arch: separable_cnn, extra: {width: 0.25}}") {
  const std::string csv = write_wbc_slice(dir, per_class);
  const std::string config = "seed: 7\n"
                             "data:\n"
                             "  labels: " + csv + "\n"
                             "  masks: " + (shared_data() / "wbc-bccd" / "masks").string() + "\n"
                             "  classes: [NEUTROPHIL, EOSINOPHIL, LYMPHOCYTE, MONOCYTE]\n"
                             "  split: {train: 0.5, val: 0.25, test: 0.25, seed: 3}\n"
                             "  crop: {size: 32, margin: 0.1}\n"
                             "  workers: 2\n"
                             "model: " + model + "\n"
                             "normalization: {mode: standardize}\n"
                             "augment: " + augment + "\n"
                             "train: " + train_block + "\n";
  const std::string path = (dir / "config.yaml").string();
  write_file(path, config);
  return path;
}

/// Links the first `count` wbc-bccd smears into dir/images, a folder of unlabelled images;
/// returns its path.
inline std::string link_wbc_images(const std::filesystem::path& dir, int count) {
  const auto images = dir / "images";
  std::filesystem::create_directories(images);
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "BloodImage_%05d.jpg", i);
    const auto source = shared_data() / "wbc-bccd" / "images" / name;
    if (std::filesystem::exists(source)) std::filesystem::create_symlink(source, images / name);
  }
  return images.string();
}

/// The first `count` nucleus tiles of nuclei-dsb2018 (320x256 RGB, 16-bit instance masks),
/// linked into dir/images and dir/masks.
inline void link_nuclei_tiles(const std::filesystem::path& dir, size_t count) {
  namespace fs = std::filesystem;
  const fs::path source = shared_data() / "nuclei-dsb2018";
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(source / "images")) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "masks");
  for (size_t i = 0; i < count && i < images.size(); ++i) {
    fs::create_symlink(images[i], dir / "images" / images[i].filename());
    fs::create_symlink(source / "masks" / images[i].filename(), dir / "masks" / images[i].filename());
  }
}

}  // namespace hemapath::test
