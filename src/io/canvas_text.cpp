#include "hemapath/io/canvas_text.h"

namespace hemapath {

cv::Size text_size(const std::string& s, double scale, int thickness) {
  int baseline = 0;
  const cv::Size sz = cv::getTextSize(s, kCanvasFont, scale, thickness, &baseline);
  return {sz.width, sz.height + baseline};
}

void put_text(cv::Mat& img, const std::string& s, cv::Point top_left, double scale, const cv::Scalar& colour,
              int thickness) {
  int baseline = 0;
  const cv::Size sz = cv::getTextSize(s, kCanvasFont, scale, thickness, &baseline);
  cv::putText(img, s, {top_left.x, top_left.y + sz.height}, kCanvasFont, scale, colour, thickness, cv::LINE_AA);
}

}  // namespace hemapath
