#include "hemapath/io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/io/canvas_text.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kInk(40, 40, 40);
const cv::Scalar kGrid(228, 228, 228);
const int kFont = kCanvasFont;
const double kTitleScale = 0.65, kLabelScale = 0.5, kTickScale = 0.42;
const int kMinWidth = 200, kMinHeight = 150;

cv::Scalar colour(size_t index) {
  auto c = plot_colour(index);
  return cv::Scalar(c[0], c[1], c[2]);  // canvases are RGB; write_image converts
}

bool finite(double v) { return std::isfinite(v); }

void check_size(const LinePlotOptions& o, const std::string& what) {
  HP_CHECK(o.width >= kMinWidth && o.height >= kMinHeight, InputError, what, ": size ", o.width, "x", o.height,
           " is too small, expected at least ", kMinWidth, "x", kMinHeight, " pixels");
}

// ---- text ---------------------------------------------------------------------------------

void put_text_centred(cv::Mat& img, const std::string& s, cv::Point centre, double scale, const cv::Scalar& c,
                      int thickness = 1) {
  cv::Size sz = text_size(s, scale, thickness);
  put_text(img, s, {centre.x - sz.width / 2, centre.y - sz.height / 2}, scale, c, thickness);
}

/// Text reading bottom to top (y-axis titles), centred on `centre`; putText cannot rotate,
/// so the text is drawn on a strip that is then rotated and pasted (clipped to the image).
void put_text_vertical(cv::Mat& img, const std::string& s, cv::Point centre, double scale, const cv::Scalar& c) {
  if (s.empty()) return;
  cv::Size sz = text_size(s, scale);
  cv::Mat strip(sz.height + 2, sz.width + 2, img.type(), kBackground);
  put_text(strip, s, {1, 1}, scale, c);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  cv::Rect target(centre.x - rotated.cols / 2, centre.y - rotated.rows / 2, rotated.cols, rotated.rows);
  cv::Rect clipped = target & cv::Rect(0, 0, img.cols, img.rows);
  if (clipped.empty()) return;
  rotated(cv::Rect(clipped.x - target.x, clipped.y - target.y, clipped.width, clipped.height)).copyTo(img(clipped));
}

/// Shortens over-long names so one legend entry cannot push the legend off the chart.
std::string ellipsize(const std::string& s, size_t max_chars) {
  return s.size() <= max_chars ? s : s.substr(0, max_chars - 3) + "...";
}

// ---- axes ---------------------------------------------------------------------------------

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

