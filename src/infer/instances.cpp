#include "hemapath/infer/instances.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <queue>
#include <unordered_set>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Morphological reconstruction by dilation of `marker` under `mask` (both CV_32F):
// repeated 3x3 dilation clipped by the mask until nothing changes.
cv::Mat reconstruct(cv::Mat marker, const cv::Mat& mask) {
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
  cv::Mat dilated, next;
  for (;;) {
    cv::dilate(marker, dilated, kernel);
    cv::min(dilated, mask, next);
    if (cv::countNonZero(next != marker) == 0) return next;
    marker = next.clone();
  }
}

// Seeds of one component (CV_32S, 1..n, 0 elsewhere): h-maxima of `dist` inside `mask`,
// then merged when closer than about min_distance px. Returns n.
int find_markers(const cv::Mat& dist, const cv::Mat& mask, const InstanceOptions& o, cv::Mat& markers) {
  const float h = static_cast<float>(o.marker_height);
  constexpr float eps = 1e-3f;
  // dome = f - R(f - h): between 0 and h on the top h px of each peak; exactly h only on
  // peaks whose dynamic is at least h.
  cv::Mat lowered = dist - h;
  cv::Mat dome = dist - reconstruct(lowered, dist);
  cv::Mat caps = (dome > eps) & mask;
  cv::Mat cap_labels;
  const int n = cv::connectedComponents(caps, cap_labels, 8, CV_32S);
  std::vector<float> top(n, 0.f);
  for (int y = 0; y < dome.rows; ++y) {
    const int* l = cap_labels.ptr<int>(y);
    const float* d = dome.ptr<float>(y);
    for (int x = 0; x < dome.cols; ++x)
      if (l[x]) top[l[x]] = std::max(top[l[x]], d[x]);
  }
  std::vector<int> keep(n, 0);
  int kept = 0;
  for (int i = 1; i < n; ++i)
    if (top[i] >= h - eps) keep[i] = ++kept;
  cv::Mat seeds = cv::Mat::zeros(dist.size(), CV_8U);
  markers = cv::Mat::zeros(dist.size(), CV_32S);
  for (int y = 0; y < dome.rows; ++y) {
    const int* l = cap_labels.ptr<int>(y);
    for (int x = 0; x < dome.cols; ++x)
      if (keep[l[x]]) {
        markers.at<int>(y, x) = keep[l[x]];
        seeds.at<uchar>(y, x) = 255;
      }
  }
  if (kept < 2 || o.min_distance <= 0) return kept;
  // Growing every seed by about min_distance / 2 joins seeds closer than min_distance; the
  // seeds keep their own pixels but take the id of their joined group.
  const int size = 2 * ((o.min_distance + 1) / 2) + 1;
  cv::Mat grown, groups;
  cv::dilate(seeds, grown, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(size, size)));
  const int n_groups = cv::connectedComponents(grown, groups, 8, CV_32S) - 1;
  for (int y = 0; y < markers.rows; ++y)
    for (int x = 0; x < markers.cols; ++x)
      if (markers.at<int>(y, x)) markers.at<int>(y, x) = groups.at<int>(y, x);
  return n_groups;
}


// Splits one component (`mask`, CV_8U 0/255, with a 1-px background frame) into cells:
// CV_32S 1..n over the mask, 0 outside.
cv::Mat split_component(const cv::Mat& mask, const InstanceOptions& o) {
  cv::Mat dist;
  cv::distanceTransform(mask, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  cv::Mat markers;
  const int n = find_markers(dist, mask, o, markers);
  if (n < 2) {
    cv::Mat cells = cv::Mat::zeros(mask.size(), CV_32S);
    cells.setTo(1, mask);
    return cells;
  }
  return flood_from_markers(dist, mask, markers);
}

// Drops instances outside [min_area, max_area] and numbers the rest 1..N in raster order of
// their first pixel. `raw` holds ids 0..count-1 (0 background).
cv::Mat filter_and_number(const cv::Mat& raw, int count, const InstanceOptions& options) {
  std::vector<int64_t> area(count, 0);
  for (int y = 0; y < raw.rows; ++y)
    for (int x = 0; x < raw.cols; ++x) ++area[raw.at<int>(y, x)];
  std::vector<int> new_id(count, -1);
  new_id[0] = 0;
  int kept = 0;
  cv::Mat labels = cv::Mat::zeros(raw.size(), CV_32S);
  for (int y = 0; y < raw.rows; ++y)
    for (int x = 0; x < raw.cols; ++x) {
      const int id = raw.at<int>(y, x);
      if (new_id[id] < 0) {
        const bool keep = area[id] >= options.min_area && (options.max_area == 0 || area[id] <= options.max_area);
        new_id[id] = keep ? ++kept : 0;
      }
      labels.at<int>(y, x) = new_id[id];
    }
  return labels;
}

}  // namespace

