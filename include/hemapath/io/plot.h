#pragma once
/// PNG charts drawn with OpenCV (no plotting library is available on the target systems):
/// training curves, confusion-matrix heat maps and labelled scatter plots. Every writer
/// checks its input before touching the disk and writes atomically, so a bad call leaves
/// nothing behind.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hemapath {

/// One named curve; x[i] pairs with y[i]. Points where either is NaN or infinite are
/// skipped and break the line there. An optional band (e.g. mean +- std over folds or
/// seeds) spans y_low[i]..y_high[i] at x[i]; leave both empty for none.
struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  // Default initialisers keep `{name, x, y}` initialisation free of -Wextra's
  // missing-field warnings for series without a band.
  std::vector<double> y_low = {}, y_high = {};
};

/// Title, axis labels and image size in pixels of one chart (or one panel).
struct LinePlotOptions {
  std::string title, x_label, y_label;
  int width = 900, height = 560;
};

/// The RGB colour series (or scatter point) `index` is drawn in; the palette repeats after 10.
std::array<uint8_t, 3> plot_colour(size_t index);

/// Line chart: axes with numeric tick labels at round steps (1, 2, 5 x 10^k), light grid,
/// one colour per series (plot_colour order), a legend of the named series placed in the
/// emptiest corner. A series' band is filled under all lines in its colour blended 25% over
/// what lies beneath (overlapping bands stay visible), breaking where x, y_low or y_high is
/// not finite. All series share one y axis covering every finite value, bands included.
/// Writes a PNG of options.width x options.height atomically. Throws InputError when there
/// is no series, a series' x and y sizes differ, a series has a band whose y_low or y_high
/// size differs from x's, the size is below 200 x 150 or `path` does not end in .png;
/// OutputError when writing fails.
void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const LinePlotOptions& options);

/// Stacked panels in one PNG (e.g. loss on top, a metric below), each drawn as
/// write_line_plot with its own options; the image is the widest panel's width by the sum
/// of the panel heights. Throws InputError when the panel and option counts differ, there
/// is no panel or any panel is invalid as for write_line_plot.
void write_line_plots(const std::string& path, const std::vector<std::vector<PlotSeries>>& panels,
                      const std::vector<LinePlotOptions>& options);

/// Heat map of a square count matrix (rows = truth, columns = predicted) with `labels` on
/// both axes. Each cell shows its count and its fraction of the row; its colour follows the
/// row fraction (white to dark blue, with a colour bar). The image size follows the number
/// of classes and label lengths. Throws InputError when the matrix is empty or not square,
/// has a negative count, the label count differs, or `path` does not end in .png.
void write_matrix_heatmap(const std::string& path, const std::vector<std::vector<int64_t>>& counts,
                          const std::vector<std::string>& labels, const std::string& title);

/// One scatter point and the text written beside it.
struct ScatterPoint {
  double x, y;
  std::string label;
};

/// Scatter plot (e.g. accuracy against latency per model) with each point's label beside
/// it, placed to avoid other labels. Points with a NaN or infinite coordinate are skipped.
/// Throws InputError when there is no point, the size is below 200 x 150 or `path` does
/// not end in .png.
void write_scatter_plot(const std::string& path, const std::vector<ScatterPoint>& points,
                        const LinePlotOptions& options);

}  // namespace hemapath