std::string format_tick(double v, double step) {
  if (std::fabs(v) < step * 1e-6) v = 0;  // no "-0" or 1e-17 at the origin
  char buf[48];
  double mag = std::max(std::fabs(v), step);
  if (mag >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

/// Round axis limits and ticks every 1, 2 or 5 x 10^k covering [lo, hi] with about
/// `target` intervals.
Axis nice_axis(double lo, double hi, int target) {
  if (!(hi > lo)) {
    double d = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  target = std::max(target, 1);
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double frac = raw / mag;
  double step = (frac <= 1 ? 1 : frac <= 2 ? 2 : frac <= 5 ? 5 : 10) * mag;
  Axis a;
  a.step = step;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  if (!(a.hi > a.lo)) a.hi = a.lo + step;
  int n = static_cast<int>(std::lround((a.hi - a.lo) / step));
  for (int i = 0; i <= n; ++i) {
    double t = a.lo + i * step;
    a.ticks.push_back(t);
    a.labels.push_back(format_tick(t, step));
  }
  return a;
}

int widest(const std::vector<std::string>& labels, double scale) {
  int w = 0;
  for (const auto& l : labels) w = std::max(w, text_size(l, scale).width);
  return w;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(hi >= lo); }
};

/// A chart's plotting area and its data-to-pixel mapping.
struct Frame {
  cv::Rect area;
  Axis x, y;
  cv::Point2d map(double vx, double vy) const {
    return {area.x + (vx - x.lo) / (x.hi - x.lo) * area.width,
            area.y + area.height - (vy - y.lo) / (y.hi - y.lo) * area.height};
  }
};

/// Draws title, axis titles, grid, ticks and tick labels into `img` (one panel) and returns
/// the plotting area; the data ranges must be finite or empty.
Frame draw_frame(cv::Mat& img, const LinePlotOptions& o, Range xr, Range yr) {
  const int pad = 10;
  if (xr.empty()) xr = Range{0, 1};
  if (yr.empty()) yr = Range{0, 1};
  const int tick_h = text_size("0", kTickScale).height;
  const int label_h = text_size("Ay", kLabelScale).height;
  const int top = o.title.empty() ? 2 * pad : text_size(o.title, kTitleScale, 2).height + 3 * pad;
  const int bottom = pad + 6 + tick_h + (o.x_label.empty() ? pad : label_h + 2 * pad);
  const int plot_h = std::max(20, img.rows - top - bottom);

  Frame f;
  f.y = nice_axis(yr.lo, yr.hi, std::max(2, plot_h / 55));
  const int left = pad + (o.y_label.empty() ? 0 : label_h + pad) + widest(f.y.labels, kTickScale) + 8;
  const int right = 2 * pad + 10;
  const int plot_w = std::max(20, img.cols - left - right);
  // Fewer x ticks until their labels no longer run into each other.
  int target = std::max(2, plot_w / 90);
  f.x = nice_axis(xr.lo, xr.hi, target);
  while (target > 1 && static_cast<int>(f.x.ticks.size()) * (widest(f.x.labels, kTickScale) + 14) > plot_w) {
    f.x = nice_axis(xr.lo, xr.hi, --target);
  }
  f.area = cv::Rect(left, top, plot_w, plot_h);

  if (!o.title.empty()) put_text_centred(img, o.title, {img.cols / 2, top / 2}, kTitleScale, kInk, 2);
  for (size_t i = 0; i < f.y.ticks.size(); ++i) {
    int py = static_cast<int>(std::lround(f.map(f.x.lo, f.y.ticks[i]).y));
    cv::line(img, {left, py}, {left + plot_w, py}, kGrid, 1);
    cv::line(img, {left - 5, py}, {left, py}, kInk, 1);
    cv::Size sz = text_size(f.y.labels[i], kTickScale);
    put_text(img, f.y.labels[i], {left - 8 - sz.width, py - sz.height / 2}, kTickScale, kInk);
  }
  for (size_t i = 0; i < f.x.ticks.size(); ++i) {
    int px = static_cast<int>(std::lround(f.map(f.x.ticks[i], f.y.lo).x));
    cv::line(img, {px, top}, {px, top + plot_h}, kGrid, 1);
    cv::line(img, {px, top + plot_h}, {px, top + plot_h + 5}, kInk, 1);
    cv::Size sz = text_size(f.x.labels[i], kTickScale);
    put_text(img, f.x.labels[i], {px - sz.width / 2, top + plot_h + 8}, kTickScale, kInk);
  }
  cv::rectangle(img, f.area, kInk, 1);
  if (!o.x_label.empty())
    put_text_centred(img, o.x_label, {left + plot_w / 2, top + plot_h + 8 + tick_h + pad + label_h / 2}, kLabelScale,
                     kInk);
  if (!o.y_label.empty()) put_text_vertical(img, o.y_label, {pad + label_h / 2, top + plot_h / 2}, kLabelScale, kInk);
  return f;
}

// Sub-pixel positions for smooth anti-aliased lines.
const int kShift = 3;
cv::Point fixed_point(cv::Point2d p) {
  return {static_cast<int>(std::lround(p.x * (1 << kShift))), static_cast<int>(std::lround(p.y * (1 << kShift)))};
}

// ---- line charts --------------------------------------------------------------------------

void check_series(const std::vector<PlotSeries>& series, const std::string& what) {
  HP_CHECK(!series.empty(), InputError, what, ": no series to plot, expected at least one");
  for (const auto& s : series) {
    HP_CHECK(s.x.size() == s.y.size(), InputError, what, ": series '", s.name, "' has ", s.x.size(), " x values and ",
             s.y.size(), " y values, expected the same number");
    const bool band = !s.y_low.empty() || !s.y_high.empty();
    HP_CHECK(!band || (s.y_low.size() == s.x.size() && s.y_high.size() == s.x.size()), InputError, what, ": series '",
             s.name, "' has a band of ", s.y_low.size(), " y_low and ", s.y_high.size(), " y_high values for ",
             s.x.size(), " x values, expected both the same number as x (or both empty)");
  }
}

bool has_band(const PlotSeries& s) { return !s.y_low.empty(); }

/// Fills the band of `s` in `c` blended 25% over what `img` already shows, one polygon per
/// run of finite points, and appends each run's upper and lower edge (in pixels) to `edges`.
void draw_band(cv::Mat& img, const Frame& f, const PlotSeries& s, const cv::Scalar& c,
               std::vector<std::vector<cv::Point2d>>& edges) {
  // Coverage first, blended once: painting runs straight onto the image would blend twice
  // where the anti-aliased ends of neighbouring runs meet.
  cv::Mat cover(img.size(), CV_8U, cv::Scalar(0));
  std::vector<cv::Point2d> high, low;
  for (size_t i = 0; i <= s.x.size(); ++i) {
    bool ok = i < s.x.size() && finite(s.x[i]) && finite(s.y_low[i]) && finite(s.y_high[i]);
    if (ok) {
      high.push_back(f.map(s.x[i], s.y_high[i]));
      low.push_back(f.map(s.x[i], s.y_low[i]));
      continue;
    }
    if (high.empty()) continue;
    std::vector<cv::Point> outline;
    for (const auto& p : high) outline.push_back(fixed_point(p));
    for (auto it = low.rbegin(); it != low.rend(); ++it) outline.push_back(fixed_point(*it));
    if (high.size() == 1)  // a lone point has no width: show its spread as a bar
      cv::line(cover, outline[0], outline[1], cv::Scalar(255), 5, cv::LINE_AA, kShift);
    else
      cv::fillPoly(cover, std::vector<std::vector<cv::Point>>{outline}, cv::Scalar(255), cv::LINE_AA, kShift);
    edges.push_back(high);
    edges.push_back(low);
    high.clear();
    low.clear();
  }
  const double opacity = 0.25 / 255;
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* m = cover.ptr<uint8_t>(y);
    cv::Vec3b* p = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < img.cols; ++x)
      if (m[x])
        for (int k = 0; k < 3; ++k) p[x][k] = cv::saturate_cast<uint8_t>(p[x][k] + opacity * m[x] * (c[k] - p[x][k]));
  }
}

