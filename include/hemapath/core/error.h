#pragma once
/// Error hierarchy of hemapath. Library code throws these; the CLI prints the message
/// and exits with `exit_code()` (2 for bad input or usage, 1 for a failure of the work).
#include <sstream>
#include <stdexcept>
#include <string>

namespace hemapath {

/// Base of every hemapath error. The message names the file/option and what was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  /// Process exit code the CLI should return for this error.
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// Bad input: missing, corrupt or wrong-shaped files, unknown names, empty sets (exit 2).
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(message, 2) {}
};

/// A configuration key or value is wrong (exit 2).
class ConfigError : public InputError {
 public:
  using InputError::InputError;
};

/// A model file is missing, truncated, of another task or of an unknown architecture (exit 2).
class ModelFileError : public InputError {
 public:
  using InputError::InputError;
};

/// Writing an output failed (exit 1).
class OutputError : public Error {
 public:
  explicit OutputError(const std::string& message) : Error(message, 1) {}
};

/// The requested device is not available in this build or on this machine (exit 2).
class DeviceError : public InputError {
 public:
  using InputError::InputError;
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace hemapath

/// Throws `ErrorType` with the streamed message parts when `cond` is false, e.g.
/// `HP_CHECK(n > 0, InputError, "dataset '", path, "' is empty: expected at least one image")`.
#define HP_CHECK(cond, ErrorType, ...)                                      \
  do {                                                                      \
    if (!(cond)) throw ::hemapath::ErrorType(::hemapath::detail::concat(__VA_ARGS__)); \
  } while (false)