// Background regions not 4-connected to the border become foreground. The 1-px frame lets
// one flood fill from a corner reach every border-connected background pixel.
cv::Mat fill_holes(const cv::Mat& fg) {
  cv::Mat padded;
  cv::copyMakeBorder(fg != 0, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::Mat flood = padded.clone();
  cv::floodFill(flood, cv::Point(0, 0), cv::Scalar(255), nullptr, cv::Scalar(0), cv::Scalar(0), 4);
  cv::Mat filled = padded | (flood == 0);
  return filled(cv::Rect(1, 1, fg.cols, fg.rows)).clone();
}

// Marker-controlled watershed (Meyer's priority flood) on the distance map, restricted to
// `mask`: pixels are claimed highest distance first, each by the seed whose region reaches
// it, so cells meet along the necks (saddles) between their centres and no watershed line is
// left. cv::watershed is not used here because it orders its flooding by the colour
// difference between neighbouring pixels (a gradient criterion for colour images), not by
// the relief's height: on a distance map, whose slope is ~1 px/px everywhere, one seed then
// floods around another instead of meeting it at the neck.
cv::Mat flood_from_markers(const cv::Mat& dist, const cv::Mat& mask, const cv::Mat& markers) {
  struct Item {
    float height;
    int64_t order;  // first in, first out among equal heights: regions grow evenly on plateaus
    int y, x, label;
    bool operator<(const Item& o) const { return height != o.height ? height < o.height : order > o.order; }
  };
  std::priority_queue<Item> queue;
  int64_t order = 0;
  cv::Mat cells = markers.clone();
  auto push_neighbours = [&](int y, int x, int label) {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int yy = y + dy, xx = x + dx;
        if ((dy || dx) && yy >= 0 && xx >= 0 && yy < mask.rows && xx < mask.cols && mask.at<uchar>(yy, xx) &&
            cells.at<int>(yy, xx) == 0)
          queue.push({dist.at<float>(yy, xx), order++, yy, xx, label});
      }
  };
  for (int y = 0; y < cells.rows; ++y)
    for (int x = 0; x < cells.cols; ++x)
      if (const int label = cells.at<int>(y, x); label > 0) push_neighbours(y, x, label);
  while (!queue.empty()) {
    const Item item = queue.top();
    queue.pop();
    if (cells.at<int>(item.y, item.x) != 0) continue;
    cells.at<int>(item.y, item.x) = item.label;
    push_neighbours(item.y, item.x, item.label);
  }
  return cells;
}

void validate(const InstanceOptions& o) {
  HP_CHECK(o.threshold >= 0 && o.threshold <= 1, ConfigError, "instance threshold ", o.threshold, " is outside [0, 1]");
  HP_CHECK(o.min_area >= 0, ConfigError, "instance min_area ", o.min_area, " px is negative");
  HP_CHECK(o.max_area >= 0, ConfigError, "instance max_area ", o.max_area, " px is negative (0 = no limit)");
  HP_CHECK(o.max_area == 0 || o.max_area >= o.min_area, ConfigError, "instance max_area ", o.max_area,
           " px is below min_area ", o.min_area, " px");
  HP_CHECK(o.marker_height > 0, ConfigError, "instance marker_height ", o.marker_height, " px must be positive");
  HP_CHECK(o.min_distance >= 0, ConfigError, "instance min_distance ", o.min_distance, " px is negative");
}

cv::Mat foreground_from_probability(const cv::Mat& probability, double threshold) {
  HP_CHECK(probability.channels() == 1, InputError, "probability map has ", probability.channels(),
           " channels: expected one probability per pixel");
  HP_CHECK(threshold >= 0 && threshold <= 1, ConfigError, "probability threshold ", threshold, " is outside [0, 1]");
  cv::Mat p;
  if (probability.depth() == CV_8U)
    probability.convertTo(p, CV_32F, 1.0 / 255);
  else if (probability.depth() == CV_32F || probability.depth() == CV_64F)
    probability.convertTo(p, CV_32F);
  else
    throw InputError("probability map must be CV_32F/CV_64F in [0, 1] or CV_8U scaled 0..255");
  // Compared in double so an 8-bit value of 128 against 0.5 is not decided by float rounding.
  cv::Mat fg(p.size(), CV_8U);
  for (int y = 0; y < p.rows; ++y)
    for (int x = 0; x < p.cols; ++x)
      fg.at<uchar>(y, x) = static_cast<double>(p.at<float>(y, x)) >= threshold - 1e-7 ? 255 : 0;
  return fg;
}

cv::Mat foreground_from_classes(const cv::Mat& index_map, const std::vector<int>& classes) {
  HP_CHECK(index_map.channels() == 1 &&
               (index_map.depth() == CV_8U || index_map.depth() == CV_16U || index_map.depth() == CV_32S),
           InputError, "index map must be a single-channel CV_8U, CV_16U or CV_32S class map");
  cv::Mat idx;
  index_map.convertTo(idx, CV_32S);
  const std::unordered_set<int> wanted(classes.begin(), classes.end());
  cv::Mat fg = cv::Mat::zeros(idx.size(), CV_8U);
  for (int y = 0; y < idx.rows; ++y)
    for (int x = 0; x < idx.cols; ++x) {
      const int c = idx.at<int>(y, x);
      if (classes.empty() ? c != 0 : wanted.count(c) > 0) fg.at<uchar>(y, x) = 255;
    }
  return fg;
}