void draw_legend(cv::Mat& img, const Frame& f, const std::vector<PlotSeries>& series,
                 const std::vector<std::vector<cv::Point2d>>& pixels) {
  std::vector<size_t> entries;
  for (size_t i = 0; i < series.size(); ++i)
    if (!series[i].name.empty()) entries.push_back(i);
  if (entries.empty()) return;
  const int row_h = text_size("Ay", kLabelScale).height + 8, swatch = 24, pad = 8;
  int text_w = 0;
  for (size_t i : entries) text_w = std::max(text_w, text_size(ellipsize(series[i].name, 40), kLabelScale).width);
  const int w = pad + swatch + 6 + text_w + pad, h = pad + static_cast<int>(entries.size()) * row_h + pad / 2;
  const int inset = 8;
  const cv::Rect& a = f.area;
  std::vector<cv::Rect> corners = {{a.x + a.width - w - inset, a.y + inset, w, h},
                                   {a.x + inset, a.y + inset, w, h},
                                   {a.x + a.width - w - inset, a.y + a.height - h - inset, w, h},
                                   {a.x + inset, a.y + a.height - h - inset, w, h}};
  // The corner the curves cross least, judged by points sampled every ~2 px along them.
  size_t best = 0;
  long best_hits = std::numeric_limits<long>::max();
  for (size_t c = 0; c < corners.size(); ++c) {
    long hits = 0;
    for (const auto& line : pixels)
      for (size_t k = 0; k < line.size(); ++k) {
        cv::Point2d p = line[k];
        cv::Point2d q = k + 1 < line.size() ? line[k + 1] : p;
        int steps = std::max(1, static_cast<int>(cv::norm(q - p) / 2));
        for (int s = 0; s < steps; ++s) {
          cv::Point2d r = p + (q - p) * (static_cast<double>(s) / steps);
          if (corners[c].contains(cv::Point(static_cast<int>(r.x), static_cast<int>(r.y)))) ++hits;
        }
      }
    if (hits < best_hits) {
      best_hits = hits;
      best = c;
    }
  }
  cv::Rect box = corners[best];
  cv::rectangle(img, box, kBackground, cv::FILLED);
  cv::rectangle(img, box, cv::Scalar(160, 160, 160), 1);
  for (size_t e = 0; e < entries.size(); ++e) {
    int cy = box.y + pad + static_cast<int>(e) * row_h + row_h / 2 - 2;
    cv::line(img, {box.x + pad, cy}, {box.x + pad + swatch, cy}, colour(entries[e]), 2, cv::LINE_AA);
    cv::Size sz = text_size("Ay", kLabelScale);
    put_text(img, ellipsize(series[entries[e]].name, 40), {box.x + pad + swatch + 6, cy - sz.height / 2}, kLabelScale,
             kInk);
  }
}

