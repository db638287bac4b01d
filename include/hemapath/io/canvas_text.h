#pragma once
/// Text on the PNG canvases hemapath draws with OpenCV (charts, contact sheets): one font, and
/// boxes measured from the top-left corner instead of putText's baseline.
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace hemapath {

constexpr int kCanvasFont = cv::FONT_HERSHEY_SIMPLEX;

/// Width and height (descender included) of `s` at `scale` and `thickness`, px.
cv::Size text_size(const std::string& s, double scale, int thickness = 1);

/// Draws `s` with its box's top-left corner at `top_left`.
void put_text(cv::Mat& img, const std::string& s, cv::Point top_left, double scale, const cv::Scalar& colour,
              int thickness = 1);

}  // namespace hemapath
