#include "hemapath/data/point_labels.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "hemapath/core/error.h"

namespace hemapath {

std::vector<PointLabel> read_point_labels(const std::string& path, int num_classes) {
  std::ifstream in(path);
  HP_CHECK(in.good(), InputError, "point file '", path, "' cannot be opened");
  std::vector<PointLabel> points;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    PointLabel point;
    std::string rest;
    const bool parsed = static_cast<bool>(fields >> point.position.x >> point.position.y >> point.label);
    HP_CHECK(parsed && !(fields >> rest), InputError, "point file '", path, "' line ", number,
             ": expected 'x y class' (two coordinates and a class index), got '", line, "'");
    HP_CHECK(point.label >= 0 && point.label < num_classes, InputError, "point file '", path, "' line ", number,
             ": class ", point.label, " is outside 0..", num_classes - 1);
    HP_CHECK(point.position.x >= 0 && point.position.y >= 0, InputError, "point file '", path, "' line ", number,
             ": negative coordinate");
    points.push_back(point);
  }
  return points;
}

std::vector<std::string> read_class_list(const std::string& path) {
  std::ifstream in(path);
  HP_CHECK(in.good(), InputError, "class list '", path, "' cannot be opened");
  std::vector<std::string> names;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    line.erase(line.find_last_not_of(" \t\r") + 1);
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty()) continue;
    HP_CHECK(seen.insert(line).second, InputError, "class list '", path, "' names '", line, "' twice");
    names.push_back(line);
  }
  HP_CHECK(!names.empty(), InputError, "class list '", path, "' is empty: expected one class name per line");
  return names;
}

std::vector<PointLabel> clamp_points(std::vector<PointLabel> points, const cv::Size& size) {
  for (auto& p : points) {
    p.position.x = std::clamp(p.position.x, 0.0, size.width - 1.0);
    p.position.y = std::clamp(p.position.y, 0.0, size.height - 1.0);
  }
  return points;
}

}  // namespace hemapath