void draw_line_panel(cv::Mat& img, const std::vector<PlotSeries>& series, const LinePlotOptions& o) {
  Range xr, yr;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (finite(s.x[i]) && finite(s.y[i])) {
        xr.add(s.x[i]);
        yr.add(s.y[i]);
      }
      if (has_band(s) && finite(s.x[i]) && finite(s.y_low[i]) && finite(s.y_high[i])) {
        xr.add(s.x[i]);
        yr.add(s.y_low[i]);
        yr.add(s.y_high[i]);
      }
    }
  Frame f = draw_frame(img, o, xr, yr);
  // Every band before any line, so no band veils another series' curve.
  std::vector<std::vector<cv::Point2d>> band_edges;
  for (size_t si = 0; si < series.size(); ++si)
    if (has_band(series[si])) draw_band(img, f, series[si], colour(si), band_edges);
  // Runs of consecutive finite points, per series, in pixels (for the legend's placement).
  std::vector<std::vector<cv::Point2d>> runs;
  std::vector<size_t> run_series;
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    std::vector<cv::Point2d> run;
    for (size_t i = 0; i <= s.x.size(); ++i) {
      bool ok = i < s.x.size() && finite(s.x[i]) && finite(s.y[i]);
      if (ok) run.push_back(f.map(s.x[i], s.y[i]));
      if (!ok && !run.empty()) {
        runs.push_back(run);
        run_series.push_back(si);
        run.clear();
      }
    }
  }
  cv::Mat plot = img;
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    cv::Scalar c = colour(run_series[r]);
    for (size_t k = 0; k + 1 < run.size(); ++k)
      cv::line(plot, fixed_point(run[k]), fixed_point(run[k + 1]), c, 2, cv::LINE_AA, kShift);
    // Markers show where measurements are when curves are short, and make lone points visible.
    size_t n = series[run_series[r]].x.size();
    if (n <= 60 || run.size() == 1)
      for (const auto& p : run) cv::circle(plot, fixed_point(p), 3 << kShift, c, cv::FILLED, cv::LINE_AA, kShift);
  }
  cv::rectangle(img, f.area, kInk, 1);  // curves on the limits must not hide the frame
  // The legend's box is opaque, so it avoids band edges as well as curves.
  runs.insert(runs.end(), band_edges.begin(), band_edges.end());
  draw_legend(img, f, series, runs);
}

}  // namespace

std::array<uint8_t, 3> plot_colour(size_t index) {
  // A qualitative palette whose neighbours stay distinguishable (matplotlib's default order).
  static const std::array<std::array<uint8_t, 3>, 10> palette = {{{31, 119, 180},
                                                                  {255, 127, 14},
                                                                  {44, 160, 44},
                                                                  {214, 39, 40},
                                                                  {148, 103, 189},
                                                                  {140, 86, 75},
                                                                  {227, 119, 194},
                                                                  {127, 127, 127},
                                                                  {188, 189, 34},
                                                                  {23, 190, 207}}};
  return palette[index % palette.size()];
}

void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const LinePlotOptions& options) {
  const std::string what = "line plot '" + path + "'";
  require_png_path(path, "line plot");
  check_series(series, what);
  check_size(options, what);
  cv::Mat img(options.height, options.width, CV_8UC3, kBackground);
  draw_line_panel(img, series, options);
  write_image(path, img);
}

