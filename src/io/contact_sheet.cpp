#include "hemapath/io/contact_sheet.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/io/canvas_text.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kInk(40, 40, 40);
const cv::Scalar kFrame(200, 200, 200);
const double kTitleScale = 0.6, kCaptionScale = 0.38;
const int kGap = 10, kMinCell = 16, kMaxCaptionLines = 3;

int text_width(const std::string& s, double scale, int thickness) { return text_size(s, scale, thickness).width; }

int line_height(double scale, int thickness) { return text_size("Ay", scale, thickness).height; }

/// `s` cut (with "...") to at most `max_width` px: putText has no clipping, and a long
/// caption would otherwise run over the neighbouring cell's.
std::string fit(const std::string& s, double scale, int thickness, int max_width) {
  if (text_width(s, scale, thickness) <= max_width) return s;
  for (size_t n = s.size(); n-- > 0;) {
    std::string cut = s.substr(0, n);
    while (!cut.empty() && cut.back() == ' ') cut.pop_back();
    cut += "...";
    if (text_width(cut, scale, thickness) <= max_width) return cut;
  }
  return "";
}

}  // namespace

void write_contact_sheet(const std::string& path, const std::vector<ContactSheetItem>& items, int columns, int cell,
                         const std::string& title) {
  require_png_path(path, "contact sheet");
  const std::string what = "contact sheet '" + path + "'";
  HP_CHECK(!items.empty(), InputError, what, ": no image to show, expected at least one");
  HP_CHECK(columns >= 1, InputError, what, ": ", columns, " columns, expected at least 1");
  HP_CHECK(cell >= kMinCell, InputError, what, ": cell size ", cell, " px is too small, expected at least ", kMinCell);
  size_t caption_lines = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const cv::Mat& m = items[i].image;
    HP_CHECK(!m.empty(), InputError, what, ": image ", i + 1, " of ", items.size(), " is empty");
    HP_CHECK(m.type() == CV_8UC3, InputError, what, ": image ", i + 1, " of ", items.size(), " has ", m.channels(),
             " channels of depth code ", m.depth(), ", expected 8-bit RGB (CV_8UC3)");
    caption_lines = std::max(caption_lines, std::min(items[i].caption.size(), size_t{kMaxCaptionLines}));
  }

  const int n = static_cast<int>(items.size());
  const int cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int caption_line_h = line_height(kCaptionScale, 1) + 3;
  // Every row reserves the most caption lines any item has, so the grid stays regular.
  const int caption_h = caption_lines == 0 ? 0 : 4 + static_cast<int>(caption_lines) * caption_line_h;
  const int row_h = cell + caption_h + kGap;
  const int title_h = title.empty() ? 0 : line_height(kTitleScale, 2) + kGap;
  const int width = kGap + cols * (cell + kGap), height = kGap + title_h + rows * row_h;
  cv::Mat sheet(height, width, CV_8UC3, kBackground);

  if (!title.empty()) {
    std::string t = fit(title, kTitleScale, 2, width - 2 * kGap);
    put_text(sheet, t, {(width - text_width(t, kTitleScale, 2)) / 2, kGap}, kTitleScale, kInk, 2);
  }
  for (int i = 0; i < n; ++i) {
    const int x0 = kGap + (i % cols) * (cell + kGap), y0 = kGap + title_h + (i / cols) * row_h;
    const cv::Mat& image = items[i].image;
    const double scale = static_cast<double>(cell) / std::max(image.cols, image.rows);
    cv::Size size(std::clamp(static_cast<int>(std::lround(image.cols * scale)), 1, cell),
                  std::clamp(static_cast<int>(std::lround(image.rows * scale)), 1, cell));
    // Enlarged small crops keep their real pixels visible instead of a blur.
    cv::Mat fitted;
    cv::resize(image, fitted, size, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
    fitted.copyTo(
        sheet(cv::Rect(x0 + (cell - size.width) / 2, y0 + (cell - size.height) / 2, size.width, size.height)));
    // A frame in the gutter marks the cell, so white-edged images still show their extent.
    cv::rectangle(sheet, cv::Rect(x0 - 1, y0 - 1, cell + 2, cell + 2), kFrame, 1);
    const auto& caption = items[i].caption;
    for (size_t l = 0; l < caption.size() && l < size_t{kMaxCaptionLines}; ++l)
      put_text(sheet, fit(caption[l], kCaptionScale, 1, cell),
               {x0, y0 + cell + 4 + static_cast<int>(l) * caption_line_h}, kCaptionScale, kInk);
  }
  write_image(path, sheet);
}

}  // namespace hemapath