cv::Mat extract_instances(const cv::Mat& foreground, const InstanceOptions& options) {
  validate(options);
  if (foreground.empty()) return cv::Mat(foreground.size(), CV_32S, cv::Scalar(0));
  HP_CHECK(foreground.channels() == 1 && foreground.depth() == CV_8U, InputError,
           "foreground mask must be single-channel CV_8U (0 = background, non-zero = foreground)");
  cv::Mat fg = foreground != 0;
  if (options.fill_holes) fg = fill_holes(fg);

  cv::Mat components, stats, centroids;
  const int n = cv::connectedComponentsWithStats(fg, components, stats, centroids, 8, CV_32S);
  cv::Mat raw = cv::Mat::zeros(fg.size(), CV_32S);  // ids 1..next-1, not yet filtered
  int next = 1;
  for (int k = 1; k < n; ++k) {
    const cv::Rect box(stats.at<int>(k, cv::CC_STAT_LEFT), stats.at<int>(k, cv::CC_STAT_TOP),
                       stats.at<int>(k, cv::CC_STAT_WIDTH), stats.at<int>(k, cv::CC_STAT_HEIGHT));
    const int area = stats.at<int>(k, cv::CC_STAT_AREA);
    const cv::Mat own = components(box) == k;
    // Pieces of a component are no larger than it, so a too-small component is dropped whole.
    if (area < options.min_area) continue;
    if (!options.watershed || area < 4) {
      raw(box).setTo(next++, own);
      continue;
    }
    // A 1-px frame so distanceTransform sees background all around the component even where
    // it touches the image border (cells cut by the border keep their peak inside).
    cv::Mat framed;
    cv::copyMakeBorder(own, framed, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    const cv::Mat cells = split_component(framed, options)(cv::Rect(1, 1, box.width, box.height));
    double pieces = 0;
    cv::minMaxLoc(cells, nullptr, &pieces);
    cv::Mat target = raw(box);
    for (int y = 0; y < box.height; ++y)
      for (int x = 0; x < box.width; ++x)
        if (const int c = cells.at<int>(y, x); c > 0) target.at<int>(y, x) = next - 1 + c;
    next += static_cast<int>(pieces);
  }

  return filter_and_number(raw, next, options);
}

cv::Mat extract_instances_from_seeds(const cv::Mat& foreground, const cv::Mat& seeds, const InstanceOptions& options) {
  validate(options);
  if (foreground.empty()) return cv::Mat(foreground.size(), CV_32S, cv::Scalar(0));
  HP_CHECK(foreground.channels() == 1 && foreground.depth() == CV_8U && seeds.type() == CV_8U &&
               seeds.size() == foreground.size(),
           InputError, "foreground and seed masks must be single-channel CV_8U of one size");
  cv::Mat fg = foreground != 0;
  if (options.fill_holes) fg = fill_holes(fg);
  // Interiors the network left joined are split as a foreground would be (distance-transform
  // markers), without the size filter: every piece seeds a cell.
  InstanceOptions seed_options = options;
  seed_options.min_area = seed_options.max_area = 0;
  seed_options.fill_holes = false;
  const cv::Mat markers = extract_instances((seeds != 0) & fg, seed_options);
  double seed_count = 0;
  cv::minMaxLoc(markers, nullptr, &seed_count);
  int next = static_cast<int>(seed_count) + 1;
  cv::Mat dist;
  cv::distanceTransform(fg, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  cv::Mat raw = flood_from_markers(dist, fg, markers);
  // Foreground no seed reached (a cell whose interior the network missed) stays one cell per component.
  cv::Mat orphans;
  const int n = cv::connectedComponents(fg & (raw == 0), orphans, 8, CV_32S);
  for (int k = 1; k < n; ++k) raw.setTo(next++, orphans == k);
  return filter_and_number(raw, next, options);
}

cv::Mat extract_instances_from_probability(const cv::Mat& probability, const InstanceOptions& options) {
  validate(options);
  return extract_instances(foreground_from_probability(probability, options.threshold), options);
}

cv::Mat extract_instances_from_classes(const cv::Mat& index_map, const std::vector<int>& classes,
                                       const InstanceOptions& options) {
  return extract_instances(foreground_from_classes(index_map, classes), options);
}

int count_instances(const cv::Mat& labels) {
  HP_CHECK(labels.channels() == 1 && (labels.depth() == CV_8U || labels.depth() == CV_16U || labels.depth() == CV_32S),
           InputError, "instance map must be a single-channel CV_8U, CV_16U or CV_32S id map");
  cv::Mat l;
  labels.convertTo(l, CV_32S);
  std::unordered_set<int> ids;
  for (int y = 0; y < l.rows; ++y)
    for (int x = 0; x < l.cols; ++x)
      if (l.at<int>(y, x)) ids.insert(l.at<int>(y, x));
  return static_cast<int>(ids.size());
}

}  // namespace hemapath