void write_line_plots(const std::string& path, const std::vector<std::vector<PlotSeries>>& panels,
                      const std::vector<LinePlotOptions>& options) {
  require_png_path(path, "line plots");
  HP_CHECK(!panels.empty(), InputError, "line plots '", path, "': no panel to draw, expected at least one");
  HP_CHECK(panels.size() == options.size(), InputError, "line plots '", path, "': ", panels.size(), " panels but ",
           options.size(), " option sets, expected one per panel");
  int width = 0, height = 0;
  for (size_t p = 0; p < panels.size(); ++p) {
    const std::string what = "line plots '" + path + "' panel " + std::to_string(p + 1);
    check_series(panels[p], what);
    check_size(options[p], what);
    width = std::max(width, options[p].width);
    height += options[p].height;
  }
  cv::Mat img(height, width, CV_8UC3, kBackground);
  int y = 0;
  for (size_t p = 0; p < panels.size(); ++p) {
    cv::Mat panel = img(cv::Rect(0, y, options[p].width, options[p].height));
    draw_line_panel(panel, panels[p], options[p]);
    y += options[p].height;
  }
  write_image(path, img);
}

// ---- heat map -----------------------------------------------------------------------------

namespace {

/// White through mid blue to dark blue, as fraction goes 0 -> 1 (RGB).
cv::Scalar heat_colour(double t) {
  static const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  t = std::clamp(t, 0.0, 1.0);
  int i = t < 0.5 ? 0 : 1;
  double u = (t - 0.5 * i) / 0.5;
  return cv::Scalar(stops[i][0] + u * (stops[i + 1][0] - stops[i][0]),
                    stops[i][1] + u * (stops[i + 1][1] - stops[i][1]),
                    stops[i][2] + u * (stops[i + 1][2] - stops[i][2]));
}

}  // namespace

