#pragma once
/// Contact sheets: many images (crops, tiles, predictions) side by side in one PNG with a
/// caption under each, for looking over a data set or a model's mistakes at a glance.
/// Like the charts in plot.h, the input is checked before touching the disk and the PNG is
/// written atomically, so a bad call leaves nothing behind.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace hemapath {

/// One image of a contact sheet and the caption lines drawn under it.
struct ContactSheetItem {
  cv::Mat image;                     ///< RGB, CV_8UC3
  std::vector<std::string> caption;  ///< lines past the third are dropped
};

/// Writes a grid of `items` (each RGB CV_8UC3 image resized to fit a `cell` x `cell` px
/// square, aspect kept, centred on white), `columns` per row (fewer when there are fewer
/// items), captions (small text, up to 3 lines, clipped to the cell width) under each, an
/// optional title line at the top (clipped to the sheet width), to PNG `path` atomically.
/// Cells sit 10 px apart and 10 px from the edges, so the width is 10 + c * (cell + 10)
/// for c columns; every row is equally tall. Throws InputError when items is empty, an
/// image is empty or not CV_8UC3, columns < 1, cell < 16, or path does not end in .png;
/// OutputError when writing fails.
void write_contact_sheet(const std::string& path, const std::vector<ContactSheetItem>& items, int columns, int cell,
                         const std::string& title);

}  // namespace hemapath
