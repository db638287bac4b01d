#pragma once
/// Progress of long work: a redrawn bar with rate, ETA and live metrics when stderr is a
/// terminal, a log line every few seconds otherwise (so CI logs and files stay readable).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace hemapath {

/// Seconds on the steady clock since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class Progress {
 public:
  /// `total` steps of `unit` (e.g. "img"); `total` 0 means unknown.
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Shows `value` next to the bar, e.g. set_metric("loss", 0.31).
  void set_metric(const std::string& name, double value);
  void advance(int64_t steps = 1);
  /// Draws the final state and ends the line. Called by the destructor if needed.
  void finish();

  /// Steps per second so far.
  double rate() const;
  double elapsed_seconds() const;

  /// Off turns every Progress silent (the CLI's --quiet).
  static void set_enabled(bool enabled);

 private:
  std::string render() const;
  void draw(bool final);

  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  std::map<std::string, double> metrics_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool tty_;
  bool finished_ = false;
  bool logged_ = false;  // a periodic line was written (log mode)
};

}  // namespace hemapath