void write_matrix_heatmap(const std::string& path, const std::vector<std::vector<int64_t>>& counts,
                          const std::vector<std::string>& labels, const std::string& title) {
  require_png_path(path, "heat map");
  const size_t n = counts.size();
  HP_CHECK(n > 0, InputError, "heat map '", path, "': the matrix is empty, expected at least one class");
  HP_CHECK(labels.size() == n, InputError, "heat map '", path, "': ", labels.size(), " labels for a ", n, "x", n,
           " matrix, expected one label per class");
  for (size_t r = 0; r < n; ++r) {
    HP_CHECK(counts[r].size() == n, InputError, "heat map '", path, "': row ", r, " has ", counts[r].size(),
             " columns, expected a square ", n, "x", n, " matrix");
    for (int64_t v : counts[r])
      HP_CHECK(v >= 0, InputError, "heat map '", path, "': row ", r, " has the negative count ", v);
  }

  const int pad = 12;
  const double cell_scale = 0.5, frac_scale = 0.42;
  std::vector<std::string> names;
  for (const auto& l : labels) names.push_back(ellipsize(l, 28));
  int count_w = 0;
  for (const auto& row : counts)
    for (int64_t v : row) count_w = std::max(count_w, text_size(std::to_string(v), cell_scale).width);
  const int cell_w = std::max({64, count_w + 16});
  const int line_h = text_size("0", cell_scale).height;
  const int cell_h = std::max(46, 2 * line_h + 20);
  const int name_w = widest(names, kLabelScale);
  const int name_h = text_size("Ay", kLabelScale).height;
  // Column names run vertically when the widest does not fit across a cell.
  const bool vertical_columns = name_w > cell_w - 6;
  const int col_label_h = vertical_columns ? name_w : name_h;
  const int axis_h = text_size("Ay", kLabelScale).height;
  const int title_h = title.empty() ? 0 : text_size(title, kTitleScale, 2).height + pad;
  const int bar_w = 16, bar_label_w = text_size("1.0", kTickScale).width;

  const int grid_x = pad + axis_h + pad + name_w + 8;
  const int grid_y = pad + title_h + pad;
  const int grid_w = static_cast<int>(n) * cell_w, grid_h = static_cast<int>(n) * cell_h;
  int width = grid_x + grid_w + 2 * pad + bar_w + 6 + bar_label_w + pad;
  width = std::max(width, text_size(title, kTitleScale, 2).width + 2 * pad);
  const int height = grid_y + grid_h + 8 + col_label_h + pad + axis_h + pad;
  cv::Mat img(height, width, CV_8UC3, kBackground);

  if (!title.empty()) put_text_centred(img, title, {width / 2, pad + title_h / 2}, kTitleScale, kInk, 2);
  for (size_t r = 0; r < n; ++r) {
    int64_t row_total = 0;
    for (int64_t v : counts[r]) row_total += v;
    for (size_t c = 0; c < n; ++c) {
      cv::Rect cell(grid_x + static_cast<int>(c) * cell_w, grid_y + static_cast<int>(r) * cell_h, cell_w, cell_h);
      double frac = row_total > 0 ? static_cast<double>(counts[r][c]) / row_total : 0.0;
      cv::rectangle(img, cell, heat_colour(frac), cv::FILLED);
      cv::Scalar ink = frac > 0.55 ? kBackground : kInk;
      cv::Point centre(cell.x + cell_w / 2, cell.y + cell_h / 2);
      put_text_centred(img, std::to_string(counts[r][c]), {centre.x, centre.y - line_h / 2 - 2}, cell_scale, ink,
                       r == c ? 2 : 1);
      char buf[16];
      if (row_total > 0)
        std::snprintf(buf, sizeof buf, "%.2f", frac);
      else
        std::snprintf(buf, sizeof buf, "-");
      put_text_centred(img, buf, {centre.x, centre.y + line_h / 2 + 4}, frac_scale, ink);
    }
    cv::Size sz = text_size(names[r], kLabelScale);
    put_text(img, names[r], {grid_x - 8 - sz.width, grid_y + static_cast<int>(r) * cell_h + cell_h / 2 - sz.height / 2},
             kLabelScale, kInk);
  }
  for (size_t k = 0; k <= n; ++k) {  // cell borders keep equal-coloured neighbours apart
    int x = grid_x + static_cast<int>(k) * cell_w, y = grid_y + static_cast<int>(k) * cell_h;
    cv::line(img, {x, grid_y}, {x, grid_y + grid_h}, cv::Scalar(200, 200, 200), 1);
    cv::line(img, {grid_x, y}, {grid_x + grid_w, y}, cv::Scalar(200, 200, 200), 1);
  }
  cv::rectangle(img, cv::Rect(grid_x, grid_y, grid_w + 1, grid_h + 1), kInk, 1);
  for (size_t c = 0; c < n; ++c) {
    int cx = grid_x + static_cast<int>(c) * cell_w + cell_w / 2;
    if (vertical_columns) {
      int w = text_size(names[c], kLabelScale).width;
      put_text_vertical(img, names[c], {cx, grid_y + grid_h + 8 + w / 2}, kLabelScale, kInk);
    } else {
      put_text_centred(img, names[c], {cx, grid_y + grid_h + 8 + name_h / 2}, kLabelScale, kInk);
    }
  }
  put_text_centred(img, "predicted class", {grid_x + grid_w / 2, grid_y + grid_h + 8 + col_label_h + pad + axis_h / 2},
                   kLabelScale, kInk);
  put_text_vertical(img, "true class", {pad + axis_h / 2, grid_y + grid_h / 2}, kLabelScale, kInk);

  // Colour bar: row fraction 0 (bottom) to 1 (top).
  const int bar_x = grid_x + grid_w + 2 * pad;
  for (int y = 0; y < grid_h; ++y)
    cv::line(img, {bar_x, grid_y + y}, {bar_x + bar_w - 1, grid_y + y},
             heat_colour(1.0 - static_cast<double>(y) / (grid_h - 1)), 1);
  cv::rectangle(img, cv::Rect(bar_x, grid_y, bar_w, grid_h), kInk, 1);
  const char* bar_labels[] = {"1.0", "0.5", "0.0"};
  for (int k = 0; k < 3; ++k) {
    int y = grid_y + k * (grid_h - 1) / 2;
    cv::line(img, {bar_x + bar_w, y}, {bar_x + bar_w + 3, y}, kInk, 1);
    cv::Size sz = text_size(bar_labels[k], kTickScale);
    int ty = std::clamp(y - sz.height / 2, 0, height - sz.height);
    put_text(img, bar_labels[k], {bar_x + bar_w + 6, ty}, kTickScale, kInk);
  }
  write_image(path, img);
}

