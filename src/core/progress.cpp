#include "hemapath/core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>

#include "hemapath/core/log.h"

namespace hemapath {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  return buf;
}

constexpr double kLogIntervalSeconds = 10.0;
constexpr double kRedrawIntervalSeconds = 0.1;

}  // namespace

void Progress::set_enabled(bool enabled) { enabled_flag() = enabled; }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      tty_(isatty(fileno(stderr)) != 0) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::set_metric(const std::string& name, double value) { metrics_[name] = value; }

double Progress::elapsed_seconds() const {
  return seconds_since(start_);
}

double Progress::rate() const {
  double t = elapsed_seconds();
  return t > 0 ? static_cast<double>(done_) / t : 0.0;
}

void Progress::advance(int64_t steps) {
  done_ += steps;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? kRedrawIntervalSeconds : kLogIntervalSeconds)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

std::string Progress::render() const {
  std::ostringstream line;
  line << label_ << " ";
  if (total_ > 0) {
    constexpr int width = 24;
    int filled = static_cast<int>(width * std::min<int64_t>(done_, total_) / total_);
    line << "[" << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  }
  line << done_;
  if (total_ > 0) line << "/" << total_;
  char rate_text[48];
  std::snprintf(rate_text, sizeof rate_text, " %.1f %s/s", rate(), unit_.c_str());
  line << rate_text;
  double r = rate();
  if (total_ > 0)
    line << " ETA " << (r > 0 ? format_duration(static_cast<double>(total_ - done_) / r) : "--:--");
  else
    line << " " << format_duration(elapsed_seconds());
  for (const auto& [name, value] : metrics_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s=%.4g", name.c_str(), value);
    line << buf;
  }
  return line.str();
}

void Progress::draw(bool final) {
  if (!enabled_flag()) return;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", render().c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else if (!final || logged_) {
    // In logs a short task's closing line would only repeat the caller's own summary.
    logger("progress")->info("{}", render());
    logged_ = true;
  }
}

}  // namespace hemapath
