// TileGrid: the keep rectangles partition the grid exactly, tiles overlap as asked, the
// tissue filter drops empty tiles, and context patches share the tile's centre.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/data/tile_grid.h"

namespace hemapath {
namespace {

struct GridCase {
  int64_t width, height;
  double slide_mpp, mpp;
  int tile, overlap;
};

class TileGridCoverage : public ::testing::TestWithParam<GridCase> {};

TEST_P(TileGridCoverage, KeepRectanglesPartitionTheGridAndLieInsideTheirTiles) {
  const GridCase c = GetParam();
  TileGridOptions o;
  o.mpp = c.mpp;
  o.tile_size = c.tile;
  o.overlap = c.overlap;
  const TileGrid grid(c.width, c.height, c.slide_mpp, o);
  EXPECT_NEAR(grid.downsample(), c.mpp / c.slide_mpp, 1e-12);
  EXPECT_EQ(grid.width(), std::lround(c.width / grid.downsample()));
  ASSERT_EQ(static_cast<int>(grid.tiles().size()), grid.cols() * grid.rows());
  cv::Mat covered(grid.height(), grid.width(), CV_32S, cv::Scalar(0));
  for (const Tile& t : grid.tiles()) {
    ASSERT_EQ(t.index, int64_t{t.row} * grid.cols() + t.col);
    EXPECT_EQ(t.rect.size(), cv::Size(c.tile, c.tile));
    EXPECT_EQ(t.rect & t.keep, t.keep) << "keep must lie inside its tile";
    // Away from the slide's own edges the keep rectangle is overlap/2 inside the tile.
    if (t.col > 0) {
      EXPECT_EQ(t.keep.x - t.rect.x, c.overlap / 2);
    }
    if (t.col < grid.cols() - 1) {
      EXPECT_EQ(t.rect.br().x - t.keep.br().x, c.overlap / 2);
    }
    if (t.row > 0) {
      EXPECT_EQ(t.keep.y - t.rect.y, c.overlap / 2);
    }
    // Neighbours are tile - overlap apart.
    EXPECT_EQ(t.rect.x, t.col * (c.tile - c.overlap));
    EXPECT_NEAR(t.x0, t.rect.x * grid.downsample(), 1e-9);
    covered(t.keep) += 1;
  }
  double lo = 0, hi = 0;
  cv::minMaxLoc(covered, &lo, &hi);
  EXPECT_EQ(lo, 1) << "every grid px is kept by exactly one tile";
  EXPECT_EQ(hi, 1);
  // The last tiles reach the far edge.
  EXPECT_GE(grid.tile(grid.cols() - 1, 0).rect.br().x, grid.width());
  EXPECT_GE(grid.tile(0, grid.rows() - 1).rect.br().y, grid.height());
  // One tile fewer would not.
  if (grid.cols() > 1) {
    EXPECT_LT(grid.tile(grid.cols() - 2, 0).rect.br().x, grid.width());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, TileGridCoverage,
                         ::testing::Values(GridCase{1000, 700, 0.25, 0.5, 128, 32, },  // 500 x 350 grid px
                                           GridCase{300, 250, 1.0, 1.0, 64, 0},
                                           GridCase{300, 250, 1.0, 1.0, 512, 64},  // one tile larger than the slide
                                           GridCase{4000, 3000, 0.5, 2.0, 96, 16},
                                           GridCase{2220, 2967, 0.499, 0.5, 256, 64}));

TEST(TileGrid, CountsTilesFromSizeAndOverlap) {
  TileGridOptions o;
  o.mpp = 1;
  o.tile_size = 100;
  o.overlap = 20;
  // 340 px: starts 0, 80, 160, 240 (240 + 100 = 340 reaches the end).
  EXPECT_EQ(TileGrid(340, 100, 1, o).cols(), 4);
  EXPECT_EQ(TileGrid(341, 100, 1, o).cols(), 5);
  EXPECT_EQ(TileGrid(100, 100, 1, o).cols(), 1);
}

TEST(TileGrid, TissueFilterKeepsOnlyTilesOverTissue) {
  // A 1000 x 1000 px slide whose mask (at downsample 10) has tissue in its left half only.
  cv::Mat mask(100, 100, CV_8U, cv::Scalar(0));
  mask(cv::Rect(0, 0, 50, 100)).setTo(255);
  TileGridOptions o;
  o.mpp = 1;
  o.tile_size = 250;
  o.min_tissue = 0.5;
  const TileGrid grid(1000, 1000, 1, o, TissueMap{mask, 10});
  ASSERT_EQ(grid.cols() * grid.rows(), 16);
  ASSERT_EQ(grid.tiles().size(), 8u);
  for (const Tile& t : grid.tiles()) {
    EXPECT_LT(t.col, 2);
    EXPECT_DOUBLE_EQ(t.tissue, 1.0);
  }
  o.min_tissue = 0;  // 0 keeps all, whatever the mask says
  EXPECT_EQ(TileGrid(1000, 1000, 1, o, TissueMap{mask, 10}).tiles().size(), 16u);
}

TEST(TileGrid, EdgeTilesAreJudgedByThePartTheyOwn) {
  // Tissue only in the slide's last 100 px columns: the last tile reaches 200 px past the slide,
  // but the part it owns is all tissue.
  cv::Mat mask(100, 100, CV_8U, cv::Scalar(0));
  mask(cv::Rect(90, 0, 10, 100)).setTo(255);
  TileGridOptions o;
  o.mpp = 1;
  o.tile_size = 300;
  o.min_tissue = 0.5;
  const TileGrid grid(1000, 1000, 1, o, TissueMap{mask, 10});
  ASSERT_EQ(grid.cols(), 4);
  ASSERT_EQ(grid.tiles().size(), 4u);
  for (const Tile& t : grid.tiles()) {
    EXPECT_EQ(t.col, 3);
    EXPECT_EQ(t.keep.width, 100);
    EXPECT_DOUBLE_EQ(t.tissue, 1.0);
  }
}

TEST(TileGrid, ContextPatchSharesTheTileCentre) {
  TileGridOptions o;
  o.mpp = 0.5;
  o.tile_size = 256;
  const TileGrid grid(10000, 10000, 0.25, o);
  const Tile t = grid.tile(3, 2);
  // 256 px at 2 um/px = 2048 level-0 px at 0.25 um/px; the tile is 512 level-0 px wide.
  const cv::Point2d origin = grid.context_origin(t, 256, 2.0);
  EXPECT_NEAR(origin.x + 1024, t.x0 + 256, 1e-9);
  EXPECT_NEAR(origin.y + 1024, t.y0 + 256, 1e-9);
}

TEST(TileGrid, BadOptionsNameTheFlag) {
  TileGridOptions o;
  o.tile_size = 64;
  o.overlap = 64;
  try {
    TileGrid(100, 100, 1, o);
    FAIL() << "overlap == size must be rejected";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--overlap"), std::string::npos) << e.what();
  }
  o.overlap = 3;
  EXPECT_THROW(TileGrid(100, 100, 1, o), ConfigError);  // odd overlap cannot split in halves
  o.overlap = 0;
  o.mpp = 0;
  EXPECT_THROW(TileGrid(100, 100, 1, o), ConfigError);
  o.mpp = 1;
  EXPECT_THROW(TileGrid(0, 100, 1, o), InputError);
  EXPECT_THROW(TileGrid(100, 100, 1, o).tile(5, 0), InputError);
}

}  // namespace
}  // namespace hemapath