// ---- scatter ------------------------------------------------------------------------------

void write_scatter_plot(const std::string& path, const std::vector<ScatterPoint>& points,
                        const LinePlotOptions& options) {
  const std::string what = "scatter plot '" + path + "'";
  require_png_path(path, "scatter plot");
  HP_CHECK(!points.empty(), InputError, what, ": no point to plot, expected at least one");
  check_size(options, what);
  Range xr, yr;
  for (const auto& p : points)
    if (finite(p.x) && finite(p.y)) {
      xr.add(p.x);
      yr.add(p.y);
    }
  // A margin so points (and their labels) do not sit on the frame, without crossing zero:
  // a latency axis running to -20 ms would read as nonsense.
  auto widen = [](Range r) {
    if (r.empty() || r.hi == r.lo) return r;
    double m = 0.08 * (r.hi - r.lo);
    Range w{r.lo - m, r.hi + m};
    if (r.lo >= 0 && w.lo < 0) w.lo = 0;
    if (r.hi <= 0 && w.hi > 0) w.hi = 0;
    return w;
  };
  cv::Mat img(options.height, options.width, CV_8UC3, kBackground);
  Frame f = draw_frame(img, options, widen(xr), widen(yr));

  const double label_scale = kTickScale;
  const int radius = 5;
  std::vector<cv::Rect> placed;
  std::vector<cv::Point> centres;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!(finite(p.x) && finite(p.y))) continue;
    cv::Point2d c = f.map(p.x, p.y);
    centres.emplace_back(static_cast<int>(std::lround(c.x)), static_cast<int>(std::lround(c.y)));
    cv::circle(img, fixed_point(c), radius << kShift, colour(i), cv::FILLED, cv::LINE_AA, kShift);
    cv::circle(img, fixed_point(c), radius << kShift, kInk, 1, cv::LINE_AA, kShift);
  }
  // Labels after all markers so a label never hides under a later point; each takes the
  // first side of its point where it overlaps no earlier label, no marker and stays inside.
  size_t k = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!(finite(p.x) && finite(p.y)) || p.label.empty()) {
      if (finite(p.x) && finite(p.y)) ++k;
      continue;
    }
    cv::Point c = centres[k++];
    std::string text = ellipsize(p.label, 40);
    cv::Size sz = text_size(text, label_scale);
    const int g = radius + 4;
    std::vector<cv::Rect> candidates = {
        {c.x + g, c.y - sz.height / 2, sz.width, sz.height},
        {c.x - g - sz.width, c.y - sz.height / 2, sz.width, sz.height},
        {c.x - sz.width / 2, c.y - g - sz.height, sz.width, sz.height},
        {c.x - sz.width / 2, c.y + g, sz.width, sz.height},
        {c.x + g, c.y - g - sz.height, sz.width, sz.height},
        {c.x + g, c.y + g, sz.width, sz.height},
        {c.x - g - sz.width, c.y - g - sz.height, sz.width, sz.height},
        {c.x - g - sz.width, c.y + g, sz.width, sz.height},
    };
    size_t best = 0;
    long best_cost = std::numeric_limits<long>::max();
    for (size_t j = 0; j < candidates.size(); ++j) {
      const cv::Rect& r = candidates[j];
      long cost = 0;
      cv::Rect inside = r & f.area;
      cost += 4L * (r.area() - inside.area());
      for (const auto& q : placed) cost += 2L * (r & q).area();
      for (const auto& m : centres)
        cost += (r & cv::Rect(m.x - radius, m.y - radius, 2 * radius + 1, 2 * radius + 1)).area();
      if (cost < best_cost) {
        best_cost = cost;
        best = j;
      }
      if (cost == 0) break;
    }
    placed.push_back(candidates[best]);
    put_text(img, text, candidates[best].tl(), label_scale, kInk);
  }
  write_image(path, img);
}

}  // namespace hemapath
