#pragma once
/// Cells marked by a point each (the Chula red-cell annotation): one text file per image,
/// one line per cell, `x y class` (pixel coordinates of the cell centre, class index into a
/// class list such as `classes.txt`).
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace hemapath {

struct PointLabel {
  cv::Point2d position;  ///< px, x right, y down
  int label = -1;        ///< index into the class list
};

/// Reads a point file. Blank lines are skipped. InputError naming the file and line when it is
/// missing, a line is not three numbers, or a class is outside 0..num_classes-1.
std::vector<PointLabel> read_point_labels(const std::string& path, int num_classes);

/// Reads a class list: one name per line (blank lines skipped). InputError naming the file
/// when it is missing, empty or repeats a name.
std::vector<std::string> read_class_list(const std::string& path);

/// The points with positions clamped into an image of `size`: annotation tools may put a
/// point on the far edge (x = width), which is still that edge's cell.
std::vector<PointLabel> clamp_points(std::vector<PointLabel> points, const cv::Size& size);

}  // namespace hemapath
